"""Requests and the waitlist under concurrency (real commits, separate
connections, both engines): overlapping approvals give one winner; two
cancellations at once, a cancellation racing a manual booking, two schedulers
sweeping at once: each waiting request is offered at most once, and a slot is
never held for two."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.db import intent
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.models import Booking, BookingRequest, Notification, Tenant, User
from opsroom.services.bookings import lifecycle
from opsroom.services.bookings.create import create_booking
from opsroom.services.errors import Conflict, RuleViolation
from opsroom.services.park import users
from opsroom.services.requests import flow
from tests.conftest import NOW, at
from tests.support.live import at_once
from tests.support.races import arrange

pytestmark = pytest.mark.live


def _session(app):
    return app.extensions["opsroom.sessionmaker"]()


def setup_requests(app, ids, wants: list[tuple[time, time, int]], *, waiting: bool, day: int = 1) -> list[int]:
    """One tenant (with its account) per wanted window, each asking for the race room; committed."""
    out = []
    with app.app_context(), intent(write=True):
        session = _session(app)
        try:
            coordinator = session.get(User, ids.user_id)
            for i, (start, end, minutes) in enumerate(wants):
                tenant = Tenant(name=f"race tenant {day}-{i}")
                session.add(tenant)
                session.flush()
                users.create_user(session, email=f"t{day}-{i}@race.example", role="tenant",
                                  password="race-password-1", tenant_id=tenant.id)
                req, _fits = flow.create_request(session, coordinator, {
                    "tenant_id": tenant.id, "room_id": ids.room_id, "date": at(day, 0).date(),
                    "window_start": start, "window_end": end, "minutes": minutes})
                if waiting:
                    flow.wait(session, coordinator, req.id)
                out.append(req.id)
        finally:
            session.close()
    return out


def add_booking(app, ids, starts_at, ends_at) -> int:
    with app.app_context(), intent(write=True):
        session = _session(app)
        try:
            user = session.get(User, ids.user_id)
            return create_booking(session, user, {"room_id": ids.room_id, "tenant_id": ids.tenant_id,
                                                  "starts_at": starts_at, "ends_at": ends_at}).bookings[0].id
        finally:
            session.close()


def state(app):
    with app.app_context():
        session = _session(app)
        try:
            reqs = {r.id: (r.status, r.offer_booking_id) for r in session.scalars(sa.select(BookingRequest))}
            holds = session.scalars(sa.select(Booking).where(Booking.status.in_(ACTIVE_STATUSES))).all()
            active = [(b.id, b.status, b.starts_at, b.occupied_until, b.tenant_id) for b in holds]
            offered = session.execute(sa.select(Notification.key).where(Notification.kind == "request_offered")).all()
            return reqs, active, [k for (k,) in offered]
        finally:
            session.close()


def no_overlap(active) -> bool:
    spans = sorted((s, e) for _id, _st, s, e, _t in active)
    return all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_overlapping_approvals_one_winner(committed_app):
    """Eight requests for the same two hours, eight coordinators approving at once:
    one is approved with its booking, the others get the bookings' 409 and stay pending."""
    ids = arrange(committed_app)
    req_ids = setup_requests(committed_app, ids, [(time(19), time(21), 120)] * 8, waiting=False)

    def approve(session, user, request_id):
        try:
            flow.approve(session, user, request_id)
            return 200
        except Conflict:
            return 409

    results = at_once(committed_app, ids.user_id, req_ids, approve, timeout=30)
    assert sorted(results) == [200] + [409] * 7
    reqs, active, _ = state(committed_app)
    assert sorted(s for s, _ in reqs.values()) == ["approved"] + ["pending"] * 7
    assert len(active) == 1 and no_overlap(active)


def test_two_cancellations_at_once_offer_each_waiting_request_once(committed_app):
    """Two bookings cancelled at the same moment, two requests waiting: each is
    offered exactly once (one hold, one notice), and the holds do not overlap."""
    ids = arrange(committed_app)
    first = add_booking(committed_app, ids, at(1, 19), at(1, 21))
    second = add_booking(committed_app, ids, at(1, 21, 15), at(1, 23, 15))
    req_ids = setup_requests(committed_app, ids, [(time(19), time(21), 120), (time(19), time(23, 30), 120)],
                             waiting=True)

    def cancel(session, user, booking_id):
        return len(lifecycle.cancel_booking(session, user, booking_id, reason="race"))

    assert at_once(committed_app, ids.user_id, [first, second], cancel, timeout=30) == [1, 1]
    reqs, active, notices = state(committed_app)
    assert [reqs[r][0] for r in req_ids] == ["offered", "offered"]
    holds = [a for a in active if a[1] == "hold"]
    assert sorted(h[0] for h in holds) == sorted(reqs[r][1] for r in req_ids)
    assert no_overlap(active)
    assert len(notices) == len(set(notices)) == 2  # one tenant account each, one notice each


def test_a_cancellation_racing_a_manual_booking_never_double_books(committed_app):
    """Round after round: a booking is cancelled while a coordinator books the
    same slot by hand and a request waits for it. One of the two gets the slot:
    the manual booking, or the waiting request's hold, never both."""
    ids = arrange(committed_app)
    outcomes = []
    for day in range(1, 5):
        blocker = add_booking(committed_app, ids, at(day, 19), at(day, 21))
        (req_id,) = setup_requests(committed_app, ids, [(time(19), time(21), 120)], waiting=True, day=day)

        def work(session, user, what):
            try:
                if what == "cancel":
                    lifecycle.cancel_booking(session, user, blocker, reason="race")
                else:
                    create_booking(session, user, {"room_id": ids.room_id, "tenant_id": ids.tenant_id,
                                                   "starts_at": at(day, 19), "ends_at": at(day, 21)})
                return "ok"
            except (Conflict, RuleViolation):
                return "refused"

        results = at_once(committed_app, ids.user_id, ["cancel", "manual"], work, timeout=30)
        assert results[0] == "ok"
        reqs, active, _ = state(committed_app)
        in_slot = [a for a in active if a[2] == at(day, 19)]
        assert len(in_slot) == 1 and no_overlap(active)
        offered = reqs[req_id][0] == "offered"
        assert offered == (results[1] == "refused") == (in_slot[0][1] == "hold")
        outcomes.append("offer" if offered else "manual")
    assert set(outcomes) <= {"offer", "manual"}


def test_two_schedulers_sweeping_at_once_pass_a_lapsed_offer_on_once(committed_app):
    """An offer's deadline passes; two sweeps run at the same moment: the request
    lapses once and the next waiting request is offered once."""
    ids = arrange(committed_app)
    blocker = add_booking(committed_app, ids, at(1, 19), at(1, 21))
    req_ids = setup_requests(committed_app, ids, [(time(19), time(21), 120)] * 2, waiting=True)
    with committed_app.app_context(), intent(write=True):
        session = _session(committed_app)
        lifecycle.cancel_booking(session, session.get(User, ids.user_id), blocker)
        session.close()
    reqs, _, _ = state(committed_app)
    assert [reqs[r][0] for r in req_ids] == ["offered", "waiting"]

    clock.set_now(NOW + timedelta(hours=3))
    try:
        results = at_once(committed_app, ids.user_id, [1, 2], lambda session, user, _n: lifecycle.sweep(session),
                          timeout=30)
    finally:
        clock.set_now(NOW)
    assert sum(r["expired_holds"] for r in results) == 1
    reqs, active, notices = state(committed_app)
    assert [reqs[r][0] for r in req_ids] == ["lapsed", "offered"]
    assert [a[0] for a in active if a[1] == "hold"] == [reqs[req_ids[1]][1]]
    assert len(notices) == len(set(notices)) == 2
