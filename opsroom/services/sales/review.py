"""The post-live review (复盘) of a session: notes the team writes afterwards.

Staff may write on any session, an anchor only on a session they are on (the
booking's visibility rule of booking_core.get_booking).
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.models import ReviewNote
from opsroom.services.permissions import require
from opsroom.services.bookings.core import get_booking
from opsroom.services.errors import ValidationFailed
from opsroom.services.transaction import transactional

MAX_NOTE_CHARS = 5000


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
