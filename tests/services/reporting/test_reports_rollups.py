"""The report reads rollups; after any change (create, move, cancel, no-show,
check-in and end, blackouts, open hours, orders, a new room) they agree with a
computation from scratch, because database triggers mark what changed."""
from __future__ import annotations

from collections import defaultdict
from datetime import time, timedelta

import sqlalchemy as sa

from opsroom import clock
from opsroom.models import Order
from opsroom.services.bookings import lifecycle
from opsroom.services.park import rooms
from tests.conftest import NOW, at
from opsroom.services.bookings.create import create_booking
from opsroom.services.bookings.lifecycle import cancel_booking, check_in
from opsroom.services.bookings.move import update_booking
from opsroom.services.reporting.query import Query, as_minutes, scratch_totals, utilization
from opsroom.services.reporting.refresh import refresh_job

FIRST, LAST = NOW.date() - timedelta(days=1), NOW.date() + timedelta(days=2)
SECONDS = ("bookable", "booked", "prime_bookable", "prime_booked", "used")
COUNTS = ("sessions", "no_shows", "cancellations", "late_cancellations", "orders", "gmv_fen")


def check(session, user):
    """Every room's and every tenant's report row equals the scratch computation."""
    scratch = scratch_totals(session, FIRST, LAST)
    per_room, per_tenant = defaultdict(lambda: defaultdict(int)), defaultdict(lambda: defaultdict(int))
    for r in scratch["rooms"]:
        for f in SECONDS:
            per_room[r["room_id"]][f] += r[f]
    for r in scratch["bookings_rows"]:
        for f in COUNTS + ("booked",):
            per_room[r["room_id"]]["b_" + f] += r[f]
            per_tenant[r["tenant_id"]][f] += r[f]
    from opsroom.models import Room

    codes = dict(session.execute(sa.select(Room.code, Room.id)).all())
    got = utilization(session, user, Query(FIRST, LAST, "room"))
    assert len(got["rows"]) == len(codes)
    for row in got["rows"]:
        want = per_room[codes[row["key"]]]
        assert row["bookable_minutes"] == as_minutes(want["bookable"]), row["key"]
        assert row["booked_minutes"] == as_minutes(want["booked"]), row["key"]
        assert row["prime_booked_minutes"] == as_minutes(want["prime_booked"])
        assert row["used_minutes"] == as_minutes(want["used"])
        assert (row["bookings"], row["no_shows"], row["cancellations"], row["late_cancellations"], row["orders"]) == \
            tuple(want["b_" + f] for f in COUNTS[:5])
        assert row["gmv"] == f"{want['b_gmv_fen'] / 100:.2f}"
    assert got["total"]["booked_minutes"] == as_minutes(scratch["booked"])
    per_hour = defaultdict(lambda: [0, 0, 0])
    for r in scratch["bookings_rows"]:
        if r["starts_here"]:
            per_hour[r["start_hour"]][0] += r["sessions"]
            per_hour[r["start_hour"]][1] += r["cancellations"]
            per_hour[r["start_hour"]][2] += r["orders"]
    hours = utilization(session, user, Query(FIRST, LAST, "hour"))
    assert {r["key"]: [r["bookings"], r["cancellations"], r["orders"]] for r in hours["rows"]
            if r["bookings"] or r["cancellations"] or r["orders"]} == {h: v for h, v in per_hour.items() if any(v)}
    zone = session.scalar(sa.select(Room.zone).order_by(Room.id).limit(1))
    in_zone = utilization(session, user, Query(FIRST, LAST, "hour", zone=zone))
    assert sum(r["bookings"] for r in in_zone["rows"]) == in_zone["total"]["bookings"]
    by_tenant = utilization(session, user, Query(FIRST, LAST, "tenant", zone=zone))
    assert sum(r["bookings"] for r in by_tenant["rows"]) == in_zone["total"]["bookings"]
    tenants = utilization(session, user, Query(FIRST, LAST, "tenant"))
    assert {r["key"]: (r["booked_minutes"], r["bookings"], r["orders"]) for r in tenants["rows"]} == {
        t: (as_minutes(v["booked"]), v["sessions"], v["orders"]) for t, v in per_tenant.items()}
    return got


def test_rollups_agree_with_a_computation_from_scratch(make, db_session):
    admin = make.user("admin")
    a = make.room(code="A1", open_time=time(8), close_time=time(2))
    b = make.room(code="B1", open_time=time(20), close_time=time(4))
    t1, t2 = make.tenant(), make.tenant()
    s = db_session
    first = make.booking(a, t1, starts_at=at(0, 20), ends_at=at(0, 22))
    make.order(first, amount_fen=5000)
    check(s, admin)  # computes the range

    def book(room, tenant, start, end):
        return create_booking(s, admin, {"room_id": room.id, "tenant_id": tenant.id, "starts_at": start,
                                                  "ends_at": end}).bookings[0]

    late = book(b, t2, at(0, 22), at(1, 2))
    check(s, admin)
    update_booking(s, admin, late.id, {"room_id": a.id, "starts_at": at(1, 23), "ends_at": at(2, 1)})
    check(s, admin)
    gone = book(b, t1, at(1, 20), at(1, 22))
    cancel_booking(s, admin, gone.id, reason="plans changed")
    check(s, admin)

    # a no-show released after the grace period, and a session checked in and ended
    book(a, t2, at(0, 10), at(0, 12))
    kept = book(b, t1, at(0, 0), at(0, 2))
    clock.set_now(at(0, 0, 5))
    check_in(s, admin, kept.id)
    clock.set_now(at(0, 10, 30))
    lifecycle.sweep(s)
    got = check(s, admin)
    assert {r["key"]: r["no_shows"] for r in got["rows"]}["A1"] == 1
    assert got["total"]["used_minutes"] == 115
    clock.set_now(NOW)

    # blackouts, open hours, capacity and orders
    blackout = rooms.add_blackout(s, admin, b.id, starts_at=at(2, 20), ends_at=at(2, 23), reason="检修")
    check(s, admin)
    rooms.delete_blackout(s, admin, blackout.id)
    check(s, admin)
    rooms.update_room(s, admin, a.id, {"open_time": time(9), "close_time": time(23)})
    check(s, admin)
    order = make.order(first, amount_fen=700)
    check(s, admin)
    order.status = "cancelled"
    s.commit()
    check(s, admin)
    s.execute(sa.update(Order).where(Order.id == order.id).values(booking_id=late.id, status="paid"))
    s.commit()
    check(s, admin)

    # a room moved to another zone counts there, by hour too
    rooms.update_room(s, admin, b.id, {"zone": "夜场区"})
    got = check(s, admin)
    night = utilization(s, admin, Query(FIRST, LAST, "hour", zone="夜场区"))
    assert night["total"]["bookings"] == sum(r["bookings"] for r in got["rows"] if r["key"] == "B1") > 0

    # a room added after the range was computed appears with its bookable time
    make.room(code="C1", open_time=time(0), close_time=time(0))
    got = check(s, admin)
    assert {r["key"]: r["bookable_minutes"] for r in got["rows"]}["C1"] == 4 * 24 * 60


def test_the_scheduler_job_extends_the_computed_days_a_week_at_a_time(app, make, db_session):
    from opsroom.services.operations.scheduler import JOBS
    from opsroom.models import report_days, report_dirty

    make.room()
    assert "report_rollups" in JOBS
    assert refresh_job(db_session)["room_days"] == 7
    days = sorted(db_session.scalars(sa.select(report_days.c.day)))
    today = NOW.date()
    assert days == [today + timedelta(days=i) for i in range(-3, 4)]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(report_dirty)) == 0
    refresh_job(db_session)
    assert len(db_session.scalars(sa.select(report_days.c.day)).all()) == 14
