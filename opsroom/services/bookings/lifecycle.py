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
from opsroom.domain import booking_rules
from opsroom.models import Booking
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.services.permissions import require
from opsroom.services import audit
from opsroom.services.operations import notifications
from opsroom.services.errors import Forbidden, RuleViolation, found
from opsroom.settings import settings_of
from opsroom.services.bookings.core import get_booking, is_assigned, lock_contenders, rule_breach
from opsroom.services.bookings.freed import Freed, time_freed
from opsroom.services.integrations import outbox
from opsroom.services.transaction import transactional





def expire_holds(session: so.Session, *, room_ids: list[int] | None = None,
                 booking_ids: list[int] | None = None, tell: bool = False) -> int:
    """Cancel every hold whose time is up (of the rooms, of the bookings). Idempotent conditional update.

    With `tell` (the scheduler's sweep) the freed time goes to the listeners
    (the waitlist); a writer clearing a stale hold out of its own way does not
    offer the time it is about to take."""
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
    if not tell:
        return session.connection().execute(q).rowcount or 0
    rows = session.connection().execute(
        q.returning(Booking.id, Booking.room_id, Booking.starts_at, Booking.ends_at)).all()
    time_freed(session, [Freed(r.room_id, max(r.starts_at, now), r.ends_at, r.id) for r in rows if r.ends_at > now])
    return len(rows)


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
    # The freed time may be offered to a waiting request in this transaction:
    # other writers of these rooms wait (the same order as creating bookings).
    lock_contenders(session, rooms={b.room_id for b in targets})
    now = clock.now()
    for b in targets:
        old = b.status
        b.status, b.cancelled_at, b.cancel_reason = "cancelled", now, reason[:200]
        audit.record(session, user, "booking", b.id, "cancelled",
                     {"status": [old, "cancelled"], "reason": reason[:200], "scope": scope})
        notifications.booking_cancelled(session, b)
        outbox.booking_cancelled(session, b)
    session.flush()
    time_freed(session, [Freed(b.room_id, b.starts_at, b.ends_at, b.id) for b in targets if b.ends_at > now])
    return targets


@transactional
def check_in(session: so.Session, user, booking_id: int) -> Booking:
    """Record that the team is in the room: from a set time before the start
    until the end; a started booking goes live."""
    booking = found(session.get(Booking, booking_id), _l("No such booking."))
    may_check_in(session, user, booking)
    now = clock.now()
    before = settings_of(session).checkin_opens_minutes_before
    if booking.status not in ("confirmed", "live"):
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    if not check_in_open(session, booking, now):
        raise RuleViolation(_l("The booking breaks a rule of the park."),
                            [rule_breach("checkin_window", "checked_in_at", minutes=before)])
    if booking.checked_in_at is None:
        booking.checked_in_at = now
        if now >= booking.starts_at:
            booking.status = "live"
        audit.record(session, user, "booking", booking.id, "checked_in", {"checked_in_at": now.isoformat()})
    return booking


def check_in_open(session: so.Session, booking: Booking, now=None) -> bool:
    """The check-in window, [start − checkin_opens_minutes_before, end): the one
    rule both check_in and the pages (which offer the button only then) follow."""
    now = now or clock.now()
    opens = booking.starts_at - timedelta(minutes=settings_of(session).checkin_opens_minutes_before)
    return booking.status in ("confirmed", "live") and opens <= now < booking.ends_at


def can_end_now(booking: Booking, now=None) -> bool:
    """A session that is on air (live, or checked in and started) may be ended early."""
    now = now or clock.now()
    on_air = booking.status == "live" or (booking.status == "confirmed" and booking.checked_in_at is not None)
    return on_air and booking.starts_at < now < booking.ends_at


@transactional
def end_now(session: so.Session, user, booking_id: int, *, reason: str) -> Booking:
    """End a session on air early (instead of cancelling it: it happened, and its
    orders stay with it). Its end becomes now and the room frees after the
    changeover; the reason is audited."""
    require(user, "bookings.write")
    booking = get_booking(session, user, booking_id)
    now = clock.now()
    if not can_end_now(booking, now):
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    old_end, old_status = booking.ends_at, booking.status
    booking.ends_at = now
    booking.occupied_until = booking_rules.occupied(booking.starts_at, now, booking.room.changeover_minutes).end
    booking.status = "ended"
    audit.record(session, user, "booking", booking.id, "ended_early",
                 {"ends_at": [old_end.isoformat(), now.isoformat()], "status": [old_status, "ended"],
                  "reason": reason[:200]})
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
    freed = []
    for booking in due:
        release = min(booking.ends_at, booking.starts_at + timedelta(minutes=grace_minutes))
        if booking.ends_at > max(release, now):
            freed.append(Freed(booking.room_id, max(release, now), booking.ends_at, booking.id))
        booking.status, booking.ends_at, booking.occupied_until = "no_show", release, release
    session.flush()
    if due:
        outbox.sessions_changed(session, "session.no_show", [b.id for b in due])
    time_freed(session, freed)
    return len(due)


@transactional
def sweep(session: so.Session) -> dict[str, int]:
    """One pass of every sweeper, in one transaction."""
    counts = {
        "expired_holds": expire_holds(session, tell=True),
        "no_shows": mark_no_shows(session),
        "started": start_sessions(session),
        "ended": end_sessions(session),
    }
    return counts
