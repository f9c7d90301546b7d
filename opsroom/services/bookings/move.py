"""Moving a booking: another room or time, resized or retitled, under the same rules as a new one."""
from __future__ import annotations

from typing import Any

import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.domain import booking_rules
from opsroom.domain.intervals import Interval
from opsroom.settings import settings_of
from opsroom.models import Booking, Room
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.services.permissions import require
from opsroom.services import audit
from opsroom.services.operations import notifications
from opsroom.services.people_goods import assignments
from opsroom.services.errors import RuleViolation
from opsroom.services.bookings.availability import find_clashes, raise_conflict
from opsroom.services.bookings.core import AUDIT_FIELDS
from opsroom.services.bookings.lifecycle import expire_holds
from opsroom.services.bookings.rules import load_refs, rule_breaches
from opsroom.services.bookings.core import flush_or_conflict, get_booking, lock_booking, lock_contenders, rule_breach
from opsroom.services.integrations import outbox
from opsroom.services.transaction import transactional


@transactional
def update_booking(session: so.Session, user, booking_id: int, data: dict[str, Any]) -> Booking:
    """Move, resize, retitle or re-room one booking under the same rules as a
    new one. Other occurrences of its series are untouched."""
    require(user, "bookings.write")
    lock_booking(session, booking_id)
    booking = get_booking(session, user, booking_id)
    if booking.status not in ACTIVE_STATUSES:
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    # Other writers of both rooms and of its anchors wait from here to our commit.
    lock_contenders(session, rooms=[booking.room_id, data.get("room_id", booking.room_id)],
                    anchors=[a.anchor_id for a in booking.assignments])
    expire_holds(session, room_ids=[booking.room_id])
    session.refresh(booking)
    if booking.status not in ACTIVE_STATUSES:
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("hold_expired", "status")])

    room_id = data.get("room_id", booking.room_id)
    room, tenant = load_refs(session, room_id, booking.tenant_id)
    starts_at = data.get("starts_at", booking.starts_at)
    ends_at = data.get("ends_at", booking.ends_at)
    before = audit.snapshot(booking, AUDIT_FIELDS)
    moved = (room.id, starts_at, ends_at) != (booking.room_id, booking.starts_at, booking.ends_at)
    was = {"old_room": booking.room.code, "old_starts_at": booking.starts_at, "old_ends_at": booking.ends_at}
    if moved:
        breaches = rule_breaches(settings_of(session), room, tenant, starts_at, ends_at, user=user,
                                 check_past=starts_at != booking.starts_at)
        if breaches:
            raise RuleViolation(_l("The booking breaks a rule of the park."), breaches)
        clashes = find_clashes(session, room, starts_at, ends_at, exclude={booking.id})
        if clashes:
            raise_conflict(session, room, clashes, Interval(starts_at, ends_at), {booking.id}, user=user,
                            tenant_id=booking.tenant_id)
        pairs = [(a.anchor, a.role) for a in booking.assignments]
        if pairs:
            assignments.check_anchors(session, booking, pairs, starts_at, ends_at)
        assignments.shift_lineup(booking, starts_at - booking.starts_at)
    booking.room_id = room.id
    booking.starts_at, booking.ends_at = starts_at, ends_at
    booking.occupied_until = booking_rules.occupied(starts_at, ends_at, room.changeover_minutes).end
    if "title" in data:
        booking.title = data["title"]

    def on_overlap():
        fresh_room = session.get(Room, room_id)
        clashes = find_clashes(session, fresh_room, starts_at, ends_at, exclude={booking_id})
        raise_conflict(session, fresh_room, clashes, Interval(starts_at, ends_at), {booking_id})

    flush_or_conflict(session, on_overlap)
    if moved:  # its anchors are told, in this same transaction
        notifications.booking_moved(session, booking, **was)
        outbox.booking_moved(session, booking, {"room_code": was["old_room"], "starts_at": was["old_starts_at"],
                                                "ends_at": was["old_ends_at"]})
    changes = audit.diff(before, audit.snapshot(booking, AUDIT_FIELDS))
    if changes:
        audit.record(session, user, "booking", booking.id, "moved" if moved else "updated", changes)
    return booking
