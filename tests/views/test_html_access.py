"""Who may open which HTML page, CSRF on every POST, and the strict
Content-Security-Policy (no inline script or style anywhere).

The tenant role is an account of the world's tenant: the world's booking is its own
(another tenant's booking is the 404 page: test_a_tenants_account_gets_404_for_another_tenants_pages).

The table below is the explicit expectation for each page × role; pages added
since (not in the table) are still walked: they must need a login and never
answer 5xx.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from config import TestConfig
from opsroom import create_app
from tests.conftest import at
from tests.support import ROOT
from tests.support.pages import assert_no_inline_code, csrf_from

ROLES = ("admin", "manager", "coordinator", "anchor", "tenant")
WHO = ("anonymous",) + ROLES

OK, LOGIN, FORBIDDEN = 200, "login", 403


def _row(admin, manager, coordinator, anchor, anonymous=LOGIN, tenant=FORBIDDEN):
    return {"anonymous": anonymous, "admin": admin, "manager": manager, "coordinator": coordinator, "anchor": anchor,
            "tenant": tenant}


EVERYONE = _row(OK, OK, OK, OK, tenant=OK)
MANAGEMENT = _row(OK, OK, FORBIDDEN, FORBIDDEN)
STAFF = _row(OK, OK, OK, FORBIDDEN)
STAFF_AND_TENANT = _row(OK, OK, OK, FORBIDDEN, tenant=OK)  # a tenant's account: its own objects only
ANCHOR_ONLY = _row(FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
TENANT_ONLY = _row(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, tenant=OK)

# path → expected per role: 200, 403, "login" (302 to /login), or ("redirect", path).
PAGES = {
    "/": _row(("redirect", "/board/"), ("redirect", "/board/"), ("redirect", "/board/"),
              ("redirect", "/me/schedule"), tenant=("redirect", "/tenant/")),
    "/rooms/": EVERYONE,
    "/rooms/new": MANAGEMENT,
    "/rooms/zones": MANAGEMENT,
    "/rooms/{room}": EVERYONE,
    "/rooms/{room}/edit": MANAGEMENT,
    "/tenants/": STAFF,
    "/tenants/new": STAFF,
    "/tenants/{tenant}/edit": STAFF,
    "/board/": STAFF_AND_TENANT,  # a tenant: other tenants' bookings as busy blocks
    "/board/rooms/{room}": STAFF_AND_TENANT,
    "/bookings/new": STAFF,
    "/bookings/{booking}": STAFF_AND_TENANT,
    "/bookings/{booking}/edit": STAFF,
    "/account/tokens": EVERYONE,
    "/login": _row(("redirect", "/"), ("redirect", "/"), ("redirect", "/"), ("redirect", "/"), anonymous=OK,
                   tenant=("redirect", "/")),
    "/me/schedule": ANCHOR_ONLY,
    # The world's booking has no anchor assigned: not this anchor's session either.
    "/me/sessions/{booking}": _row(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    # What a tenant's account sees of its own: products, orders, its report, its home.
    "/products/": STAFF_AND_TENANT,
    "/products/new": STAFF_AND_TENANT,
    "/products/import": STAFF_AND_TENANT,
    "/bookings/{booking}/runsheet": STAFF_AND_TENANT,
    "/orders/list": STAFF_AND_TENANT,
    "/reports/": _row(OK, OK, FORBIDDEN, FORBIDDEN, tenant=OK),
    "/tenant/": TENANT_ONLY,
    "/tenant/board": TENANT_ONLY,
}
CASES = [(path, who) for path in PAGES for who in WHO]

# Outside the walk: static files (and the icon), the JSON API, the token-addressed calendar feed.
UNWALKED_PREFIXES = ("/static/", "/api/", "/calendar/", "/favicon.ico")  # the icon: a static file


def _route_map():
    """The HTML rules of a real app, read once at collection."""
    app = create_app(TestConfig, DATABASE_URL="sqlite://")
    rules = [r for r in app.url_map.iter_rules() if not r.rule.startswith(UNWALKED_PREFIXES)]
    app.extensions["opsroom.engine"].dispose()
    return rules


RULES = _route_map()
POST_RULES = sorted({r.rule for r in RULES if "POST" in r.methods})
GET_RULES = sorted({r.rule for r in RULES if "GET" in r.methods})
CONVERTERS = {r.rule: r._converters for r in RULES}


def _template_path(rule: str) -> str:
    """/rooms/<int:room_id>/edit → /rooms/{room}/edit (the table's spelling)."""
    return re.sub(r"<(?:[^:>]+:)?([a-z_]+?)(?:_id)?>", r"{\1}", rule)


def fill(rule: str, world) -> str:
    """A concrete URL for a rule: the world's ids, any other int → 1, an `any()` → its first choice."""
    def value(match):
        name = match.group(1)
        conv = CONVERTERS[rule][name]
        if isinstance(conv, AnyConverter):
            return sorted(conv.items)[0]
        if isinstance(conv, IntegerConverter):
            return str(world["ids"].get(name.removesuffix("_id"), 1))
        return "x"

    return re.sub(r"<(?:[^:>]+:)?(?:[^>]*:)?([a-z_]+)>", value, rule)


@pytest.fixture
def world(make, db_session):
    room = make.room(code="A101")
    tenant = make.tenant(name="西柳服装")
    booking = make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    blackout = make.blackout(room, starts_at=at(4, 9), ends_at=at(4, 10))
    return {"room": room, "tenant": tenant, "booking": booking, "blackout": blackout,
            "ids": {"room": room.id, "tenant": tenant.id, "booking": booking.id, "blackout": blackout.id}}


@pytest.fixture
def login_as(make, auth, world):
    """login_as(role) → the logged-in user (the `client` carries the session); a
    tenant's account is the world tenant's."""

    def login(role: str):
        user = make.user(role, **({"tenant_id": world["tenant"].id} if role == "tenant" else {}))
        r = auth.login(user.email)
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
        return user

    return login


# ---------------------------------------------------------------------------
# GET: the explicit table


@pytest.mark.parametrize("path,who", CASES, ids=[f"{p}-{w}" for p, w in CASES])
def test_page_access_by_role(client, world, login_as, path, who):
    """Each page answers each role as the table says: 200, 403, or a redirect (anonymous → /login?next=)."""
    if who != "anonymous":
        login_as(who)
    url = path.format(**world["ids"])
    r = client.get(url)
    expected = PAGES[path][who]
    if expected == LOGIN:
        assert r.status_code == 302, (url, r.status_code)
        target = urlsplit(r.headers["Location"])
        assert target.path == "/login"
        assert "next=" in target.query
    elif isinstance(expected, tuple):
        assert r.status_code == 302, (url, r.status_code)
        assert urlsplit(r.headers["Location"]).path == expected[1]
    else:
        assert r.status_code == expected, (url, who, r.status_code)
    if r.status_code in (200, 403):
        assert r.mimetype == "text/html"
        assert_no_inline_code(r.get_data(as_text=True), url)


def test_table_covers_the_pages_of_the_brief():
    """Every page named in the table exists as a GET route (so the table cannot silently go stale)."""
    known = {_template_path(rule) for rule in GET_RULES}
    missing = [p for p in PAGES if p not in known]
    assert not missing, missing


OTHER_GET = [rule for rule in GET_RULES if _template_path(rule) not in PAGES]


@pytest.mark.parametrize("rule", OTHER_GET or ["<none>"])
def test_other_pages_need_login_and_never_fail(app, client, world, make, rule):
    """Pages outside the table still redirect anonymous visitors to /login and answer every role below 500,
    without inline code."""
    from tests.conftest import Auth

    if rule == "<none>":
        pytest.skip("every GET page is in the table")
    url = fill(rule, world)
    r = client.get(url)
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/login", (url, r.status_code)
    for role in ROLES:
        browser = app.test_client()
        assert Auth(browser).login(make.user(role).email).status_code == 302
        r = browser.get(url)
        assert r.status_code < 500, (url, role, r.status_code)
        if r.mimetype == "text/html":
            assert_no_inline_code(r.get_data(as_text=True), f"{url} as {role}")


@pytest.mark.parametrize("path", ["/rooms/999999", "/rooms/999999/edit", "/tenants/999999/edit", "/board/rooms/999999",
                                  "/bookings/999999", "/bookings/999999/edit", "/rooms/99999999999999999999",
                                  "/bookings/2147483648", "/no-such-page"])
def test_unknown_object_is_404_page(client, login_as, path):
    """An id that names nothing (even past 64 bits) is the 404 page, not a 500."""
    login_as("admin")
    r = client.get(path)
    assert r.status_code == 404 and r.mimetype == "text/html"


@pytest.mark.parametrize("query,status", [
    ("date=2026-02-30", 400), ("date=yesterday", 400), ("date=0001-01-01", 400),
    ("zone=%00", 400), ("kind=x" * 50, 200),
])
def test_board_query_noise_never_fails(client, login_as, query, status):
    """A date that is not one, or a NUL in a filter, is a 400; a filter that matches nothing shows an empty board."""
    login_as("coordinator")
    assert client.get(f"/board/?{query}").status_code == status


# ---------------------------------------------------------------------------
# POST: CSRF


@pytest.mark.parametrize("rule", POST_RULES)
def test_post_without_csrf_token_is_400(client, world, login_as, rule):
    """Every POST route refuses a request without a CSRF token (400), even from a logged-in admin."""
    login_as("admin")
    r = client.post(fill(rule, world), data={"name": "x", "locale": "en", "email": "a@b.c", "password": "x"})
    assert r.status_code == 400, (rule, r.status_code)


@pytest.mark.parametrize("rule", POST_RULES)
def test_post_with_forged_csrf_token_is_400(client, world, login_as, rule):
    """A made-up CSRF token is refused the same way."""
    login_as("admin")
    r = client.post(fill(rule, world), data={"csrf_token": "forged.token.value", "name": "x"})
    assert r.status_code == 400, (rule, r.status_code)


def test_csrf_token_of_another_session_is_400(app, client, world, login_as, make, auth):
    """A token taken from another browser's session does not work in this one."""
    other = app.test_client()
    foreign = csrf_from(other.get("/login").get_data(as_text=True))
    login_as("admin")
    r = client.post("/tenants/new", data={"csrf_token": foreign, "name": "偷偷创建", "status": "active"})
    assert r.status_code == 400
    assert "偷偷创建" not in client.get("/tenants/").get_data(as_text=True)


def test_csrf_less_post_changes_nothing(client, world, login_as):
    """A refused POST has no effect: the tenant is not created."""
    login_as("admin")
    client.post("/tenants/new", data={"name": "跨站商家", "status": "active"})
    assert "跨站商家" not in client.get("/tenants/").get_data(as_text=True)


def test_post_with_csrf_token_works(client, world, login_as, auth):
    """With the page's CSRF token a form POST goes through (tenant created, redirect), and logout works."""
    login_as("coordinator")
    token = auth.csrf("/tenants/new")
    r = client.post("/tenants/new", data={"csrf_token": token, "name": "鞍山南果梨合作社", "status": "active"})
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/tenants/"
    assert "鞍山南果梨合作社" in client.get("/tenants/").get_data(as_text=True)
    r = client.post("/logout", data={"csrf_token": auth.csrf("/tenants/")})
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/login"
    assert urlsplit(client.get("/tenants/").headers["Location"]).path == "/login"


def test_blackout_form_posts_with_csrf(client, world, login_as, auth):
    """The room page's blackout form works with its token (manager)."""
    login_as("manager")
    room_id = world["ids"]["room"]
    token = auth.csrf(f"/rooms/{room_id}")
    r = client.post(f"/rooms/{room_id}/blackouts", data={"csrf_token": token, "starts_at": "2026-11-25T09:00",
                                                         "ends_at": "2026-11-25T11:00", "reason": "空调维修"})
    assert r.status_code == 302
    assert "空调维修" in client.get(f"/rooms/{room_id}").get_data(as_text=True)


def test_wrong_role_post_is_403_even_with_token(client, world, login_as, auth):
    """A coordinator may not create rooms by posting the form directly."""
    login_as("coordinator")
    token = auth.csrf("/rooms/")
    r = client.post("/rooms/new", data={"csrf_token": token, "code": "Z999", "name": "偷建", "open_time": "08:00",
                                        "close_time": "22:00"})
    assert r.status_code == 403
    assert "Z999" not in client.get("/rooms/").get_data(as_text=True)


# ---------------------------------------------------------------------------
# Security headers and templates


@pytest.mark.parametrize("path", ["/login", "/rooms/", "/board/", "/no-such-page", "/api/v1/openapi.json", "/api/v1/me"])
def test_security_headers(client, login_as, path):
    """Every answer (pages, errors, JSON) carries a strict CSP without 'unsafe-inline', nosniff and frame denial."""
    if path != "/login":
        login_as("admin")
    r = client.get(path)
    csp = r.headers.get("Content-Security-Policy", "")
    assert csp, path
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("X-Frame-Options") == "DENY"


TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=[str(t.relative_to(ROOT)) for t in TEMPLATES])
def test_template_has_no_inline_script_or_style(template):
    """No template holds an inline <script> body, a <style> element, a style= attribute or an on*= handler
    (the CSP would block them)."""
    assert_no_inline_code(template.read_text(encoding="utf-8"), str(template.relative_to(ROOT)))


def test_inline_code_detector_catches_violations():
    """The scanner itself flags each kind of inline code (so the template test cannot pass vacuously)."""
    for bad in ['<script>alert(1)</script>', '<div style="color:red">', '<STYLE>p{}</STYLE>',
                '<button onclick="x()">', '<a href="javascript:void(0)">', '<script type="module">import x</script>']:
        with pytest.raises(AssertionError):
            assert_no_inline_code(bad, "sample")
    assert_no_inline_code('<script src="/static/js/app.js" defer></script><div class="x">', "sample")


@pytest.mark.parametrize("path", ["/bookings/{booking}", "/bookings/{booking}/runsheet",
                                  "/orders/list?booking_id={booking}", "/products/{product}/edit"])
def test_a_tenants_account_gets_404_for_another_tenants_pages(client, world, make, auth, path):
    """Another tenant's booking or product is the 404 page, not a 403: ids reveal nothing."""
    product = make.product(world["tenant"])
    other = make.user("tenant")  # an account of another tenant
    auth.login(other.email)
    r = client.get(path.format(booking=world["booking"].id, product=product.id))
    assert r.status_code == 404 and r.mimetype == "text/html"
