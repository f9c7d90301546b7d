"""The booking board: one local day of many rooms, or one room's week.

The board reads plain rows (a Core select of the columns it draws, the tenant
joined in SQL), not ORM entities: a 200-room day has ~1,200 bookings, and
building an entity per row cost more than everything else the service does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom.domain import hours
from opsroom.domain.booking_rules import LONGEST_OCCUPANCY
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.domain.intervals import Interval
from opsroom.settings import settings_of
from opsroom.models import Anchor, Assignment, Blackout, Booking, Room, Tenant, Zone
from opsroom.services.permissions import require


class BoardRoom(NamedTuple):
    """The room columns the board reads (a Room entity serves as well: the week view passes one)."""

    id: int
    code: str
    name: str
    zone: str
    kind: str
    open_time: time
    close_time: time
    changeover_minutes: int
    min_minutes: int
    order_capacity_per_hour: int


class BoardBooking(NamedTuple):
    """A booking as the board draws it; instants are aware UTC, as on the entity.
    `room` is the lane's room (capacity alerts read it). `busy`: another tenant's
    booking as a tenant's account sees it, busy time only (no id, tenant, title,
    status or figures; it ends when the room is free again, changeover included)."""

    id: int
    room_id: int
    tenant_id: int
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime
    occupied_until: datetime
    checked_in_at: datetime | None
    tenant_name: str
    tenant_status: str
    tenant_short_name: str | None
    room: object = None
    busy: bool = False


class BoardBlackout(NamedTuple):
    id: int
    room_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str


_ROOM_COLUMNS = tuple(getattr(Room, name) for name in BoardRoom._fields)
_BOOKING_COLUMNS = (Booking.id, Booking.room_id, Booking.tenant_id, Booking.title, Booking.status,
                    Booking.starts_at, Booking.ends_at, Booking.occupied_until, Booking.checked_in_at,
                    Tenant.name, Tenant.status, Tenant.short_name)
_BLACKOUT_COLUMNS = tuple(getattr(Blackout, name) for name in BoardBlackout._fields)


@dataclass
class Lane:
    """One row of the board: a room on a day, or a day of a room."""

    key: object
    window: Interval
    room: BoardRoom | Room
    bookings: list[BoardBooking] = field(default_factory=list)
    blackouts: list[BoardBlackout] = field(default_factory=list)
    open: list[Interval] = field(default_factory=list)
    # Live-now bookings whose live load is over the alert threshold, by id.
    alerts: dict = field(default_factory=dict)
    # The host's name (the first host when there are several) by booking id.
    hosts: dict = field(default_factory=dict)


def _load(session: so.Session, rooms: dict, window: Interval, statuses: tuple[str, ...] | None):
    """Bookings (in start order) and blackouts reaching into `window` of the rooms
    given by id, as plain rows."""
    room_ids = list(rooms)
    q = (
        sa.select(*_BOOKING_COLUMNS)
        .join(Tenant, Tenant.id == Booking.tenant_id)
        .where(Booking.room_id.in_(room_ids), Booking.starts_at < window.end,
               Booking.starts_at >= window.start - LONGEST_OCCUPANCY, Booking.ends_at > window.start)
        .order_by(Booking.starts_at)
    )
    if statuses:
        q = q.where(Booking.status.in_(statuses))
    # Through the session's connection: plain Core rows, no ORM result layer.
    conn = session.connection()
    make = BoardBooking
    bookings = [make(*row, rooms[row[1]]) for row in conn.execute(q).all()]
    blackouts = [BoardBlackout(*row) for row in conn.execute(
        sa.select(*_BLACKOUT_COLUMNS).where(Blackout.room_id.in_(room_ids), Blackout.starts_at < window.end,
                                            Blackout.ends_at > window.start)
    ).all()]
    return bookings, blackouts


def day(session: so.Session, user, on: date, *, zone: str | None = None, kind: str | None = None,
        show_cancelled: bool = False) -> list[Lane]:
    """Every active room (filtered by zone/kind) with its bookings of one local day
    (a tenant's account: other tenants' as busy time only)."""
    require(user, "board.view")
    tz = settings_of(session).tz
    window = hours.local_day(on, tz)
    q = (sa.select(*_ROOM_COLUMNS).outerjoin(Zone, Zone.name == Room.zone).where(Room.active.is_(True))
         .order_by(sa.func.coalesce(Zone.sort_order, 0), Room.zone, Room.code))
    if zone:
        q = q.where(Room.zone == zone)
    if kind:
        q = q.where(Room.kind == kind)
    rooms = [BoardRoom(*row) for row in session.connection().execute(q).all()]
    openings: dict = {}  # rooms mostly share their hours: one computation per distinct pair
    for r in rooms:
        if (r.open_time, r.close_time) not in openings:
            openings[r.open_time, r.close_time] = hours.open_windows(r.open_time, r.close_time, window, tz)
    lanes = {r.id: Lane(r.id, window, r, open=list(openings[r.open_time, r.close_time])) for r in rooms}
    if not lanes:
        return []
    statuses = None if show_cancelled else ("hold", "confirmed", "live", "ended", "no_show")
    bookings, blackouts = _load(session, {r.id: r for r in rooms}, window, statuses)
    for b in bookings:
        lanes[b.room_id].bookings.append(b)
    for b in blackouts:
        lanes[b.room_id].blackouts.append(b)
    _mask_others(user, list(lanes.values()))
    _flag_alerts(session, list(lanes.values()))
    _name_hosts(session, list(lanes.values()))
    return list(lanes.values())


BUSY_STATUSES = ACTIVE_STATUSES + ("ended",)  # what occupies a room, as busy time shows it


def _mask_others(user, lanes: list[Lane]) -> None:
    """For a tenant's account: its own bookings as they are, other tenants' only
    as busy time (nothing of them but when the room is taken)."""
    if user.role != "tenant":
        return
    for lane in lanes:
        lane.bookings = [
            b if b.tenant_id == user.tenant_id else
            b._replace(id=0, tenant_id=0, title="", status="confirmed", ends_at=b.occupied_until, checked_in_at=None,
                       tenant_name="", tenant_status="active", tenant_short_name=None, busy=True)
            for b in lane.bookings if b.tenant_id == user.tenant_id or b.status in BUSY_STATUSES]


def _flag_alerts(session: so.Session, lanes: list[Lane]) -> None:
    """Capacity alerts of the sessions live now (one grouped query for all lanes)."""
    from opsroom.services.sales import stats

    # Never checked in means not live (stats.is_live_now): most rows need no further look.
    figures = stats.live_loads(session, [b for lane in lanes for b in lane.bookings if b.checked_in_at is not None])
    for lane in lanes:
        lane.alerts = {b.id: figures[b.id][0] for b in lane.bookings if b.id in figures and figures[b.id][1]}


def _name_hosts(session: so.Session, lanes: list[Lane]) -> None:
    """Each booking's host, for its block (one query for all lanes)."""
    ids = [b.id for lane in lanes for b in lane.bookings]
    if not ids:
        return
    hosts: dict = {}
    rows = session.connection().execute(
        sa.select(Assignment.booking_id, Anchor.name).join(Anchor, Anchor.id == Assignment.anchor_id)
        .where(Assignment.booking_id.in_(ids), Assignment.role == "host").order_by(Assignment.id))
    for booking_id, name in rows:
        hosts.setdefault(booking_id, name)
    for lane in lanes:
        lane.hosts = {b.id: hosts[b.id] for b in lane.bookings if b.id in hosts}


def week(session: so.Session, user, room: Room, first: date, *, show_cancelled: bool = False) -> list[Lane]:
    """Seven lanes, one per local day from `first`, for one room (a tenant's
    account: other tenants' bookings as busy time only)."""
    require(user, "board.view")
    tz = settings_of(session).tz
    lanes = []
    for i in range(7):
        d = first + timedelta(days=i)
        window = hours.local_day(d, tz)
        lanes.append(Lane(d, window, room, open=hours.open_windows(room.open_time, room.close_time, window, tz)))
    span = Interval(lanes[0].window.start, lanes[-1].window.end)
    statuses = None if show_cancelled else ("hold", "confirmed", "live", "ended", "no_show")
    bookings, blackouts = _load(session, {room.id: room}, span, statuses)
    for lane in lanes:
        lane.bookings = [b for b in bookings if Interval(b.starts_at, b.ends_at).overlaps(lane.window)]
        lane.blackouts = [b for b in blackouts if Interval(b.starts_at, b.ends_at).overlaps(lane.window)]
    _mask_others(user, lanes)
    _flag_alerts(session, lanes)
    _name_hosts(session, lanes)
    return lanes


def zones_and_kinds(session: so.Session) -> tuple[list[str], list[str]]:
    """The active rooms' zones (in board order) and kinds (by name)."""
    zones = session.execute(
        sa.select(Room.zone, sa.func.min(sa.func.coalesce(Zone.sort_order, 0)))
        .outerjoin(Zone, Zone.name == Room.zone).where(Room.active.is_(True))
        .group_by(Room.zone).order_by(sa.func.min(sa.func.coalesce(Zone.sort_order, 0)), Room.zone)).scalars().all()
    kinds = session.scalars(sa.select(Room.kind).where(Room.active.is_(True)).distinct().order_by(Room.kind)).all()
    return [z for z in zones if z], [k for k in kinds if k]
