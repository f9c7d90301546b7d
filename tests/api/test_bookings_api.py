"""The booking engine through the JSON API: rules, clashes, alternatives,
recurrence, holds, moves, cancellations and the audit log (docs/domain.md)."""
from __future__ import annotations

from datetime import time, timedelta

import pytest

from opsroom import clock
from tests.conftest import NOW, at


def iso(dt):
    return dt.isoformat()


@pytest.fixture
def setup(make, api):
    room = make.room(code="A101", kind="服装", changeover_minutes=30, open_time=time(8, 0), close_time=time(2, 0))
    tenant = make.tenant(name="西柳服装")
    return {"room": room, "tenant": tenant, "api": api("coordinator")}


def book(s, start, end, **extra):
    body = {"room_id": s["room"].id, "tenant_id": s["tenant"].id, "starts_at": iso(start), "ends_at": iso(end)}
    body.update(extra)
    return s["api"].post("/bookings", json=body)


def test_create_returns_booking_in_park_time(setup):
    """A booking is created confirmed by default and its instants are given in park time (+08:00)."""
    r = book(setup, at(1, 14), at(1, 16), title="秋冬羽绒服专场")
    assert r.status_code == 201, r.json
    assert r.json["status"] == "confirmed"
    assert r.json["starts_at"] == "2026-11-21T14:00:00+08:00"
    assert r.json["ends_at"] == "2026-11-21T16:00:00+08:00"
    assert r.json["title"] == "秋冬羽绒服专场"


# Boundary table with a 30-minute changeover: A = [14:00, 16:00) occupies until 16:30.
@pytest.mark.parametrize("start,end,clashes", [
    ((11, 0), (13, 0), False),   # before, its changeover ends 13:30
    ((12, 0), (13, 30), False),  # touching: ends 13:30, changeover to 14:00 = A's start
    ((12, 0), (13, 45), True),   # its own changeover runs into A
    ((13, 0), (15, 0), True),    # overlapping the start
    ((14, 0), (16, 0), True),    # equal
    ((13, 0), (17, 0), True),    # containing
    ((14, 30), (15, 30), True),  # contained
    ((15, 0), (17, 0), True),    # overlapping the end
    ((16, 0), (17, 0), True),    # touching A's end, but inside A's changeover
    ((16, 15), (17, 0), True),   # still inside the changeover
    ((16, 30), (18, 0), False),  # touching A's changeover end
    ((18, 0), (20, 0), False),   # after
])
def test_boundary_table_with_changeover(setup, start, end, clashes):
    """Occupied ranges [start, end + changeover) may touch but never overlap."""
    assert book(setup, at(1, 14), at(1, 16)).status_code == 201
    r = book(setup, at(1, *start), at(1, *end))
    assert r.status_code == (409 if clashes else 201), r.json
    if clashes:
        assert r.json["error"]["code"] == "conflict"
        assert r.json["error"]["details"][0]["kind"] == "room"


@pytest.mark.parametrize("start,end,clashes", [
    ((12, 0), (14, 0), False),   # touching, no changeover
    ((13, 0), (14, 15), True),
    ((16, 0), (17, 0), False),   # touching A's end
    ((15, 45), (17, 0), True),
])
def test_boundary_table_without_changeover(make, api, start, end, clashes):
    """Without changeover, touching bookings do not overlap (half-open intervals)."""
    s = {"room": make.room(changeover_minutes=0), "tenant": make.tenant(), "api": api("coordinator")}
    assert book(s, at(1, 14), at(1, 16)).status_code == 201
    assert book(s, at(1, *start), at(1, *end)).status_code == (409 if clashes else 201)


def test_conflict_lists_clash_and_alternatives(setup, make):
    """A taken slot answers 409 with the clash, free rooms of the same kind and nearest free windows."""
    other = make.room(code="A102", kind="服装", changeover_minutes=15)
    make.room(code="Z900", kind="珠宝")  # another kind: never offered
    first = book(setup, at(1, 14), at(1, 16)).json
    r = book(setup, at(1, 15), at(1, 17))
    assert r.status_code == 409
    err = r.json["error"]
    assert err["details"] == [{"kind": "room", "booking_id": first["id"], "starts_at": first["starts_at"],
                               "ends_at": first["ends_at"], "occupied_until": "2026-11-21T16:30:00+08:00"}]
    assert [room["room_id"] for room in err["alternatives"]["rooms"]] == [other.id]
    slots = err["alternatives"]["slots"]
    assert slots, "nearest free windows expected"
    assert slots[0]["starts_at"] in ("2026-11-21T16:30:00+08:00", "2026-11-21T11:30:00+08:00")


def test_alternative_slot_can_be_booked(setup):
    """The first suggested window in the asked room is free to book."""
    from datetime import datetime

    book(setup, at(1, 14), at(1, 16))
    slot = book(setup, at(1, 15), at(1, 17)).json["error"]["alternatives"]["slots"][0]
    r = book(setup, datetime.fromisoformat(slot["starts_at"]), datetime.fromisoformat(slot["ends_at"]))
    assert r.status_code == 201, r.json


@pytest.mark.parametrize("start,end,rule", [
    (at(1, 14, 10), at(1, 16), "granularity"),
    (at(1, 14), at(1, 14, 15), "min_duration"),
    (at(1, 3), at(1, 5), "open_hours"),          # closed 02:00–08:00
    (at(1, 8), at(1, 21), "max_duration"),       # 13 h > 12 h
    (at(-1, 14), at(-1, 16), "past"),
])
def test_rule_violations(setup, start, end, rule):
    """Each broken rule answers 422 rule_violation naming the rule."""
    r = book(setup, start, end)
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "rule_violation"
    assert rule in [d["rule"] for d in r.json["error"]["details"]]


def test_crossing_midnight_inside_open_hours(setup):
    """A room open 08:00–02:00 takes a booking from 23:00 to 01:00."""
    assert book(setup, at(1, 23), at(2, 1)).status_code == 201


def test_twenty_four_hour_room(make, api):
    """Equal open and close times mean open 24 h, so 03:00 is bookable."""
    s = {"room": make.room(open_time=time(0, 0), close_time=time(0, 0)), "tenant": make.tenant(), "api": api("coordinator")}
    assert book(s, at(1, 3), at(1, 5)).status_code == 201


def test_admin_may_book_in_the_past(setup, api):
    """Only admins may enter a booking that started in the past."""
    setup["api"] = api("admin")
    assert book(setup, at(-1, 14), at(-1, 16)).status_code == 201


@pytest.mark.parametrize("status", ["suspended", "blacklisted"])
def test_inactive_tenant_cannot_book(setup, db_session, status):
    """A suspended or blacklisted tenant cannot book."""
    setup["tenant"].status = status
    db_session.commit()
    r = book(setup, at(1, 14), at(1, 16))
    assert r.status_code == 422
    assert r.json["error"]["details"][0]["rule"] == "tenant_status"


def test_blackout_blocks_booking(setup, make):
    """A booking over a blackout is a 409 clash of kind blackout."""
    make.blackout(setup["room"], starts_at=at(1, 13), ends_at=at(1, 15))
    r = book(setup, at(1, 14), at(1, 16))
    assert r.status_code == 409
    assert r.json["error"]["details"][0]["kind"] == "blackout"


def test_cancelled_booking_frees_the_room(setup):
    """Cancel keeps the row but frees the slot at once."""
    b = book(setup, at(1, 14), at(1, 16)).json
    r = setup["api"].post(f"/bookings/{b['id']}/cancel", json={"reason": "商家临时调整"})
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert book(setup, at(1, 14), at(1, 16)).status_code == 201
    assert setup["api"].get(f"/bookings/{b['id']}").json["status"] == "cancelled"


def test_hold_expires_and_frees_the_room(setup, app):
    """A hold blocks the room until it expires; then the slot is free and confirm is refused."""
    hold = book(setup, at(1, 14), at(1, 16), status="hold").json
    assert hold["status"] == "hold" and hold["hold_expires_at"]
    assert book(setup, at(1, 14), at(1, 16)).status_code == 409
    clock.set_now(NOW + timedelta(minutes=app.config["HOLD_MINUTES"] + 1))
    r = setup["api"].post(f"/bookings/{hold['id']}/confirm")
    assert r.status_code == 422 and r.json["error"]["details"][0]["rule"] == "hold_expired"
    assert book(setup, at(1, 14), at(1, 16)).status_code == 201


def test_an_expired_hold_in_the_way_is_cancelled_by_the_booking_that_takes_its_slot(setup, app):
    """With no sweep since, a new booking over an expired hold is created, and the hold
    reads cancelled (hold_expired); a hold still running keeps blocking."""
    expired = book(setup, at(1, 14), at(1, 16), status="hold").json
    clock.set_now(NOW + timedelta(minutes=app.config["HOLD_MINUTES"] + 1))
    running = book(setup, at(1, 18), at(1, 20), status="hold").json
    assert book(setup, at(1, 18), at(1, 20)).status_code == 409
    r = book(setup, at(1, 14), at(1, 16))
    assert r.status_code == 201, r.json
    api = setup["api"]
    assert api.get(f"/bookings/{expired['id']}").json["status"] == "cancelled"
    assert api.get(f"/bookings/{running['id']}").json["status"] == "hold"


def test_confirm_hold(setup):
    hold = book(setup, at(1, 14), at(1, 16), status="hold").json
    r = setup["api"].post(f"/bookings/{hold['id']}/confirm")
    assert r.status_code == 200 and r.json["status"] == "confirmed" and r.json["hold_expires_at"] is None


def test_move_and_resize_follow_the_same_rules(setup):
    """PATCH moves a booking; a move onto another booking is a 409; its own old slot is not a clash."""
    a = book(setup, at(1, 10), at(1, 12)).json
    b = book(setup, at(1, 14), at(1, 16)).json
    r = setup["api"].patch(f"/bookings/{b['id']}", json={"starts_at": iso(at(1, 14, 30)), "ends_at": iso(at(1, 17))})
    assert r.status_code == 200, r.json
    assert r.json["starts_at"] == "2026-11-21T14:30:00+08:00"
    r = setup["api"].patch(f"/bookings/{b['id']}", json={"starts_at": iso(at(1, 11)), "ends_at": iso(at(1, 13))})
    assert r.status_code == 409 and r.json["error"]["details"][0]["booking_id"] == a["id"]
    r = setup["api"].patch(f"/bookings/{b['id']}", json={"ends_at": iso(at(1, 14, 40))})
    assert r.status_code == 422  # 10 minutes: granularity and min duration


def test_move_to_another_room(setup, make):
    other = make.room(kind="服装")
    b = book(setup, at(1, 14), at(1, 16)).json
    r = setup["api"].patch(f"/bookings/{b['id']}", json={"room_id": other.id})
    assert r.status_code == 200 and r.json["room_id"] == other.id
    assert book(setup, at(1, 14), at(1, 16)).status_code == 201  # the first room is free again


def test_weekly_series_reject_creates_nothing_and_lists_every_clash(setup):
    """on_conflict reject: one clash creates nothing; the 409 lists each clash."""
    book(setup, at(8, 20), at(8, 22))    # clashes with the 2nd occurrence
    book(setup, at(15, 20), at(15, 22))  # and the 3rd
    rule = {"freq": "weekly", "count": 4}
    r = book(setup, at(1, 20), at(1, 22), recurrence=rule)
    assert r.status_code == 409
    assert len(r.json["error"]["details"]) == 2
    listed = setup["api"].get(f"/bookings?from=2026-11-20&to=2026-12-31&room_id={setup['room'].id}").json
    assert len(listed) == 2


def test_weekly_series_skip_creates_the_rest_and_reports_skipped(setup):
    """on_conflict skip: the free dates are booked, the clashing ones reported; a skipped date stays bookable."""
    taken = book(setup, at(8, 20), at(8, 22)).json
    r = book(setup, at(1, 20), at(1, 22), recurrence={"freq": "weekly", "count": 4}, on_conflict="skip")
    assert r.status_code == 201, r.json
    assert len(r.json["bookings"]) == 3
    assert [s["starts_at"] for s in r.json["skipped"]] == ["2026-11-28T20:00:00+08:00"]
    assert len({b["series_id"] for b in r.json["bookings"]}) == 1
    setup["api"].post(f"/bookings/{taken['id']}/cancel", json={})
    assert book(setup, at(8, 20), at(8, 22)).status_code == 201


def test_daily_series_with_until_and_interval(setup):
    r = book(setup, at(1, 9), at(1, 11), recurrence={"freq": "daily", "interval": 2, "until": "2026-11-27"})
    assert r.status_code == 201, r.json
    assert [b["starts_at"][:10] for b in r.json["bookings"]] == ["2026-11-21", "2026-11-23", "2026-11-25", "2026-11-27"]


def test_weekly_on_chosen_weekdays(setup):
    r = book(setup, at(3, 19), at(3, 21), recurrence={"freq": "weekly", "weekdays": [0, 2, 4], "count": 5})
    assert r.status_code == 201, r.json
    days = [b["starts_at"][:10] for b in r.json["bookings"]]
    assert days == ["2026-11-23", "2026-11-25", "2026-11-27", "2026-11-30", "2026-12-02"]


@pytest.mark.parametrize("rule,field", [
    ({"freq": "weekly"}, "recurrence.until"),
    ({"freq": "weekly", "count": 3, "until": "2026-12-30"}, "recurrence.until"),
    ({"freq": "daily", "count": 400}, "recurrence.count"),
])
def test_bad_recurrence_is_a_rule_violation(setup, rule, field):
    r = book(setup, at(1, 9), at(1, 11), recurrence=rule)
    assert r.status_code == 422
    assert r.json["error"]["details"][0]["field"] == field


def test_cancel_this_and_following(setup):
    """Cancel scope "following" cancels this occurrence and the later ones, not the earlier."""
    r = book(setup, at(1, 20), at(1, 22), recurrence={"freq": "daily", "count": 5})
    ids = [b["id"] for b in r.json["bookings"]]
    r = setup["api"].post(f"/bookings/{ids[2]}/cancel", json={"scope": "following"})
    assert r.status_code == 200 and sorted(r.json["cancelled_ids"]) == ids[2:]
    statuses = [setup["api"].get(f"/bookings/{i}").json["status"] for i in ids]
    assert statuses == ["confirmed", "confirmed", "cancelled", "cancelled", "cancelled"]


def test_move_one_occurrence_leaves_the_others(setup):
    r = book(setup, at(1, 20), at(1, 22), recurrence={"freq": "daily", "count": 3})
    ids = [b["id"] for b in r.json["bookings"]]
    moved = setup["api"].patch(f"/bookings/{ids[1]}", json={"starts_at": iso(at(2, 18)), "ends_at": iso(at(2, 20))})
    assert moved.status_code == 200
    others = [setup["api"].get(f"/bookings/{i}").json["starts_at"] for i in (ids[0], ids[2])]
    assert others == ["2026-11-21T20:00:00+08:00", "2026-11-23T20:00:00+08:00"]
    assert moved.json["series_id"] == r.json["bookings"][0]["series_id"]


def test_audit_log_records_who_did_what(setup):
    """Create, move, confirm and cancel each leave an entry with old → new."""
    b = book(setup, at(1, 14), at(1, 16), status="hold").json
    setup["api"].patch(f"/bookings/{b['id']}", json={"starts_at": iso(at(1, 15)), "ends_at": iso(at(1, 17))})
    setup["api"].post(f"/bookings/{b['id']}/confirm")
    setup["api"].post(f"/bookings/{b['id']}/cancel", json={"reason": "改期"})
    entries = setup["api"].get(f"/bookings/{b['id']}/audit").json
    assert [e["action"] for e in entries] == ["created", "moved", "confirmed", "cancelled"]
    assert entries[1]["changes"]["starts_at"][0].startswith("2026-11-21T06:00")  # UTC of 14:00
    assert all(e["user"] for e in entries)


def test_availability_subtracts_bookings_with_changeover(setup):
    """Free windows = open hours − blackouts − occupied ranges (changeover included)."""
    book(setup, at(1, 14), at(1, 16))
    free = setup["api"].get(f"/rooms/{setup['room'].id}/availability?date=2026-11-21").json["free"]
    assert {"starts_at": "2026-11-21T08:00:00+08:00", "ends_at": "2026-11-21T14:00:00+08:00"} in free
    assert any(f["starts_at"] == "2026-11-21T16:30:00+08:00" for f in free)


def test_list_filters(setup, make):
    other_tenant = make.tenant()
    book(setup, at(1, 10), at(1, 12))
    setup_b = dict(setup, tenant=other_tenant)
    book(setup_b, at(1, 14), at(1, 16))
    rows = setup["api"].get(f"/bookings?from=2026-11-21&to=2026-11-21&tenant_id={other_tenant.id}").json
    assert len(rows) == 1 and rows[0]["tenant_id"] == other_tenant.id
    assert setup["api"].get("/bookings?from=2026-11-22&to=2026-11-22").json == []
