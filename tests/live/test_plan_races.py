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
