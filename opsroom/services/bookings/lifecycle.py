"""A booking's life after it is made: confirm a hold, cancel, check in; and the
sweepers that move time along (holds expire, sessions start and end, no-shows
are released). Each sweeper is one conditional update, so running it twice, or
from two schedulers at once, changes nothing the second time."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.models import Booking
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.services.permissions import require
from opsroom.services import audit
from opsroom.services.operations import notifications
from opsroom.services.errors import Forbidden, RuleViolation, found
from opsroom.settings import settings_of
from opsroom.services.bookings.core import get_booking, is_assigned, rule_breach
from opsroom.services.integrations import outbox
from opsroom.services.transaction import transactional





def expire_holds(session: so.Session, *, room_ids: list[int] | None = None,
                 booking_ids: list[int] | None = None) -> int:
    """Cancel every hold whose time is up (of the rooms, of the bookings). Idempotent conditional update."""
    now = clock.now()
    q = (
        sa.update(Booking)
        .where(Booking.status == "hold", Booking.hold_expires_at <= now)
        .values(status="cancelled", cancelled_at=now, cancel_reason="hold_expired")
    )
    if room_ids is not None:
        q = q.where(Booking.room_id.in_(room_ids))
    if booking_ids is not None:
        q = q.where(Booking.id.in_(booking_ids))
    # A Core statement: nothing in the session needs synchronizing (the ORM's
    # bulk-update path cost more than the statement).
    return session.connection().execute(q).rowcount or 0


@transactional
def confirm_booking(session: so.Session, user, booking_id: int) -> Booking:
    """A hold becomes confirmed, if it has not expired and the tenant may still book."""
    require(user, "bookings.write")
    booking = get_booking(session, user, booking_id)
    if booking.status == "confirmed":
        return booking
    if booking.status == "hold" and booking.hold_expires_at and booking.hold_expires_at <= clock.now():
        expire_holds(session, room_ids=[booking.room_id])
        session.commit()  # the expiry stands although the confirmation is refused
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("hold_expired", "status")])
    if booking.status != "hold":
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    if booking.tenant.status != "active":
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("tenant_status", "tenant_id")])
    booking.status, booking.hold_expires_at = "confirmed", None
    audit.record(session, user, "booking", booking.id, "confirmed", {"status": ["hold", "confirmed"]})
    return booking


@transactional
def cancel_booking(session: so.Session, user, booking_id: int, *, reason: str = "",
                   scope: str = "one") -> list[Booking]:
    """Cancel one booking, or it and the following ones of its series. The rows
    stay for reports; the room is free again at once."""
    require(user, "bookings.write")
    booking = get_booking(session, user, booking_id)
    if booking.status not in ACTIVE_STATUSES:
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    targets = [booking]
    if scope == "following" and booking.series_id is not None:
        targets = list(session.scalars(
            sa.select(Booking).where(
                Booking.series_id == booking.series_id,
                Booking.starts_at >= booking.starts_at,
                Booking.status.in_(ACTIVE_STATUSES),
            ).order_by(Booking.starts_at)
        ))
    now = clock.now()
    for b in targets:
        old = b.status
        b.status, b.cancelled_at, b.cancel_reason = "cancelled", now, reason[:200]
        audit.record(session, user, "booking", b.id, "cancelled",
                     {"status": [old, "cancelled"], "reason": reason[:200], "scope": scope})
        notifications.booking_cancelled(session, b)
        outbox.booking_cancelled(session, b)
    return targets


@transactional
def check_in(session: so.Session, user, booking_id: int) -> Booking:
    """Record that the team is in the room: from a set time before the start
    until the end; a started booking goes live."""
    booking = found(session.get(Booking, booking_id), _l("No such booking."))
    may_check_in(session, user, booking)
    now = clock.now()
    before = settings_of(session).checkin_opens_minutes_before
    opens = booking.starts_at - timedelta(minutes=before)
    if booking.status not in ("confirmed", "live"):
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    if not (opens <= now < booking.ends_at):
        raise RuleViolation(_l("The booking breaks a rule of the park."),
                            [rule_breach("checkin_window", "checked_in_at", minutes=before)])
    if booking.checked_in_at is None:
        booking.checked_in_at = now
        if now >= booking.starts_at:
            booking.status = "live"
        audit.record(session, user, "booking", booking.id, "checked_in", {"checked_in_at": now.isoformat()})
    return booking


def may_check_in(session: so.Session, user, booking: Booking) -> None:
    """Staff may check any booking in; an anchor only a session they are in."""
    if user.role == "anchor":
        if not is_assigned(session, user, booking.id):
            raise Forbidden(_l("You may only check in to your own sessions."))
        return
    require(user, "bookings.write")


def start_sessions(session: so.Session) -> int:
    """A confirmed, checked-in booking whose start has come goes live."""
    now = clock.now()
    q = sa.update(Booking).where(
        Booking.status == "confirmed", Booking.checked_in_at.is_not(None),
        Booking.starts_at <= now, Booking.ends_at > now,
    ).values(status="live").returning(Booking.id)
    ids = list(session.execute(q, execution_options={"synchronize_session": False}).scalars())
    outbox.sessions_changed(session, "session.started", ids)
    return len(ids)


def end_sessions(session: so.Session) -> int:
    """A live (or checked-in confirmed) booking whose end has passed is ended."""
    now = clock.now()
    q = sa.update(Booking).where(
        Booking.status.in_(("live", "confirmed")), Booking.checked_in_at.is_not(None), Booking.ends_at <= now,
    ).values(status="ended").returning(Booking.id)
    ids = list(session.execute(q, execution_options={"synchronize_session": False}).scalars())
    outbox.sessions_changed(session, "session.ended", ids)
    return len(ids)


def mark_no_shows(session: so.Session) -> int:
    """Nobody checked in within the grace period: the booking is a no-show and
    the room is released; its ends_at becomes the release time (docs/domain.md, Bookings)."""
    now = clock.now()
    grace_minutes = settings_of(session).no_show_grace_minutes
    due = session.scalars(
        sa.select(Booking).where(
            Booking.status == "confirmed", Booking.checked_in_at.is_(None),
            Booking.starts_at <= now - timedelta(minutes=grace_minutes),
        ).with_for_update(skip_locked=True)
    ).all()
    for booking in due:
        release = min(booking.ends_at, booking.starts_at + timedelta(minutes=grace_minutes))
        booking.status, booking.ends_at, booking.occupied_until = "no_show", release, release
    if due:
        session.flush()
        outbox.sessions_changed(session, "session.no_show", [b.id for b in due])
    return len(due)


@transactional
def sweep(session: so.Session) -> dict[str, int]:
    """One pass of every sweeper, in one transaction."""
    counts = {
        "expired_holds": expire_holds(session),
        "no_shows": mark_no_shows(session),
        "started": start_sessions(session),
        "ended": end_sessions(session),
    }
    return counts
