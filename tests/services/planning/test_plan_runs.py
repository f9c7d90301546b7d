"""The month planner's services (docs/planner.md): the month read from the
database, a run solved outside the request with its state in the plan row
(progress, heartbeat, cancel, a lost runner failed), its draft accepted into
ordinary bookings, a re-run keeping pins and as much of the draft as it can."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.models import Booking, BookingRequest, Plan
from opsroom.services.bookings.create import create_booking
from opsroom.services.errors import Conflict, Forbidden
from opsroom.services.planning import accept, runs
from opsroom.services.planning.load import month_input
from tests.conftest import TZ

DEC = date(2026, 12, 1)


def local(d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, d, hh, mm, tzinfo=TZ)


@pytest.fixture
def park(make, db_session):
    room = make.room(code="P1", open_time=time(8, 0), close_time=time(2, 0), changeover_minutes=0)
    a, b = make.tenant(name="甲", priority=1), make.tenant(name="乙", priority=2)
    coordinator = make.user("coordinator")
    return dict(room=room, a=a, b=b, coordinator=coordinator)


def request(make, tenant, *, day=5, start="19:00", end="21:00", minutes=120, **kw) -> BookingRequest:
    req = BookingRequest(tenant_id=tenant.id, status="pending", date=date(2026, 12, day),
                         window_start=time.fromisoformat(start), window_end=time.fromisoformat(end),
                         minutes=minutes, anchors=[], note="", created_at=clock.now(), **kw)
    return make._save(req)


def solve(app, db_session, plan_id):
    db_session.commit()
    status = runs.execute(app.extensions["opsroom.sessionmaker"], plan_id, "test-runner")
    db_session.expire_all()
    return status, db_session.get(Plan, plan_id)


def test_a_run_places_the_higher_priority_first_and_explains_the_other(app, make, db_session, park):
    """Two tenants want the one room's only prime window on 5 December: the
    priority-1 tenant gets it; the other is unplaced, its reason naming the
    request that holds the time."""
    first = request(make, park["a"], room_id=park["room"].id)
    second = request(make, park["b"], room_id=park["room"].id)
    plan = runs.start(db_session, park["coordinator"], DEC, time_limit_seconds=5)
    assert plan.status == "running" and plan.runner is None
    status, plan = solve(app, db_session, plan.id)
    assert status == "done" and plan.status == "done"
    placed = plan.result["placed"]
    assert [(p["request_id"], p["starts_at"]) for p in placed] == [(first.id, local(5, 19).isoformat())]
    (left,) = plan.result["unplaced"]
    assert left["request_id"] == second.id and left["code"] == "taken"
    assert {"kind": "request", "id": first.id} in left["blocking"]
    assert plan.progress["placed"] == 1 and plan.progress["phase"] == "done" and plan.heartbeat_at is not None


def test_the_review_gives_the_draft_as_plain_rows_and_only_to_staff(app, make, db_session, park):
    """The plan page's rows come from the service: each placed request with its
    tenant's name, room code and times (accepted and pinned marked), each
    unplaced one with its reason in words and its nearest free places; a
    tenant's or anchor's account may not read a plan."""
    first = request(make, park["a"], room_id=park["room"].id)
    second = request(make, park["b"], room_id=park["room"].id)
    plan = runs.start(db_session, park["coordinator"], DEC, time_limit_seconds=5)
    solve(app, db_session, plan.id)
    accept.accept(db_session, park["coordinator"], plan.id, [first.id])
    with app.test_request_context():
        draft = runs.review(db_session, park["coordinator"], plan.id)
    assert draft["plan"].id == plan.id and draft["accepted"] == {first.id}
    assert draft["board_day"] == date(2026, 12, 5)
    assert draft["placed"] == [{"request_id": first.id, "date": "2026-12-05", "tenant": "甲",
                                "room_id": park["room"].id, "room_code": "P1", "start": local(5, 19),
                                "end": local(5, 21), "pinned": False, "accepted": True}]
    (left,) = draft["unplaced"]
    assert (left["request_id"], left["tenant"], left["code"]) == (second.id, "乙", "taken")
    assert f"#{first.id}" in left["message"]
    assert all(a["room_code"] == "P1" and a["end"] > a["start"] for a in left["alternatives"])
    for role in ("tenant", "anchor"):
        with pytest.raises(Forbidden):
            runs.review(db_session, make.user(role), plan.id)


def test_acceptance_books_a_recurring_request_as_a_series_and_approves_it(app, make, db_session, park):
    """A weekly request placed at the same room and time each week becomes one
    series of ordinary bookings linked to the request, now approved."""
    req = request(make, park["a"], room_id=park["room"].id, day=3,
                  recurrence={"freq": "weekly", "count": 3})
    plan = runs.start(db_session, park["coordinator"], DEC, time_limit_seconds=5)
    _, plan = solve(app, db_session, plan.id)
    assert len(plan.result["placed"]) == 3
    out = accept.accept(db_session, park["coordinator"], plan.id)
    assert out == {"created": 3, "conflicts": []}
    db_session.expire_all()
    req = db_session.get(BookingRequest, req.id)
    assert req.status == "approved" and len(req.bookings) == 3
    assert len({b.series_id for b in req.bookings}) == 1 and req.bookings[0].series_id is not None
    assert [b.starts_at for b in req.bookings] == [local(3, 19), local(10, 19), local(17, 19)]
    assert db_session.get(Plan, plan.id).accepted == [req.id]


def test_a_booking_made_meanwhile_is_a_conflict_not_a_double_booking(app, make, db_session, park):
    """Between the draft and its acceptance a coordinator books the drafted time
    by hand: that request is reported in conflicts and stays pending; the other
    is accepted; the room holds one booking at that time."""
    clashing = request(make, park["a"], room_id=park["room"].id, day=5)
    fine = request(make, park["b"], room_id=park["room"].id, day=6)
    plan = runs.start(db_session, park["coordinator"], DEC, time_limit_seconds=5)
    _, plan = solve(app, db_session, plan.id)
    create_booking(db_session, park["coordinator"], {
        "room_id": park["room"].id, "tenant_id": park["b"].id, "starts_at": local(5, 20), "ends_at": local(5, 22)})
    out = accept.accept(db_session, park["coordinator"], plan.id)
    assert out["created"] == 1
    assert [c["request_id"] for c in out["conflicts"]] == [clashing.id] and out["conflicts"][0]["details"]
    db_session.expire_all()
    assert db_session.get(BookingRequest, clashing.id).status == "pending"
    assert db_session.get(BookingRequest, fine.id).status == "approved"
    on_the_5th = db_session.scalars(sa.select(Booking).where(
        Booking.room_id == park["room"].id, Booking.starts_at < local(6, 0), Booking.ends_at > local(5, 0))).all()
    assert len(on_the_5th) == 1


def test_cancel_stops_a_run_and_a_lost_runner_is_failed_by_the_sweep(app, make, db_session, park):
    """Cancelling marks the row (the runner stops at its next beat); a running row
    whose heartbeat is older than the lease is failed by the sweep; cancelling a
    finished plan is a conflict."""
    request(make, park["a"], room_id=park["room"].id)
    plan = runs.start(db_session, park["coordinator"], DEC, time_limit_seconds=5)
    assert runs.cancel(db_session, park["coordinator"], plan.id).status == "cancelled"
    assert runs.execute(app.extensions["opsroom.sessionmaker"], plan.id, "late") is None  # nothing to claim
    with pytest.raises(Conflict):
        runs.cancel(db_session, park["coordinator"], plan.id)
    lost = runs.start(db_session, park["coordinator"], DEC, time_limit_seconds=5)
    assert runs.claim(db_session, lost.id, "dead-runner")
    assert runs.fail_stale(db_session) == {"failed_plans": 0}
    db_session.execute(sa.update(Plan).where(Plan.id == lost.id)
                       .values(heartbeat_at=clock.now() - timedelta(seconds=runs.LEASE_SECONDS + 1)))
    db_session.commit()
    assert runs.fail_stale(db_session) == {"failed_plans": 1}
    db_session.expire_all()
    assert db_session.get(Plan, lost.id).status == "failed"


def test_a_rerun_keeps_pins_and_the_draft_after_a_new_request(app, make, db_session, park):
    """A re-run after one new request keeps every earlier placement where it was
    (the pinned one fixed), and places the newcomer around them."""
    room2 = make.room(code="P2", open_time=time(8, 0), close_time=time(2, 0), changeover_minutes=0)
    reqs = [request(make, park["a"], day=5, start="18:00", end="23:00") for _ in range(2)]
    plan = runs.start(db_session, park["coordinator"], DEC, time_limit_seconds=5)
    _, plan = solve(app, db_session, plan.id)
    before = {p["request_id"]: (p["room_id"], p["starts_at"]) for p in plan.result["placed"]}
    assert set(before) == {r.id for r in reqs}
    newcomer = request(make, park["b"], day=5, start="18:00", end="23:00")
    again = runs.rerun(db_session, park["coordinator"], plan.id, pin=[(reqs[0].id, "2026-12-05")])
    assert again.based_on_id == plan.id and len(again.pins) == 1
    _, again = solve(app, db_session, again.id)
    after = {p["request_id"]: (p["room_id"], p["starts_at"]) for p in again.result["placed"]}
    assert {k: after[k] for k in before} == before
    assert newcomer.id in after and {room2.id, park["room"].id} >= {v[0] for v in after.values()}


def test_the_month_input_holds_the_months_facts(app, make, db_session, park):
    """Bookings, blackouts, the tenant's quota and the request's dates in the
    month (a recurring request's days outside the month left out)."""
    make.booking(park["room"], park["a"], starts_at=local(7, 19), ends_at=local(7, 21))
    make.blackout(park["room"], starts_at=local(8, 8), ends_at=local(8, 12))
    req = request(make, park["a"], room_id=park["room"].id, day=24, recurrence={"freq": "weekly", "count": 3})
    month = month_input(db_session, DEC)
    (q,) = month.requests
    assert q.id == req.id and q.dates == (date(2026, 12, 24), date(2026, 12, 31))
    assert sorted(b.kind for b in month.busy) == ["blackout", "booking"]
    assert month.days == 31 and month.tenants[0].priority == 1


def test_a_month_where_the_greedy_choice_is_wrong_is_solved_exactly(app, make, db_session, park):
    """A priority-1 request may use either room; a priority-3 one only room P1.
    The greedy plan gives P1 to the first and leaves the second out; the run
    returns the optimum: both placed, the first moved to P2, gap 0."""
    p2 = make.room(code="P2", open_time=time(8, 0), close_time=time(2, 0), changeover_minutes=0)
    low = make.tenant(name="丙", priority=3)
    flexible = request(make, park["a"], room_kind=park["room"].kind)
    fixed = request(make, low, room_id=park["room"].id)
    plan = runs.start(db_session, park["coordinator"], DEC, time_limit_seconds=10)
    _, plan = solve(app, db_session, plan.id)
    stats = plan.result["stats"]
    assert stats["greedy_placed"] == 1 and stats["greedy_objective"] < plan.result["objective"]
    assert {p["request_id"]: p["room_id"] for p in plan.result["placed"]} == {flexible.id: p2.id,
                                                                            fixed.id: park["room"].id}
    assert plan.result["unplaced"] == [] and plan.result["gap"] == 0
