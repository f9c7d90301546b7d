"""The anchor's calendar feed (RFC 5545) and phone pages: one VEVENT per
session with a stable UID, cancellations shown, secret reset; an anchor sees
and checks in to their own sessions only."""
from __future__ import annotations

import re

import pytest
import sqlalchemy.orm as so
from icalendar import Calendar

from opsroom import clock
from opsroom.services.people_goods import anchors as anchor_service
from tests.conftest import at


@pytest.fixture
def setup(make, api, db_session):
    tenant = make.tenant(name="岫岩玉雕工作室")
    user = make.user("anchor", email="jade@park.demo", name="玉姐")
    anchor = make.anchor(name="玉姐", user_id=user.id, tenant_id=tenant.id)
    other_user = make.user("anchor", email="other@park.demo")
    other = make.anchor(name="别人", user_id=other_user.id)
    coord = api("coordinator")
    rooms = [make.room(code="E501", zone="珠宝玉石区"), make.room(code="E502")]
    bracelet = make.product(tenant, name="岫玉手镯", sku="XY-001")

    def book(room, start, end, who=anchor, role="host"):
        r = coord.post("/bookings", json={"room_id": room.id, "tenant_id": tenant.id, "title": "岫玉手镯直播",
                                          "starts_at": start.isoformat(), "ends_at": end.isoformat(),
                                          "anchors": [{"anchor_id": who.id, "role": role}],
                                          "lineup": [{"product_id": bracelet.id}]})
        assert r.status_code == 201, r.json
        return r.json

    return dict(tenant=tenant, user=user, anchor=anchor, other=other, other_user=other_user, coord=coord,
                rooms=rooms, book=book)


def feed_path(anchor):
    return f"/calendar/anchors/{anchor_service.feed_token(so.object_session(anchor), anchor)}.ics"


def events(client, anchor):
    r = client.get(feed_path(anchor))
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    cal = Calendar.from_ical(r.data)
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_feed_has_one_event_per_session_in_park_time(setup, client):
    a = setup["book"](setup["rooms"][0], at(1, 19), at(1, 21))
    b = setup["book"](setup["rooms"][1], at(2, 19), at(2, 21))
    setup["book"](setup["rooms"][1], at(1, 14), at(1, 16), who=setup["other"])  # not mine
    found = events(client, setup["anchor"])
    assert len(found) == 2
    event = found[next(u for u in found if u.startswith(f"booking-{a['id']}@"))]
    assert event.decoded("dtstart") == at(1, 19)
    assert str(event["dtstart"].params["TZID"]) == "Asia/Shanghai"
    assert "E501" in str(event["summary"]) and "岫玉手镯" in str(event["description"])
    assert any(u.startswith(f"booking-{b['id']}@") for u in found)


def test_moved_session_keeps_its_uid_with_a_higher_sequence(setup, client):
    a = setup["book"](setup["rooms"][0], at(1, 19), at(1, 21))
    before = events(client, setup["anchor"])
    clock.set_now(clock.now().replace(minute=5))
    setup["coord"].patch(f"/bookings/{a['id']}", json={"starts_at": at(1, 20).isoformat(), "ends_at": at(1, 22).isoformat()})
    after = events(client, setup["anchor"])
    assert before.keys() == after.keys()
    (uid,) = after
    assert after[uid].decoded("dtstart") == at(1, 20)
    assert int(after[uid]["sequence"]) > int(before[uid]["sequence"])


def test_cancelled_session_is_shown_cancelled(setup, client):
    a = setup["book"](setup["rooms"][0], at(1, 19), at(1, 21))
    setup["coord"].post(f"/bookings/{a['id']}/cancel", json={"reason": "改期"})
    (event,) = events(client, setup["anchor"]).values()
    assert str(event["status"]) == "CANCELLED"


def test_feed_written_by_hand_is_what_icalendar_reads_and_writes(setup, client, make, db_session):
    """The VEVENT lines are written directly (views/calendar.py): icalendar parses back every
    value exactly (TEXT escapes of \\ ; , and line breaks, folding inside long Chinese text
    and at an escape) and writes the parsed feed again to the very same bytes."""
    from opsroom.models import Booking

    tricky = "直播;专场,含\\反斜杠^和" + "很长的岫玉手镯标题" * 8
    a = setup["book"](setup["rooms"][0], at(1, 19), at(1, 21))
    db_session.get(Booking, a["id"]).title = tricky
    setup["rooms"][0].name = "玉石,一号;间"
    db_session.commit()
    b = setup["book"](setup["rooms"][1], at(2, 9), at(2, 10))
    setup["coord"].post(f"/bookings/{b['id']}/cancel", json={"reason": "改期"})
    body = client.get(feed_path(setup["anchor"])).data
    cal = Calendar.from_ical(body)
    assert cal.to_ical() == body
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    found = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    event = found[next(u for u in found if u.startswith(f"booking-{a['id']}@"))]
    assert str(event["summary"]) == f"E501 · {tricky}"
    assert str(event["location"]) == "E501 玉石,一号;间 (珠宝玉石区)"
    assert str(event["description"]).splitlines()[-1] == "1. 岫玉手镯 (XY-001)"
    assert (event.decoded("dtstart"), event.decoded("dtend")) == (at(1, 19), at(1, 21))
    assert event.decoded("dtstamp") == clock.now() and int(event["sequence"]) >= 0
    cancelled = found[next(u for u in found if u.startswith(f"booking-{b['id']}@"))]
    assert str(cancelled["status"]) == "CANCELLED"


def test_feed_token_reset_kills_the_old_url(setup, client, db_session):
    old = feed_path(setup["anchor"])
    assert client.get(old).status_code == 200
    anchor_service.reset_feed(db_session, setup["user"], setup["anchor"].id)
    assert client.get(old).status_code == 404
    assert client.get(feed_path(setup["anchor"])).status_code == 200


@pytest.mark.parametrize("token", ["", "1", "1.abc", "x.y", "999999.abc", "../../etc/passwd", "1." + "a" * 300])
def test_unknown_feed_tokens_are_404(client, setup, token):
    assert client.get(f"/calendar/anchors/{token}.ics").status_code == 404


def test_another_anchors_token_does_not_open_my_feed(setup, client):
    mine, theirs = anchor_service.feed_token(so.object_session(setup["anchor"]), setup["anchor"]), anchor_service.feed_token(so.object_session(setup["other"]), setup["other"])
    forged = f"{setup['anchor'].id}.{theirs.split('.')[1]}"
    assert forged != mine
    assert client.get(f"/calendar/anchors/{forged}.ics").status_code == 404


# --- phone pages -------------------------------------------------------------


def test_my_schedule_shows_today_with_lineup_and_check_in(setup, auth, client):
    mine = setup["book"](setup["rooms"][0], at(0, 10, 15), at(0, 12))
    setup["book"](setup["rooms"][1], at(0, 14), at(0, 16), who=setup["other"])
    auth.login("jade@park.demo")
    page = client.get("/me/schedule")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "E501" in html and "岫玉手镯" in html
    assert html.count('class="session-card') == 1  # the other anchor's session is not shown
    assert f'/me/sessions/{mine["id"]}/checkin' in html
    assert ".ics" in html


def test_anchor_checks_in_through_the_page(setup, auth, client):
    mine = setup["book"](setup["rooms"][0], at(0, 10, 15), at(0, 12))
    auth.login("jade@park.demo")
    token = auth.csrf("/me/schedule")
    r = client.post(f"/me/sessions/{mine['id']}/checkin", data={"csrf_token": token})
    assert r.status_code == 302
    assert setup["coord"].get(f"/bookings/{mine['id']}").json["checked_in_at"] is not None


def test_anchor_cannot_open_or_check_in_to_another_anchors_session(setup, auth, client):
    theirs = setup["book"](setup["rooms"][1], at(0, 10, 15), at(0, 12), who=setup["other"])
    auth.login("jade@park.demo")
    assert client.get(f"/me/sessions/{theirs['id']}").status_code == 403
    token = auth.csrf("/me/schedule")
    assert client.post(f"/me/sessions/{theirs['id']}/checkin", data={"csrf_token": token}).status_code == 403
    assert setup["coord"].get(f"/bookings/{theirs['id']}").json["checked_in_at"] is None


@pytest.mark.parametrize("path", ["/board/", "/bookings/new", "/tenants/", "/bookings/{id}", "/bookings/{id}/edit"])
def test_anchor_cannot_open_staff_pages(setup, auth, client, path):
    theirs = setup["book"](setup["rooms"][1], at(1, 10), at(1, 12), who=setup["other"])
    auth.login("jade@park.demo")
    assert client.get(path.format(id=theirs["id"])).status_code == 403


def test_home_sends_an_anchor_to_their_schedule(setup, auth, client):
    auth.login("jade@park.demo")
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/me/schedule")


def test_reset_link_from_the_phone_page(setup, auth, client):
    auth.login("jade@park.demo")
    html = client.get("/me/schedule").get_data(as_text=True)
    old = re.search(r'value="(http[^"]+\.ics)"', html).group(1)
    client.post("/me/feed/reset", data={"csrf_token": auth.csrf("/me/schedule")})
    new = re.search(r'value="(http[^"]+\.ics)"', client.get("/me/schedule").get_data(as_text=True)).group(1)
    assert new != old
