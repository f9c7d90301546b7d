"""Account security: a fresh session on login, logout and password
changes that end every copy of a session or remember-me cookie server-side,
password rules (≥ 12 characters, ≤ 128, no composition rules, no common
password), and admin pages that want a recent login."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.models import LoginSession, User
DEMO_PASSWORD = "opsroom-demo"  # opsroom.demo.data.DEMO_PASSWORD, README, Makefile
from opsroom.services.park import users
from opsroom.services.errors import ValidationFailed
from tests.support.factories import PASSWORD
from tests.support.pages import csrf_from, login, logout

SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"


def cookie(client, name):
    found = client.get_cookie(name)
    return found.value if found is not None else None


def fresh_client(app, **cookies):
    """Another browser that carries only the given cookies (a thief's, say)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def logged_in(client) -> bool:
    r = client.get("/rooms/")
    return r.status_code == 200


def path_of(response) -> str:
    return urlsplit(response.headers["Location"]).path


# ---------------------------------------------------------------------------
# Session fixation and server-side logout


def test_login_issues_a_new_session_and_the_old_cookie_stays_anonymous(app, client, make):
    """The pre-login cookie (which an attacker could have planted) gets no login:
    after login the browser holds a different cookie and a different CSRF token,
    and replaying the pre-login cookie is anonymous."""
    user = make.user("coordinator")
    page = client.get("/login")
    before_cookie, before_csrf = cookie(client, SESSION_COOKIE), csrf_from(page.get_data(as_text=True))
    assert before_cookie
    assert login(client, user.email).status_code == 302
    after_cookie = cookie(client, SESSION_COOKIE)
    assert after_cookie and after_cookie != before_cookie
    assert csrf_from(client.get("/account/tokens").get_data(as_text=True)) != before_csrf
    assert not logged_in(fresh_client(app, session=before_cookie))
    assert logged_in(fresh_client(app, session=after_cookie))  # the test can tell the two apart


def test_each_login_is_a_server_side_row_keyed_by_a_hash(app, client, make, db_session):
    """A login is a LoginSession row; the cookie's key is stored only as its SHA-256."""
    user = make.user("manager")
    login(client, user.email)
    rows = db_session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user.id)).all()
    assert len(rows) == 1 and len(rows[0].key_hash) == 64
    assert rows[0].key_hash not in (cookie(client, SESSION_COOKIE) or "")


def test_replaying_the_session_cookie_after_logout_is_not_logged_in(app, client, make, db_session):
    """Logout deletes the login server-side: a copy of the cookie taken before
    (a stolen one) is anonymous afterwards, although it is still validly signed."""
    user = make.user("coordinator")
    login(client, user.email)
    stolen = cookie(client, SESSION_COOKIE)
    assert logged_in(fresh_client(app, session=stolen))
    assert logout(client).status_code == 302
    thief = fresh_client(app, session=stolen)
    r = thief.get("/rooms/")
    assert r.status_code == 302 and path_of(r) == "/login"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(LoginSession)
                             .where(LoginSession.user_id == user.id)) == 0


def test_remember_me_cookie_dies_with_the_logout(app, client, make):
    """A remember-me cookie logs a new browser in while its login lives, and not after logout."""
    user = make.user("coordinator")
    login(client, user.email, remember=True)
    remembered = cookie(client, REMEMBER_COOKIE)
    assert remembered
    assert logged_in(fresh_client(app, remember_token=remembered))
    logout(client)
    assert not logged_in(fresh_client(app, remember_token=remembered))


def test_logout_ends_only_that_login(app, make):
    """Two browsers logged in: logging out of one leaves the other logged in."""
    user = make.user("coordinator")
    phone, desk = app.test_client(), app.test_client()
    login(phone, user.email)
    login(desk, user.email)
    logout(phone)
    assert not logged_in(phone) and logged_in(desk)


def test_cookies_of_deactivated_users_stop_working(app, client, make, db_session):
    user = make.user("coordinator")
    login(client, user.email)
    user.active = False
    db_session.commit()
    assert not logged_in(client)


def test_a_cookie_without_a_login_key_is_anonymous(app, client, make):
    """A signed session naming a user id alone (as older cookies did) is not a login."""
    user = make.user("admin")
    with client.session_transaction() as s:
        s["_user_id"] = str(user.id)
        s["_fresh"] = True
    assert not logged_in(client)


# ---------------------------------------------------------------------------
# Password rules


@pytest.mark.parametrize("password", [
    PASSWORD, DEMO_PASSWORD, "x" * 11 + "y", "长城上的月亮照着我们两个", "🦊🦊🦊🦊🦊🦊🦊🦊🦊🦊🦊🐻",
    "all lowercase words here", "a" * 64 + "b" * 64,
], ids=["test-password", "demo-password", "12-chars", "chinese", "emoji", "no-composition", "128-chars"])
def test_passwords_that_pass(password):
    """Length 12 to 128 and not common: accepted, with no composition rules."""
    assert users.password_problem(password) is None


@pytest.mark.parametrize("password,needle", [
    ("", "at least 12"), ("elevenchars", "at least 12"), ("a" * 129, "at most 128"),
    ("qwerty123456", "too common"), ("QWERTY123456", "too common"), ("1q2w3e4r5t6y", "too common"),
    ("password1234", None), ("zzzzzzzzzzzzzzzz", "too common"), ("twelve chars\x00", "NUL"),
], ids=["empty", "11-chars", "129-chars", "common", "common-upper", "common-2", "maybe-common", "one-char",
        "nul"])
def test_passwords_that_are_refused(password, needle):
    """Too short, too long, on the common list (any case), one repeated character, or a NUL: refused."""
    problem = users.password_problem(password)
    if needle is None:  # the list decides; only check it answers consistently
        assert users.password_problem(password) == problem
        return
    assert problem is not None and needle in str(problem)


def test_common_list_is_shipped_and_large():
    """The shipped list is read from the repository (opsroom/data) and has ~20,000 entries."""
    common = users._common_passwords()
    assert len(common) > 19000
    assert "123456" in common and "password" in common


def test_create_user_refuses_a_common_password(db_session):
    with pytest.raises(ValidationFailed) as exc:
        users.create_user(db_session, email="weak@test.example", role="manager", password="qwerty123456")
    assert exc.value.details[0]["field"] == "password"
    assert db_session.scalar(sa.select(User).where(User.email == "weak@test.example")) is None


def test_cli_create_user_refuses_a_common_password(app):
    result = app.test_cli_runner().invoke(args=["create-user", "weak@test.example", "--role", "admin",
                                                "--password", "1qaz2wsx3edc"])
    assert result.exit_code != 0 and "password" in result.output.lower()


# ---------------------------------------------------------------------------
# Changing one's password


def change(client, current, new, confirm=None, **kw):
    en = {"Accept-Language": "en"}
    token = csrf_from(client.get("/account/password", headers=en).get_data(as_text=True))
    return client.post("/account/password", data={
        "csrf_token": token, "current_password": current, "new_password": new,
        "confirm": new if confirm is None else confirm}, headers=en, **kw)


@pytest.mark.parametrize("current,new,confirm,needle", [
    ("wrong password!!", "a fine new passphrase", None, "Wrong password."),
    (PASSWORD, "short", None, "at least 12"),
    (PASSWORD, "qwerty123456", None, "too common"),
    (PASSWORD, "a fine new passphrase", "a different one!!", "differ"),
], ids=["wrong-current", "short", "common", "mismatch"])
def test_password_change_refusals_reshow_the_form(app, client, make, db_session, current, new, confirm, needle):
    """A refused change answers 422 with the field's message; the password stays."""
    user = make.user("coordinator")
    login(client, user.email)
    r = change(client, current, new, confirm)
    assert r.status_code == 422, r.status_code
    assert needle in r.get_data(as_text=True)
    db_session.refresh(user)
    assert users.authenticate(db_session, user.email, PASSWORD, ip="198.51.100.1")


def test_password_change_ends_every_other_login(app, client, make, db_session):
    """After a change, the new password logs in, the old does not, this browser
    stays logged in, and every other copy of the account's cookies is anonymous."""
    user = make.user("coordinator")
    other = app.test_client()
    login(other, user.email, remember=True)
    stolen_session, stolen_remember = cookie(other, SESSION_COOKIE), cookie(other, REMEMBER_COOKIE)
    login(client, user.email)
    r = change(client, PASSWORD, "a fine new passphrase")
    assert r.status_code == 302
    assert logged_in(client)
    assert not logged_in(other)
    assert not logged_in(fresh_client(app, session=stolen_session))
    assert not logged_in(fresh_client(app, remember_token=stolen_remember))
    assert login(app.test_client(), user.email, PASSWORD, ip="198.51.100.2").status_code == 401
    assert login(app.test_client(), user.email, "a fine new passphrase").status_code == 302


# ---------------------------------------------------------------------------
# Recent login for admin pages


def reauth(client, password, next_="/admin/operations", **kw):
    page = client.get(f"/reauth?next={next_}", **kw)
    return client.post("/reauth", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                        "password": password, "next": next_}, **kw)


def test_admin_pages_open_right_after_login_and_ask_again_after_15_minutes(app, client, make):
    """Within REAUTH_MAX_AGE_MINUTES of typing the password the admin pages open;
    later they send to the re-authentication page with a safe `next`, and after
    the password the admin is back on the page."""
    admin = make.user("admin")
    login(client, admin.email)
    assert client.get("/admin/operations").status_code == 200
    assert client.get("/screen/tokens").status_code == 200
    clock.advance(timedelta(minutes=app.config["REAUTH_MAX_AGE_MINUTES"], seconds=1))
    for page in ("/admin/operations", "/screen/tokens"):
        r = client.get(page)
        assert r.status_code == 302 and path_of(r) == "/reauth"
        assert parse_qs(urlsplit(r.headers["Location"]).query)["next"] == [page]
    assert client.get("/rooms/").status_code == 200  # ordinary pages need no new password
    r = reauth(client, PASSWORD)
    assert r.status_code == 302 and path_of(r) == "/admin/operations"
    assert client.get("/admin/operations").status_code == 200
    assert client.get("/screen/tokens").status_code == 200


def test_a_stale_admin_action_is_not_done_and_asks_for_the_password(app, client, make, db_session):
    """A POST to an admin action with a stale login does nothing and goes to the
    re-authentication page, whose `next` is the page the form was on."""
    from opsroom.models import ScreenToken

    admin = make.user("admin")
    login(client, admin.email)
    page = client.get("/screen/tokens").get_data(as_text=True)
    clock.advance(timedelta(minutes=30))
    r = client.post("/screen/tokens", data={"csrf_token": csrf_from(page), "label": "hall"},
                    headers={"Referer": "http://localhost/screen/tokens"})
    assert r.status_code == 302 and path_of(r) == "/reauth"
    assert parse_qs(urlsplit(r.headers["Location"]).query)["next"] == ["/screen/tokens"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ScreenToken)) == 0


def test_a_stale_login_cannot_mint_an_api_token(app, client, make, db_session):
    """An API token outlives the browser session, so a stolen session cookie must
    not be able to turn itself into one: the token page asks for the password
    again after REAUTH_MAX_AGE_MINUTES, for every role, and nothing is created."""
    from opsroom.models import ApiToken

    coordinator = make.user("coordinator")
    login(client, coordinator.email)
    page = client.get("/account/tokens")
    assert page.status_code == 200
    clock.advance(timedelta(minutes=app.config["REAUTH_MAX_AGE_MINUTES"], seconds=1))
    r = client.post("/account/tokens", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "label": "x"},
                    headers={"Referer": "http://localhost/account/tokens"})
    assert r.status_code == 302 and path_of(r) == "/reauth"
    assert parse_qs(urlsplit(r.headers["Location"]).query)["next"] == ["/account/tokens"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    assert path_of(client.get("/account/tokens")) == "/reauth"
    r = reauth(client, PASSWORD, next_="/account/tokens")
    assert r.status_code == 302 and path_of(r) == "/account/tokens"
    assert client.get("/account/tokens").status_code == 200


def test_reauth_refuses_wrong_passwords_unsafe_next_and_missing_csrf(app, client, make):
    admin = make.user("admin")
    login(client, admin.email)
    clock.advance(timedelta(hours=1))
    assert reauth(client, "not my password").status_code == 401
    assert client.get("/admin/operations").status_code == 302
    r = reauth(client, PASSWORD, next_="//evil.example/x")
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).netloc in ("", "localhost")
    assert path_of(r) == "/"
    assert client.post("/reauth", data={"password": PASSWORD}).status_code == 400


def test_reauth_is_throttled_like_the_login(app, client, make):
    """Wrong passwords on the re-authentication page count as login failures: after the limit, 429."""
    admin = make.user("admin")
    login(client, admin.email)
    clock.advance(timedelta(hours=1))
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert reauth(client, "not my password").status_code == 401
    assert reauth(client, PASSWORD).status_code == 429
    assert client.get("/admin/operations").status_code == 302


def test_remembered_login_must_type_the_password_for_admin_pages(app, client, make):
    """A browser logged in by its remember-me cookie a day later is not a recent login."""
    admin = make.user("admin")
    login(client, admin.email, remember=True)
    other = fresh_client(app, remember_token=cookie(client, REMEMBER_COOKIE))
    clock.advance(timedelta(days=1))
    assert logged_in(other)
    r = other.get("/admin/operations")
    assert r.status_code == 302 and path_of(r) == "/reauth"


@pytest.mark.parametrize("role", ["manager", "coordinator", "anchor"])
def test_other_roles_still_get_403_not_the_password_page(client, make, role):
    user = make.user(role)
    login(client, user.email)
    clock.advance(timedelta(hours=1))
    assert client.get("/admin/operations").status_code == 403


def test_login_throttling_still_holds(app, client, make):
    user = make.user("coordinator")
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        login(client, user.email, "wrong password!", ip=f"10.9.0.{i + 1}")
    assert login(client, user.email, ip="10.9.0.99").status_code == 429
