"""Sweepers: what is due now? Each is one conditional update, so running it
twice, or from two schedulers at once, changes nothing the second time."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.models import Booking
from opsroom.services.bookings.booking import expire_holds


def start_sessions(session: so.Session) -> int:
    """A confirmed, checked-in booking whose start has come goes live."""
    now = clock.now()
    q = sa.update(Booking).where(
        Booking.status == "confirmed", Booking.checked_in_at.is_not(None),
        Booking.starts_at <= now, Booking.ends_at > now,
    ).values(status="live")
    return session.execute(q, execution_options={"synchronize_session": False}).rowcount or 0


def end_sessions(session: so.Session) -> int:
    """A live (or checked-in confirmed) booking whose end has passed is ended."""
    now = clock.now()
    q = sa.update(Booking).where(
        Booking.status.in_(("live", "confirmed")), Booking.checked_in_at.is_not(None), Booking.ends_at <= now,
    ).values(status="ended")
    return session.execute(q, execution_options={"synchronize_session": False}).rowcount or 0


def mark_no_shows(session: so.Session, grace_minutes: int) -> int:
    """Nobody checked in within the grace period: the booking is a no-show and
    the room is released; its ends_at becomes the release time (DESIGN.md §4)."""
    now = clock.now()
    due = session.scalars(
        sa.select(Booking).where(
            Booking.status == "confirmed", Booking.checked_in_at.is_(None),
            Booking.starts_at <= now - timedelta(minutes=grace_minutes),
        ).with_for_update(skip_locked=True)
    ).all()
    for booking in due:
        release = min(booking.ends_at, booking.starts_at + timedelta(minutes=grace_minutes))
        booking.status, booking.ends_at, booking.occupied_until = "no_show", release, release
    return len(due)


def sweep(session: so.Session, *, grace_minutes: int) -> dict[str, int]:
    """One pass of every sweeper, in one transaction. Commits."""
    counts = {
        "expired_holds": expire_holds(session),
        "no_shows": mark_no_shows(session, grace_minutes),
        "started": start_sessions(session),
        "ended": end_sessions(session),
    }
    session.commit()
    return counts
