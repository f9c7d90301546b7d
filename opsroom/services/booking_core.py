"""What bookings and assignments both build on: reading one booking with its
visibility rule, naming a broken rule, and turning an overlap the database
refused into a 409.

It sits below both services/bookings.py and services/assignments.py, so each
imports it at the top and neither imports the other from inside a function.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from opsroom.labels import rule_message
from opsroom.models import Anchor, Assignment, Booking
from opsroom.security import require
from opsroom.services.errors import Conflict, Forbidden, NotFound

# Markers by which the database names an overlap it refused.
ANCHOR_MARKERS = ("anchor_overlap", "ex_assignments_anchor_overlap",
                  # the same anchor put into the same booking by two clients at once
                  "uq_assignments_booking_anchor", "UNIQUE constraint failed: assignments.booking_id")
OVERLAP_MARKERS = ("room_overlap", "ex_bookings_room_overlap", *ANCHOR_MARKERS)


def get_booking(session: so.Session, user, booking_id: int) -> Booking:
    """A booking; an anchor may see only sessions they are assigned to."""
    require(user, "bookings.read")
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(_l("No such booking."))
    if user.role == "anchor" and not is_assigned(session, user, booking.id):
        raise Forbidden(_l("You may only see your own sessions."))
    return booking


def is_assigned(session: so.Session, user, booking_id: int) -> bool:
    """Whether `user` is an anchor of the booking."""
    return session.scalar(
        sa.select(Assignment.id).join(Anchor, Anchor.id == Assignment.anchor_id)
        .where(Assignment.booking_id == booking_id, Anchor.user_id == user.id)
    ) is not None


def rule_breach(code: str, field_name: str, **params) -> dict[str, Any]:
    return {"rule": code, "field": field_name, "message": rule_message(code, **params)}


def is_overlap_error(exc: IntegrityError) -> bool:
    text = str(getattr(exc, "orig", exc))
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate == "23P01" or any(marker in text for marker in OVERLAP_MARKERS)


def flush_or_conflict(session: so.Session, on_overlap, message=None, *, anchor_message=None) -> None:
    """Flush; an overlap the database refused (a lost race) becomes the same
    409 a checked clash gets: `on_overlap` re-checks and raises it. With
    `anchor_message`, a refused anchor overlap raises a 409 with that message
    instead (a flush that writes a booking together with its anchors)."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        if not is_overlap_error(exc):
            raise
        if anchor_message is not None and any(m in str(getattr(exc, "orig", exc)) for m in ANCHOR_MARKERS):
            raise Conflict(anchor_message, []) from None
        on_overlap()
        raise Conflict(message or _l("The room was taken a moment ago."), []) from None
