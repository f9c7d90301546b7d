"""The booking board: one local day of many rooms, or one room's week."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom.domain import hours
from opsroom.domain.booking_rules import LONGEST_OCCUPANCY
from opsroom.domain.intervals import Interval
from opsroom.i18n import park_tz
from opsroom.models import Blackout, Booking, Room, Tenant
from opsroom.security import require



@dataclass
class Lane:
    """One row of the board: a room on a day, or a day of a room."""

    key: object
    window: Interval
    room: Room
    bookings: list[Booking] = field(default_factory=list)
    blackouts: list[Blackout] = field(default_factory=list)
    open: list[Interval] = field(default_factory=list)
    # Live-now bookings whose live load is over the alert threshold (issue 7), by id.
    alerts: dict = field(default_factory=dict)


def _load(session: so.Session, room_ids: list[int], window: Interval, statuses: tuple[str, ...] | None):
    q = (
        sa.select(Booking)
        .where(Booking.room_id.in_(room_ids), Booking.starts_at < window.end,
               Booking.starts_at >= window.start - LONGEST_OCCUPANCY, Booking.ends_at > window.start)
        .options(so.joinedload(Booking.tenant).load_only(Tenant.id, Tenant.name, Tenant.status))
        .order_by(Booking.starts_at)
    )
    if statuses:
        q = q.where(Booking.status.in_(statuses))
    bookings = session.scalars(q).all()
    blackouts = session.scalars(
        sa.select(Blackout).where(Blackout.room_id.in_(room_ids), Blackout.starts_at < window.end,
                                  Blackout.ends_at > window.start)
    ).all()
    return bookings, blackouts


def day(session: so.Session, user, on: date, *, zone: str | None = None, kind: str | None = None,
        show_cancelled: bool = False) -> list[Lane]:
    """Every active room (filtered by zone/kind) with its bookings of one local day."""
    require(user, "board.read")
    tz = park_tz()
    window = hours.local_day(on, tz)
    q = sa.select(Room).where(Room.active.is_(True)).order_by(Room.zone, Room.code)
    if zone:
        q = q.where(Room.zone == zone)
    if kind:
        q = q.where(Room.kind == kind)
    rooms = session.scalars(q).all()
    openings: dict = {}  # rooms mostly share their hours: one computation per distinct pair
    for r in rooms:
        if (r.open_time, r.close_time) not in openings:
            openings[r.open_time, r.close_time] = hours.open_windows(r.open_time, r.close_time, window, tz)
    lanes = {r.id: Lane(r.id, window, r, open=list(openings[r.open_time, r.close_time])) for r in rooms}
    if not lanes:
        return []
    statuses = None if show_cancelled else ("hold", "confirmed", "live", "ended", "no_show")
    bookings, blackouts = _load(session, list(lanes), window, statuses)
    for b in bookings:
        lanes[b.room_id].bookings.append(b)
    for b in blackouts:
        lanes[b.room_id].blackouts.append(b)
    _flag_alerts(session, list(lanes.values()))
    return list(lanes.values())


def _flag_alerts(session: so.Session, lanes: list[Lane]) -> None:
    """Capacity alerts of the sessions live now (one grouped query for all lanes)."""
    from opsroom.services import stats

    figures = stats.live_loads(session, [b for lane in lanes for b in lane.bookings])
    for lane in lanes:
        lane.alerts = {b.id: figures[b.id][0] for b in lane.bookings if b.id in figures and figures[b.id][1]}


def week(session: so.Session, user, room: Room, first: date, *, show_cancelled: bool = False) -> list[Lane]:
    """Seven lanes, one per local day from `first`, for one room."""
    require(user, "board.read")
    tz = park_tz()
    lanes = []
    for i in range(7):
        d = first + timedelta(days=i)
        window = hours.local_day(d, tz)
        lanes.append(Lane(d, window, room, open=hours.open_windows(room.open_time, room.close_time, window, tz)))
    span = Interval(lanes[0].window.start, lanes[-1].window.end)
    statuses = None if show_cancelled else ("hold", "confirmed", "live", "ended", "no_show")
    bookings, blackouts = _load(session, [room.id], span, statuses)
    for lane in lanes:
        lane.bookings = [b for b in bookings if Interval(b.starts_at, b.ends_at).overlaps(lane.window)]
        lane.blackouts = [b for b in blackouts if Interval(b.starts_at, b.ends_at).overlaps(lane.window)]
    _flag_alerts(session, lanes)
    return lanes


def zones_and_kinds(session: so.Session) -> tuple[list[str], list[str]]:
    zones = session.scalars(sa.select(Room.zone).where(Room.active.is_(True)).distinct().order_by(Room.zone)).all()
    kinds = session.scalars(sa.select(Room.kind).where(Room.active.is_(True)).distinct().order_by(Room.kind)).all()
    return [z for z in zones if z], [k for k in kinds if k]
