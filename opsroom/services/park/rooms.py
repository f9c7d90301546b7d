"""Rooms and their blackouts."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.settings import settings_of
from opsroom.models import Blackout, Booking, Room
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.services.permissions import require
from opsroom.services import audit
from opsroom.services.errors import Conflict, ValidationFailed, found
from opsroom.services.bookings.core import clash_detail
from opsroom.services.transaction import transactional

ROOM_FIELDS = (
    "code", "name", "zone", "kind", "area_m2", "equipment", "open_time", "close_time",
    "changeover_minutes", "min_minutes", "max_minutes", "order_capacity_per_hour", "active",
)


def list_rooms(session: so.Session, user, *, zone: str | None = None, kind: str | None = None,
               active: bool | None = None) -> list[Room]:
    require(user, "rooms.read")
    q = sa.select(Room).order_by(Room.zone, Room.code)
    if zone:
        q = q.where(Room.zone == zone)
    if kind:
        q = q.where(Room.kind == kind)
    if active is not None:
        q = q.where(Room.active == active)
    return list(session.scalars(q))


def get_room(session: so.Session, user, room_id: int) -> Room:
    require(user, "rooms.read")
    return found(session.get(Room, room_id), _l("No such room."))


def _check(session: so.Session, room: Room, data: dict) -> None:
    errors = []
    code = data.get("code", room.code)
    clash = session.scalar(sa.select(Room.id).where(Room.code == code, Room.id != (room.id or 0)))
    if clash:
        errors.append({"field": "code", "message": _l("Another room has this code.")})
    lo = data.get("min_minutes", room.min_minutes)
    hi = data.get("max_minutes", room.max_minutes)
    if lo is not None and hi is not None and hi < lo:
        errors.append({"field": "max_minutes", "message": _l("The longest booking must not be shorter than the shortest.")})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)


@transactional
def create_room(session: so.Session, user, data: dict) -> Room:
    """Create a room; codes are unique; min ≤ max duration."""
    require(user, "rooms.write")
    room = Room(**{"equipment": [], **{k: v for k, v in data.items() if k in ROOM_FIELDS}})
    _check(session, room, data)
    audit.add_created(session, user, "room", room, ROOM_FIELDS)
    return room


@transactional
def update_room(session: so.Session, user, room_id: int, data: dict) -> Room:
    """Change a room. Changeover and hours apply to bookings made from now on."""
    require(user, "rooms.write")
    room = get_room(session, user, room_id)
    _check(session, room, data)
    audit.apply_update(session, user, "room", room, ROOM_FIELDS, data)
    return room


def list_blackouts(session: so.Session, user, room_id: int, *, since: datetime | None = None) -> list[Blackout]:
    get_room(session, user, room_id)
    q = sa.select(Blackout).where(Blackout.room_id == room_id).order_by(Blackout.starts_at)
    if since is not None:
        q = q.where(Blackout.ends_at > since)
    return list(session.scalars(q))


@transactional
def add_blackout(session: so.Session, user, room_id: int, *, starts_at: datetime, ends_at: datetime,
                 reason: str = "") -> Blackout:
    """Close a room for a while. Refused (409) while active bookings fall inside:
    they must be moved or cancelled first, so nobody is silently bumped."""
    require(user, "rooms.write")
    get_room(session, user, room_id)
    if ends_at <= starts_at:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "ends_at", "message": _l("The end must be after the start.")}])
    clashes = session.scalars(
        sa.select(Booking).where(
            Booking.room_id == room_id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at < ends_at,
            starts_at < Booking.ends_at,
        ).order_by(Booking.starts_at)
    ).all()
    if clashes:

        raise Conflict(
            _l("Active bookings fall inside this period; move or cancel them first."),
            [clash_detail("room", b, settings_of(session).tz) for b in clashes],
        )
    blackout = Blackout(room_id=room_id, starts_at=starts_at, ends_at=ends_at, reason=reason)
    session.add(blackout)
    session.flush()
    audit.record(session, user, "room", room_id, "blackout_added",
                 {"blackout_id": blackout.id, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    return blackout


@transactional
def delete_blackout(session: so.Session, user, blackout_id: int) -> None:
    require(user, "rooms.write")
    blackout = found(session.get(Blackout, blackout_id), _l("No such blackout."))
    audit.record(session, user, "room", blackout.room_id, "blackout_removed",
                 {"blackout_id": blackout.id, "starts_at": blackout.starts_at.isoformat(),
                  "ends_at": blackout.ends_at.isoformat()})
    session.delete(blackout)
