"""The big screen: live detection, today's rankings and totals, screen tokens
(read-only, revocable), the page, the CLI and the admins' token page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from opsroom.api.base import PUBLIC_ENDPOINTS
from opsroom.models import ScreenToken
from opsroom.services.sales import screen
from tests.conftest import Api, NOW, at, configure
from tests.support.pages import assert_no_inline_code, csrf_from


@pytest.fixture
def screen_token(db_session):
    token = screen.create_token(db_session, None, "一楼大厅")
    db_session.commit()
    return token


@pytest.fixture
def park(make):
    """Two live rooms (one not yet moved to "live" by the scheduler), one checked in
    but over, one live in status but not checked in, and today's orders."""
    tenant = make.tenant(name="西柳服装")
    a101, a102, a103, a104 = (make.room(code=c, order_capacity_per_hour=60) for c in ("A101", "A102", "A103", "A104"))
    live = make.booking(a101, tenant, starts_at=at(0, 9), ends_at=at(0, 12), status="live", checked_in_at=at(0, 8, 50))
    ticked_not = make.booking(a102, tenant, starts_at=at(0, 9, 30), ends_at=at(0, 11), status="confirmed",
                              checked_in_at=at(0, 9, 20))
    over = make.booking(a103, tenant, starts_at=at(0, 6, 30), ends_at=at(0, 9), status="live", checked_in_at=at(0, 6, 25))
    no_checkin = make.booking(a104, tenant, starts_at=at(0, 9), ends_at=at(0, 11), status="confirmed")
    host, helper, controller = make.anchor(name="海燕姐"), make.anchor(name="阿杰"), make.anchor(name="场控小李")
    make.assign(live, host)
    make.assign(live, controller, role="controller")
    make.assign(ticked_not, helper, role="assistant")
    make.assign(over, host)
    make.order(live, ordered_at=at(0, 9, 10), amount_fen=39900)
    make.order(live, ordered_at=at(0, 9, 40), amount_fen=15900)
    make.order(live, ordered_at=at(0, 9, 45), amount_fen=9900, status="cancelled")
    make.order(ticked_not, ordered_at=at(0, 9, 35), amount_fen=129900)
    make.order(over, ordered_at=at(0, 7, 30), amount_fen=10000, status="refunded")
    make.order(None, ordered_at=at(0, 0, 0), amount_fen=100)  # unattributed, at local midnight: today
    make.order(None, ordered_at=at(0, 0, 0) - timedelta(seconds=1), amount_fen=7777)  # yesterday
    make.order(over, ordered_at=at(-1, 23, 59), amount_fen=5555)  # yesterday, though attributed
    return {"live": live, "ticked_not": ticked_not, "over": over, "no_checkin": no_checkin,
            "host": host, "helper": helper, "controller": controller}


def test_live_now_means_checked_in_and_inside_the_window_whatever_the_status(api, park):
    data = api("coordinator").get("/screen").json
    assert [r["room_code"] for r in data["live"]] == ["A101", "A102"]
    a101, a102 = data["live"]
    assert a101 == {**a101, "booking_id": park["live"].id, "tenant": "西柳服装", "tenant_short": "西柳服装", "anchors": ["海燕姐", "场控小李"],
                    "elapsed_minutes": 60, "orders": 2, "gmv": "558.00", "alert": False}
    # 1 order in 30 minutes against 60 an hour: a live load of 1/30; 1 of a 90-minute capacity of 90.
    assert (a102["orders"], a102["gmv"], a102["elapsed_minutes"]) == (1, "1299.00", 30)
    assert (a102["live_load"], a102["load"]) == (round(1 / 30, 4), round(1 / 90, 4))
    assert data["at"] == NOW.isoformat()


def test_rankings_and_totals_cover_the_park_local_day(api, park):
    """Today (park-local) holds the orders from local midnight on, attributed or not; cancelled ones count nowhere;
    anchors rank by the sessions they hosted or assisted, never as controller."""
    data = api("manager").get("/screen").json
    assert data["day"] == "2026-11-20"
    assert data["rankings"]["rooms"] == [
        {"room_code": "A102", "orders": 1, "gmv": "1299.00"},
        {"room_code": "A101", "orders": 2, "gmv": "558.00"},
        {"room_code": "A103", "orders": 1, "gmv": "100.00"},
    ]
    assert data["rankings"]["anchors"] == [
        {"anchor_id": park["helper"].id, "name": "阿杰", "orders": 1, "gmv": "1299.00"},
        {"anchor_id": park["host"].id, "name": "海燕姐", "orders": 3, "gmv": "658.00"},
    ]
    assert data["totals"] == {"orders": 5, "gmv": "1958.00", "live_rooms": 2, "alerts": 0}


def test_ranking_size_comes_from_the_settings(app, api, park):
    configure(app, SCREEN_RANKING_SIZE=1)
    data = api("admin").get("/screen").json
    assert len(data["rankings"]["rooms"]) == 1 and len(data["rankings"]["anchors"]) == 1


def test_a_worker_computes_the_screen_once_per_cache_period(app, api, make, park):
    """With SCREEN_CACHE_SECONDS set, polls within the period get the snapshot already taken (a new order
    waits for the next period); at 0, the tests' setting, every read computes it afresh."""
    coordinator = api("coordinator")
    configure(app, SCREEN_CACHE_SECONDS=60)
    try:
        first = coordinator.get("/screen").json
        make.order(park["live"], ordered_at=at(0, 9, 50), amount_fen=100)
        assert coordinator.get("/screen").json == first
    finally:
        configure(app, SCREEN_CACHE_SECONDS=0)
        app.extensions.pop("opsroom.screen_snapshot", None)
    assert coordinator.get("/screen").json["totals"]["orders"] == first["totals"]["orders"] + 1


def test_a_live_room_over_the_threshold_raises_an_alert(api, make, park):
    for minute in range(1, 31):  # 30 more in the last hour of a room taking 60 an hour: 32/60 > 50 %
        make.order(park["live"], ordered_at=at(0, 9, minute), amount_fen=100)
    from flask import current_app

    configure(current_app, CAPACITY_ALERT_PERCENT=50)
    data = api("coordinator").get("/screen").json
    a101 = data["live"][0]
    assert (a101["room_code"], a101["live_load"], a101["alert"]) == ("A101", round(32 / 60, 4), True)
    assert data["totals"]["alerts"] == 1


def test_screen_token_reads_the_screen_and_notes_its_use(client, db_session, screen_token, park):
    r = Api(client, screen_token).get("/screen")
    assert r.status_code == 200 and r.json["totals"]["live_rooms"] == 2
    row = db_session.scalar(sa.select(ScreenToken))
    db_session.refresh(row)
    assert row.last_used_at == NOW and row.label == "一楼大厅"
    assert row.token_hash != screen_token and len(row.token_hash) == 64


def test_a_screen_token_opens_no_other_api_route(app, client, screen_token):
    """Every other route of the API, whatever its method, refuses a screen token (403)."""
    seen = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint in ("api.screen", "api.openapi"):
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            r = client.open(path, method=method, headers={"Authorization": f"Bearer {screen_token}"}, json={})
            if rule.endpoint in PUBLIC_ENDPOINTS:  # e.g. health: its own token check refuses it
                assert r.status_code == 401, (method, path, r.status_code)
                continue
            assert r.status_code == 403 and r.json["error"]["code"] == "forbidden", (method, path, r.status_code)
            seen += 1
    assert seen > 30


def test_a_revoked_or_unknown_screen_token_is_refused(client, db_session, make, screen_token):
    admin = make.user("admin")
    row = db_session.scalar(sa.select(ScreenToken))
    screen.revoke_token(db_session, admin, row.id)
    assert Api(client, screen_token).get("/screen").status_code == 401
    assert Api(client, "scr_not-a-token").get("/screen").status_code == 401
    assert client.get(f"/screen?token={screen_token}").status_code == 401


def test_staff_tokens_read_the_screen_an_anchor_does_not(api, client):
    for role in ("admin", "manager", "coordinator"):
        assert api(role).get("/screen").status_code == 200
    assert api("anchor").get("/screen").status_code == 403
    assert client.get("/api/v1/screen").status_code == 401


def test_only_admins_create_and_revoke_screen_tokens(db_session, make):
    from opsroom.services.errors import Forbidden, ValidationFailed

    with pytest.raises(Forbidden):
        screen.create_token(db_session, make.user("manager"), "x")
    with pytest.raises(ValidationFailed):
        screen.create_token(db_session, make.user("admin"), "x" * 101)


# ---------------------------------------------------------------------------
# The page


def test_the_screen_page_opens_with_a_token_in_chinese_without_inline_code(client, screen_token, park):
    r = client.get(f"/screen?token={screen_token}", headers={"Accept-Language": "en"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'lang="zh-CN"' in html
    assert_no_inline_code(html, "/screen")
    assert "A101" in html and "¥1958.00" in html
    assert f'data-token="{screen_token}"' in html and 'data-endpoint="/api/v1/screen"' in html
    assert r.headers["Cache-Control"] == "no-store"
    assert 'lang="en"' in client.get(f"/screen?token={screen_token}&lang=en").get_data(as_text=True)


def test_the_screen_page_for_staff_logged_in_and_not_for_anchors(app, auth, client, make):
    r = client.get("/screen")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    auth.login(make.user("coordinator").email)
    r = client.get("/screen")
    assert r.status_code == 200 and 'data-endpoint="/screen/data"' in r.get_data(as_text=True)
    assert client.get("/screen/data").json["totals"]["live_rooms"] == 0
    other = app.test_client()
    from tests.conftest import Auth

    Auth(other).login(make.user("anchor").email)
    assert other.get("/screen").status_code == 403
    assert other.get("/screen/data").status_code == 403


def test_admins_create_list_and_revoke_screen_tokens_on_their_page(auth, client, make, db_session):
    auth.login(make.user("admin").email)
    page = client.get("/screen/tokens")
    assert page.status_code == 200
    r = client.post("/screen/tokens", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "label": "二楼"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    token = re.search(r"<code>(scr_[^<]+)</code>", html).group(1)
    assert_no_inline_code(html, "/screen/tokens")
    assert client.get("/api/v1/screen", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    row = db_session.scalar(sa.select(ScreenToken).where(ScreenToken.label == "二楼"))
    r = client.post(f"/screen/tokens/{row.id}/revoke", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 302
    assert client.get("/api/v1/screen", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post("/screen/tokens", data={"csrf_token": csrf_from(html), "label": "x" * 101}).status_code == 422


def test_managers_may_not_manage_screen_tokens(auth, client, make):
    auth.login(make.user("manager").email)
    assert client.get("/screen/tokens").status_code == 403


def test_create_screen_token_cli_prints_a_working_token_last(app, client, db_session):
    result = app.test_cli_runner().invoke(args=["create-screen-token", "--label", "大厅东"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("scr_")
    assert Api(client, token).get("/screen").status_code == 200
    assert Api(client, token).get("/rooms").status_code == 403


def test_the_longest_booking_is_still_live_at_its_last_minute(api, make):
    """The live query reads one short range of the starts_at index (bounded by the
    longest booking there can be); a 24-hour session near its end is still in it."""
    from opsroom.domain.booking_rules import MAX_BOOKING_MINUTES

    now = at(0, 10)  # the tests' frozen clock
    room = make.room(code="Z901", max_minutes=MAX_BOOKING_MINUTES)
    start = now - timedelta(minutes=MAX_BOOKING_MINUTES - 1)
    make.booking(room, make.tenant(), starts_at=start, ends_at=start + timedelta(minutes=MAX_BOOKING_MINUTES),
                 status="live", checked_in_at=start)
    codes = [r["room_code"] for r in api("coordinator").get("/screen").json["live"]]
    assert codes == ["Z901"]
