"""Requests (预约申请) and the waitlist (候补) through the API (docs/tenants.md):
a tenant asks, a coordinator approves (ordinary bookings) or rejects, a request
waits and freed time is offered in the cancelling transaction, an offer is
accepted or lapses to the next in line; priority and the prime-time quota."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.models import AuditEntry, Booking, BookingRequest, Notification, TurnedAway
from opsroom.services.bookings import lifecycle
from opsroom.services.park import users
from tests.conftest import NOW, Api, at


@pytest.fixture
def park(make, db_session, client):
    """Two rooms of a kind, a tenant with its account, another tenant with its
    own, a coordinator; API clients for each."""
    room = make.room(code="A101", kind="服装", zone="一区")
    room2 = make.room(code="A102", kind="服装", zone="一区")
    tenant, other = make.tenant(name="西柳服装"), make.tenant(name="梓涵服饰")
    me = make.user("tenant", tenant_id=tenant.id)
    them = make.user("tenant", tenant_id=other.id)
    coordinator = make.user("coordinator")

    def client_for(user):
        token = users.create_token(db_session, user, "t")
        db_session.commit()
        return Api(client, token)

    return dict(room=room, room2=room2, tenant=tenant, other=other, me=me, them=them, coordinator=coordinator,
                t=client_for(me), t2=client_for(them), c=client_for(coordinator))


def ask(api, **kw):
    body = {"date": "2026-11-21", "window_start": "19:00", "window_end": "23:00", "minutes": 120}
    body.update(kw)
    return api.post("/requests", json=body)


def inbox(db_session, user) -> list[str]:
    return list(db_session.scalars(sa.select(Notification.kind).where(Notification.user_id == user.id)))


def test_a_tenant_asks_and_a_coordinator_approves_the_first_fit(park, db_session):
    """The request lists what fits now; approving without a place books the first fit as an
    ordinary confirmed booking of the tenant, and each side hears of the other's step."""
    r = ask(park["t"], room_id=park["room"].id, note="羽绒服专场")
    assert r.status_code == 201, r.json
    req = r.json
    assert req["status"] == "pending" and req["tenant_id"] == park["tenant"].id and req["minutes"] == 120
    assert req["fits"][0] == {"room_id": park["room"].id, "code": "A101", "starts_at": "2026-11-21T19:00:00+08:00",
                              "ends_at": "2026-11-21T21:00:00+08:00"}
    assert "request_created" in inbox(db_session, park["coordinator"])

    done = park["c"].post(f"/requests/{req['id']}/approve")
    assert done.status_code == 200, done.json
    assert done.json["status"] == "approved" and len(done.json["booking_ids"]) == 1
    booking = db_session.get(Booking, done.json["booking_ids"][0])
    assert (booking.tenant_id, booking.room_id, booking.status) == (park["tenant"].id, park["room"].id, "confirmed")
    assert booking.starts_at == at(1, 19) and booking.title == "羽绒服专场"
    assert "request_approved" in inbox(db_session, park["me"])
    shown = park["t"].get(f"/requests/{req['id']}").json
    assert shown["status"] == "approved" and shown["booking_ids"] == [booking.id]
    # Decided already: a second approval is refused.
    assert park["c"].post(f"/requests/{req['id']}/approve").status_code == 422


def test_the_rules_are_checked_when_asking(park, make, db_session):
    """A suspended tenant, a window outside every room's hours, a duration longer than the
    window, an unverified host: 422 rule_violation naming the rule, nothing stored."""
    park["tenant"].status = "suspended"
    db_session.commit()
    r = ask(park["t"])
    assert r.status_code == 422 and r.json["error"]["code"] == "rule_violation"
    assert "tenant_status" in {d["rule"] for d in r.json["error"]["details"]}
    park["tenant"].status = "active"
    db_session.commit()
    assert {d["rule"] for d in ask(park["t"], window_start="03:00", window_end="06:00",
                                   minutes=60).json["error"]["details"]} == {"window_hours"}
    assert {d["rule"] for d in ask(park["t"], minutes=300).json["error"]["details"]} == {"window_short"}
    host = make.anchor(tenant_id=park["tenant"].id, verified=False)
    r = ask(park["t"], anchors=[{"anchor_id": host.id, "role": "host"}])
    assert {d["rule"] for d in r.json["error"]["details"]} == {"anchor_unverified"}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(BookingRequest)) == 0


def test_a_clash_at_the_chosen_place_is_the_bookings_409(park, make):
    """Approving at a taken time answers the bookings' 409 with its clashes and alternatives."""
    make.booking(park["room"], park["other"], starts_at=at(1, 19), ends_at=at(1, 21))
    req = ask(park["t"], room_id=park["room"].id, window_end="00:00").json  # a window up to midnight
    assert req["fits"][0]["starts_at"] == "2026-11-21T21:30:00+08:00"  # after the changeover
    r = park["c"].post(f"/requests/{req['id']}/approve", json={"starts_at": "2026-11-21T19:00:00+08:00"})
    assert r.status_code == 409 and r.json["error"]["code"] == "conflict"
    assert r.json["error"]["details"][0]["kind"] == "room" and "alternatives" in r.json["error"]
    assert park["t"].get(f"/requests/{req['id']}").json["status"] == "pending"


def test_reject_needs_a_reason_and_counts_turned_away_demand_when_nothing_fitted(park, make, db_session):
    make.booking(park["room"], park["other"], starts_at=at(1, 19), ends_at=at(1, 23))
    req = ask(park["t"], room_id=park["room"].id, window_end="23:00", minutes=240).json
    assert req["fits"] == []
    assert park["c"].post(f"/requests/{req['id']}/reject", json={}).status_code == 422
    assert park["c"].post(f"/requests/{req['id']}/reject", json={"reason": "  "}).status_code == 422
    r = park["c"].post(f"/requests/{req['id']}/reject", json={"reason": "当晚已满"})
    assert r.status_code == 200 and r.json == {"status": "rejected"}
    assert "request_rejected" in inbox(db_session, park["me"])
    row = db_session.scalar(sa.select(TurnedAway).where(TurnedAway.tenant_id == park["tenant"].id))
    assert row is not None and row.room_id == park["room"].id and row.minutes == 240


def test_a_tenant_sees_and_touches_only_its_own(park, make):
    """Another tenant's request, booking, product: 404; lists hold only its own; it cannot
    approve, nor book directly."""
    mine = ask(park["t"]).json
    theirs = ask(park["t2"]).json
    assert park["t"].get(f"/requests/{theirs['id']}").status_code == 404
    assert park["t"].post(f"/requests/{theirs['id']}/withdraw").status_code == 404
    assert [r["id"] for r in park["t"].get("/requests").json] == [mine["id"]]
    assert park["t"].post(f"/requests/{mine['id']}/approve").status_code == 403
    own = make.booking(park["room"], park["tenant"], starts_at=at(2, 10))
    other = make.booking(park["room2"], park["other"], starts_at=at(2, 10))
    assert [b["id"] for b in park["t"].get("/bookings").json] == [own.id]
    assert park["t"].get(f"/bookings/{other.id}").status_code == 404
    assert park["t"].get(f"/bookings/{other.id}/stats").status_code == 404
    assert park["t"].get(f"/orders?booking_id={other.id}").status_code == 404
    assert park["t"].get(f"/bookings/{own.id}/stats").status_code == 200
    product = make.product(park["other"])
    assert park["t"].get(f"/products/{product.id}").status_code == 404
    assert park["t"].get("/products").json == []
    assert park["t"].post("/bookings", json={}).status_code == 403
    w = park["t"].post(f"/requests/{mine['id']}/withdraw")
    assert w.status_code == 200 and w.json == {"status": "withdrawn"}


def test_freed_time_is_offered_at_once_then_accepted(park, make, db_session):
    """A waiting request is offered a hold in the cancelling transaction; accepting confirms it."""
    blocker = make.booking(park["room"], park["other"], starts_at=at(1, 19), ends_at=at(1, 23))
    make.booking(park["room2"], park["other"], starts_at=at(1, 19), ends_at=at(1, 23))
    req = ask(park["t"], room_kind="服装", minutes=240).json
    assert req["fits"] == []
    assert park["t"].post(f"/requests/{req['id']}/wait").json == {"status": "waiting"}

    assert park["c"].post(f"/bookings/{blocker.id}/cancel", json={"reason": "商家取消"}).status_code == 200
    offered = park["t"].get(f"/requests/{req['id']}").json
    assert offered["status"] == "offered"
    hold = db_session.get(Booking, offered["offer"]["booking_id"])
    assert (hold.status, hold.tenant_id, hold.room_id, hold.starts_at) == ("hold", park["tenant"].id,
                                                                           park["room"].id, at(1, 19))
    assert hold.hold_expires_at == NOW + timedelta(minutes=120)
    assert "request_offered" in inbox(db_session, park["me"])

    r = park["t"].post(f"/requests/{req['id']}/accept")
    assert r.status_code == 200 and r.json == {"status": "approved", "booking_ids": [hold.id]}
    db_session.refresh(hold)
    assert hold.status == "confirmed"
    assert "offer_accepted" in inbox(db_session, park["coordinator"])


def test_an_offer_lapses_and_goes_to_the_next_by_priority_then_age(park, make, db_session):
    """The sweep expires the unaccepted hold: the request lapses (turned-away demand) and
    the next waiting request is offered; a higher-priority tenant goes before an older request."""
    third = make.tenant(name="玉德坊", priority=3)
    blocker = make.booking(park["room"], third, starts_at=at(1, 19), ends_at=at(1, 23))
    park["other"].priority = 1
    db_session.commit()
    first = ask(park["t"], room_id=park["room"].id, minutes=240).json  # older, priority 2
    clock.set_now(NOW + timedelta(minutes=5))
    second = ask(park["t2"], room_id=park["room"].id, minutes=240).json  # newer, priority 1
    for api, req in ((park["t"], first), (park["t2"], second)):
        assert api.post(f"/requests/{req['id']}/wait").status_code == 200
    park["c"].post(f"/bookings/{blocker.id}/cancel", json={})
    assert park["t2"].get(f"/requests/{second['id']}").json["status"] == "offered"
    assert park["t"].get(f"/requests/{first['id']}").json["status"] == "waiting"

    clock.set_now(NOW + timedelta(hours=3))
    lifecycle.sweep(db_session)
    assert park["t2"].get(f"/requests/{second['id']}").json["status"] == "lapsed"
    nxt = park["t"].get(f"/requests/{first['id']}").json
    assert nxt["status"] == "offered"
    assert "offer_lapsed" in inbox(db_session, park["them"])
    assert db_session.scalar(sa.select(TurnedAway.id).where(TurnedAway.tenant_id == park["other"].id))
    # The lapsed request's hold is cancelled; one hold stands, the next one's.
    holds = db_session.scalars(sa.select(Booking).where(Booking.room_id == park["room"].id,
                                                        Booking.status == "hold")).all()
    assert [h.id for h in holds] == [nxt["offer"]["booking_id"]]


def test_the_weekly_prime_time_quota_holds_unless_overridden_with_a_reason(park, make, db_session):
    park["tenant"].prime_quota_hours_per_week = 3
    db_session.commit()
    make.booking(park["room2"], park["tenant"], starts_at=at(2, 19), ends_at=at(2, 21))  # 2 prime hours
    req = ask(park["t"], room_id=park["room"].id).json  # 19:00–21:00 on Saturday: 2 more
    r = park["c"].post(f"/requests/{req['id']}/approve")
    assert r.status_code == 422 and r.json["error"]["details"][0]["rule"] == "prime_quota"
    r = park["c"].post(f"/requests/{req['id']}/approve", json={"override_reason": "大促加场"})
    assert r.status_code == 200
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.entity == "request",
                                                          AuditEntry.action == "approved"))
    assert entry.changes["override"] == "大促加场" and entry.user_id == park["coordinator"].id


def test_a_released_no_show_offers_the_rest_of_its_time(park, make, db_session):
    """Nobody checked in: the sweep releases the room and the rest of the session's time
    goes to the waiting request, from the next step after now."""
    make.booking(park["room"], park["other"], starts_at=at(0, 10), ends_at=at(0, 14))
    req = ask(park["t"], room_id=park["room"].id, date="2026-11-20", window_start="10:00", window_end="14:00",
              minutes=120).json
    assert req["fits"] == [] and park["t"].post(f"/requests/{req['id']}/wait").status_code == 200
    clock.set_now(NOW + timedelta(minutes=20))
    assert lifecycle.sweep(db_session)["no_shows"] == 1
    offered = park["t"].get(f"/requests/{req['id']}").json
    assert offered["status"] == "offered"
    hold = db_session.get(Booking, offered["offer"]["booking_id"])
    assert (hold.starts_at, hold.ends_at) == (at(0, 10, 30), at(0, 12, 30))
    assert hold.hold_expires_at == hold.starts_at  # the offer cannot outlast the slot's start


def test_the_month_filter_takes_the_months_whole_and_the_planners_years(park):
    """`month=2026-11` lists the requests dated from the 1st to the 30th of
    November (not 1 December); a month outside 2000–2099, as the planner's
    `month`, is a 422 naming the field."""
    ids = {}
    for day in ("2026-11-21", "2026-11-30", "2026-12-01"):
        r = ask(park["t"], date=day, room_id=park["room"].id)
        assert r.status_code == 201, r.json
        ids[day] = r.json["id"]
    listed = park["c"].get("/requests?month=2026-11")
    assert [r["id"] for r in listed.json] == [ids["2026-11-21"], ids["2026-11-30"]]
    assert [r["id"] for r in park["c"].get("/requests?month=2026-12").json] == [ids["2026-12-01"]]
    for bad in ("1999-12", "2100-01", "2026-13"):
        r = park["c"].get(f"/requests?month={bad}")
        assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "month", (bad, r.json)
        assert park["c"].post("/plans", json={"month": bad}).json["error"]["details"][0]["field"] == "month"
