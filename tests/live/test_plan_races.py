"""Accepting a month plan while a coordinator books by hand (real commits,
separate connections, both engines, docs/planner.md): the manual booking over a
drafted session and the acceptance race; one of them gets the time, the other
is refused (the acceptance reports the request in `conflicts`, it stays
pending), and the room never holds two bookings at once."""
from __future__ import annotations

from datetime import date, datetime, time

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.db import intent
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.models import Booking, BookingRequest, Plan, User
from opsroom.services.bookings.create import create_booking
from opsroom.services.errors import Conflict, RuleViolation
from opsroom.services.planning import accept, runs
from tests.conftest import TZ
from tests.support.live import at_once
from tests.support.races import arrange

pytestmark = pytest.mark.live


def _plan(app, ids, days: list[int]) -> tuple[int, list[int]]:
    """One request per December day for the race room's 19:00–21:00, planned (committed)."""
    maker = app.extensions["opsroom.sessionmaker"]
    with app.app_context(), intent(write=True):
        session = maker()
        try:
            reqs = [BookingRequest(tenant_id=ids.tenant_id, room_id=ids.room_id, status="pending",
                                   date=date(2026, 12, d), window_start=time(19), window_end=time(21), minutes=120,
                                   anchors=[], note="", created_at=clock.now()) for d in days]
            session.add_all(reqs)
            session.commit()
            req_ids = [r.id for r in reqs]
            plan = runs.start(session, session.get(User, ids.user_id), date(2026, 12, 1), request_ids=req_ids,
                              time_limit_seconds=5)
            assert runs.execute(maker, plan.id, "race-runner") == "done"
            return plan.id, req_ids
        finally:
            session.close()


def _state(app, req_ids):
    with app.app_context():
        session = app.extensions["opsroom.sessionmaker"]()
        try:
            statuses = dict(session.execute(sa.select(BookingRequest.id, BookingRequest.status)
                                            .where(BookingRequest.id.in_(req_ids))).all())
            active = session.execute(sa.select(Booking.starts_at, Booking.occupied_until).where(
                Booking.status.in_(ACTIVE_STATUSES)).order_by(Booking.starts_at)).all()
            return statuses, active
        finally:
            session.close()


def test_acceptance_racing_a_manual_booking_never_double_books(committed_app):
    ids = arrange(committed_app)
    for days in ([2, 3], [4, 5], [6, 7]):
        plan_id, req_ids = _plan(committed_app, ids, days)
        first = days[0]

        def work(session, user, what):
            try:
                if what == "accept":
                    return accept.accept(session, user, plan_id)
                create_booking(session, user, {
                    "room_id": ids.room_id, "tenant_id": ids.tenant_id, "title": "by hand",
                    "starts_at": _at(first, 20), "ends_at": _at(first, 22)})
                return "booked"
            except (Conflict, RuleViolation):
                return "refused"

        accepted, manual = at_once(committed_app, ids.user_id, ["accept", "manual"], work, timeout=30)
        statuses, active = _state(committed_app, req_ids)
        assert all(a[1] <= b[0] for a, b in zip(active, active[1:])), active  # no two at once
        assert statuses[req_ids[1]] == "approved"
        if manual == "booked":
            assert accepted["created"] == 1 and [c["request_id"] for c in accepted["conflicts"]] == [req_ids[0]]
            assert statuses[req_ids[0]] == "pending"
        else:
            assert accepted == {"created": 2, "conflicts": []} and statuses[req_ids[0]] == "approved"
        with committed_app.app_context():
            s = committed_app.extensions["opsroom.sessionmaker"]()
            assert s.get(Plan, plan_id).accepted == sorted(r for r in req_ids if statuses[r] == "approved")
            s.close()


def _at(day: int, hh: int) -> datetime:
    return datetime(2026, 12, day, hh, tzinfo=TZ)


def test_a_run_beats_reports_progress_and_stops_when_cancelled(committed_app, monkeypatch):
    """A month big enough to keep CP-SAT busy for seconds: while the runner (a
    thread with its own sessions) solves, the row shows its heartbeat and
    progress; a cancel written to the row stops the search within seconds and
    the best draft so far is kept."""
    import random
    import threading
    import time as _time

    from opsroom.models import Room, Tenant

    monkeypatch.setattr(runs, "HEARTBEAT_SECONDS", 0.1)
    ids = arrange(committed_app)
    maker = committed_app.extensions["opsroom.sessionmaker"]
    rng = random.Random(5)
    with committed_app.app_context(), intent(write=True):
        session = maker()
        rooms = [Room(code=f"BIG{i}", name="big", zone="z", kind="k", open_time=time(0), close_time=time(0),
                      changeover_minutes=15, min_minutes=30, max_minutes=720) for i in range(10)]
        tenants = [Tenant(name=f"big tenant {i}", priority=rng.choice([1, 2, 3])) for i in range(20)]
        session.add_all(rooms + tenants)
        session.flush()
        for _ in range(60):
            start = rng.choice([17, 18, 19, 20])
            session.add(BookingRequest(
                tenant_id=rng.choice(tenants).id, status="pending", date=date(2026, 12, rng.randint(1, 7)),
                window_start=time(start), window_end=time((start + 6) % 24), minutes=rng.choice([120, 180, 240]),
                recurrence={"freq": "weekly", "until": "2026-12-31"}, anchors=[], note="", created_at=clock.now()))
        session.commit()
        plan = runs.start(session, session.get(User, ids.user_id), date(2026, 12, 1), time_limit_seconds=60)
        plan_id = plan.id
        session.close()

    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(runs.execute(maker, plan_id, "big-runner")))
    runner.start()

    def row():
        s = maker()
        try:
            return s.get(Plan, plan_id)
        finally:
            s.close()

    deadline = _time.monotonic() + 30
    while _time.monotonic() < deadline and (row().progress or {}).get("phase") not in ("greedy", "solve"):
        _time.sleep(0.05)
    seen = row()
    assert seen.status == "running" and seen.runner == "big-runner" and seen.heartbeat_at is not None
    assert seen.progress["placed"] > 0 and seen.progress["bound"] >= seen.progress["objective"] > 0
    with committed_app.app_context(), intent(write=True):
        s = maker()
        runs.cancel(s, s.get(User, ids.user_id), plan_id)
        s.close()
    cancelled_at = _time.monotonic()
    runner.join(30)
    assert not runner.is_alive() and _time.monotonic() - cancelled_at < 10
    done = row()
    assert outcome == ["cancelled"] and done.status == "cancelled"
    assert done.result["placed"] and done.result["stats"]["cancelled"] is True
