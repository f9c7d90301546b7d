"""The post-live review (复盘) of a session: notes the team writes afterwards.

Staff may write on any session, an anchor only on a session they are on (the
booking's visibility rule of booking_core.get_booking).
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.domain import review as review_rules
from opsroom.models import Assignment, Booking, Order, ReviewNote, Room
from opsroom.models.sales import SOLD
from opsroom.services.permissions import require
from opsroom.services.bookings.core import get_booking
from opsroom.services.errors import ValidationFailed
from opsroom.services.transaction import transactional

MAX_NOTE_CHARS = 5000
EARLIER_SESSIONS = 10  # how many earlier sessions a review compares with


def notes(session: so.Session, user, booking_id: int) -> list[ReviewNote]:
    """The session's review notes, oldest first."""
    get_booking(session, user, booking_id)
    return list(session.scalars(
        sa.select(ReviewNote).where(ReviewNote.booking_id == booking_id)
        .options(so.joinedload(ReviewNote.user)).order_by(ReviewNote.created_at, ReviewNote.id)))


@transactional
def add_note(session: so.Session, user, booking_id: int, body: str) -> ReviewNote:
    """Add a note to the session's review."""
    require(user, "reviews.write")
    booking = get_booking(session, user, booking_id)
    text = (body or "").strip()
    if not text:
        message = _l("This field may not be empty.")
    elif len(text) > MAX_NOTE_CHARS:
        message = _l("At most %(n)s characters.", n=MAX_NOTE_CHARS)
    elif "\x00" in text:
        message = _l("Must not contain a NUL character.")
    else:
        message = None
    if message is not None:
        raise ValidationFailed(_l("Please correct the marked fields."), [{"field": "body", "message": message}])
    note = ReviewNote(booking_id=booking.id, user_id=user.id, body=text)
    session.add(note)
    return note


def _rows(session: so.Session, booking_ids: list[int]) -> list[review_rules.SessionRow]:
    """Each session's totals in one grouped query."""
    if not booking_ids:
        return []
    refunded = sa.func.sum(sa.case((Order.status == "refunded", 1), else_=0))
    rows = session.execute(
        sa.select(Booking.starts_at, Booking.ends_at, Room.order_capacity_per_hour, sa.func.count(Order.id),
                  sa.func.coalesce(sa.func.sum(Order.amount_fen), 0), sa.func.coalesce(refunded, 0))
        .join(Room, Room.id == Booking.room_id)
        .outerjoin(Order, sa.and_(Order.booking_id == Booking.id, SOLD))
        .where(Booking.id.in_(booking_ids))
        .group_by(Booking.id, Booking.starts_at, Booking.ends_at, Room.order_capacity_per_hour))
    return [review_rules.SessionRow(s, e, cap, int(n), int(gmv), int(ref)) for s, e, cap, n, gmv, ref in rows]


def _earlier(session: so.Session, booking: Booking, *where) -> list[int]:
    return list(session.scalars(
        sa.select(Booking.id).where(Booking.id != booking.id, Booking.status == "ended",
                                    Booking.starts_at < booking.starts_at, *where)
        .order_by(Booking.starts_at.desc()).limit(EARLIER_SESSIONS)))


def comparison(session: so.Session, user, booking_id: int) -> dict:
    """The session's figures (orders per hour, average order value, refund rate,
    load) beside those of the tenant's and the host's last EARLIER_SESSIONS
    ended sessions before it: {"this", "tenant", "host", "host_name"}; "host"
    is None without a host."""
    booking = get_booking(session, user, booking_id)
    host = next((a.anchor for a in booking.assignments if a.role == "host"), None)
    out = {"this": review_rules.figures(_rows(session, [booking.id])),
           "tenant": review_rules.figures(_rows(session, _earlier(session, booking, Booking.tenant_id == booking.tenant_id))),
           "host": None, "host_name": host.name if host else None}
    if host is not None:
        host_sessions = sa.select(Assignment.booking_id).where(Assignment.anchor_id == host.id)
        out["host"] = review_rules.figures(_rows(session, _earlier(session, booking, Booking.id.in_(host_sessions))))
    return out
