"""What is free: clashes of a wanted slot with bookings and blackouts, a room's
bookable and free windows, and the alternatives offered when a slot is taken."""
from __future__ import annotations

from zoneinfo import ZoneInfo
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.domain import availability, booking_rules, hours
from opsroom.domain.intervals import Interval, subtract
from opsroom.settings import settings_of
from opsroom.models import Blackout, Booking, Room
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.services.permissions import require
from opsroom.services.errors import Conflict, found
from opsroom.services.bookings.core import clash_detail
from opsroom.services.reporting.turned_away import record_turned_away


def busy_bookings(session: so.Session, room_ids: list[int], window: Interval, exclude: set[int]) -> dict[int, list[Booking]]:
    """Active bookings of the rooms whose occupied range meets `window`."""
    rows = session.scalars(
        sa.select(Booking).where(
            Booking.room_id.in_(room_ids),
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at < window.end,
            Booking.starts_at >= window.start - booking_rules.LONGEST_OCCUPANCY,
            Booking.occupied_until > window.start,
        )
    ).all()
    out: dict[int, list[Booking]] = {rid: [] for rid in room_ids}
    for b in rows:
        if b.id not in exclude:
            out[b.room_id].append(b)
    return out


def blackouts_by_room(session: so.Session, room_ids: list[int], window: Interval) -> dict[int, list[Blackout]]:
    rows = session.scalars(
        sa.select(Blackout).where(
            Blackout.room_id.in_(room_ids), Blackout.starts_at < window.end, Blackout.ends_at > window.start
        )
    ).all()
    out: dict[int, list[Blackout]] = {rid: [] for rid in room_ids}
    for b in rows:
        out[b.room_id].append(b)
    return out


def clashes_of(occ: Interval, changeover: int, busy: list[Booking], blackouts: list[Blackout],
               tz: ZoneInfo) -> list[dict]:
    """A booking over `occ` clashes with a booking whose occupied range meets its
    own occupied range [start, end + changeover), and with a blackout over [start, end)."""
    mine = booking_rules.occupied(occ.start, occ.end, changeover)
    found = [clash_detail("room", b, tz) for b in busy if Interval(b.starts_at, b.occupied_until).overlaps(mine)]
    found += [clash_detail("blackout", b, tz) for b in blackouts if Interval(b.starts_at, b.ends_at).overlaps(occ)]
    return found


def clashes_any(occ: Interval, changeover: int, busy: list[Booking], blackouts: list[Blackout]) -> bool:
    """Whether clashes_of would find any (without describing them)."""
    mine = booking_rules.occupied(occ.start, occ.end, changeover)
    return (any(Interval(b.starts_at, b.occupied_until).overlaps(mine) for b in busy)
            or any(Interval(b.starts_at, b.ends_at).overlaps(occ) for b in blackouts))


def find_clashes(session: so.Session, room: Room, starts_at: datetime, ends_at: datetime,
                 exclude: set[int] | None = None) -> list[dict]:
    occ = Interval(starts_at, ends_at)
    span = booking_rules.occupied(starts_at, ends_at, room.changeover_minutes)
    busy = busy_bookings(session, [room.id], span, exclude or set())[room.id]
    blackouts = blackouts_by_room(session, [room.id], occ)[room.id]
    return clashes_of(occ, room.changeover_minutes, busy, blackouts, settings_of(session).tz)


def bookable_windows(session: so.Session, room: Room, window: Interval) -> list[Interval]:
    """Open hours ∩ window, minus blackouts."""
    opened = hours.open_windows(room.open_time, room.close_time, window, settings_of(session).tz)
    closed = [Interval(b.starts_at, b.ends_at) for b in blackouts_by_room(session, [room.id], window)[room.id]]
    return subtract(opened, closed)


def alternatives(session: so.Session, room: Room, starts_at: datetime, ends_at: datetime,
                 exclude: set[int] | None = None) -> dict[str, list[dict]]:
    """Where else the wanted slot fits: the same window in other free rooms of
    the same kind, and the nearest free windows in the asked room that day."""
    settings = settings_of(session)
    tz = settings.tz
    exclude = exclude or set()
    want = Interval(starts_at, ends_at)
    limit = settings.alternatives_limit

    others = session.scalars(
        sa.select(Room).where(Room.kind == room.kind, Room.id != room.id, Room.active.is_(True)).order_by(Room.code)
    ).all()
    rooms_out: list[dict] = []
    if others:
        ids = [r.id for r in others]
        span = Interval(starts_at, ends_at + timedelta(minutes=max(r.changeover_minutes for r in others)))
        busy = busy_bookings(session, ids, span, exclude)
        blk = blackouts_by_room(session, ids, want)
        misshapen: dict[tuple, bool] = {}  # rooms of a kind mostly share their hours and limits
        for other in others:
            if clashes_any(want, other.changeover_minutes, busy[other.id], blk[other.id]):
                continue
            key = (other.open_time, other.close_time, other.min_minutes, other.max_minutes)
            if key not in misshapen:
                misshapen[key] = bool(booking_rules.check_shape(
                    starts_at, ends_at, open_time=other.open_time, close_time=other.close_time, tz=tz,
                    granularity_minutes=settings.booking_granularity_minutes, min_minutes=other.min_minutes,
                    max_minutes=other.max_minutes,
                ))
            if misshapen[key]:
                continue
            rooms_out.append({"room_id": other.id, "code": other.code, "name": other.name,
                              "starts_at": starts_at.astimezone(tz).isoformat(),
                              "ends_at": ends_at.astimezone(tz).isoformat()})
            if len(rooms_out) >= limit:
                break

    day = hours.local_day(starts_at.astimezone(tz).date(), tz)
    now = clock.now()
    bookable = subtract(bookable_windows(session, room, day), [Interval(day.start, max(day.start, now))])
    busy_here = busy_bookings(session, [room.id], Interval(day.start, day.end + timedelta(days=1)), exclude)[room.id]
    slots = availability.nearest_slots(
        want=want, bookable=bookable, busy_occupied=[Interval(b.starts_at, b.occupied_until) for b in busy_here],
        changeover_minutes=room.changeover_minutes, granularity_minutes=settings.booking_granularity_minutes, tz=tz, limit=limit,
    )
    return {
        "rooms": rooms_out,
        "slots": [{"starts_at": s.start.astimezone(tz).isoformat(), "ends_at": s.end.astimezone(tz).isoformat()}
                  for s in slots],
    }


def free_windows(session: so.Session, user, room_id: int, day: date) -> list[Interval]:
    """The room's free time on a park-local day: open hours, minus blackouts,
    minus what active bookings occupy (their changeover included)."""
    require(user, "rooms.read")
    room = found(session.get(Room, room_id), _l("No such room."))
    window = hours.local_day(day, settings_of(session).tz)
    busy = busy_bookings(session, [room.id], window, set())[room.id]
    return availability.free_windows(
        bookable_windows(session, room, window), [Interval(b.starts_at, b.occupied_until) for b in busy]
    )


def raise_conflict(session: so.Session, room: Room, clashes: list[dict], want: Interval | None,
                    exclude: set[int] | None = None, *, user=None, tenant_id: int | None = None,
                    refused: list[Interval] | None = None) -> None:
    extra = {}
    if want is not None:
        extra["alternatives"] = alternatives(session, room, want.start, want.end, exclude)

    record_turned_away(session, user, room, refused if refused is not None else [want] if want else [],
                               tenant_id)
    raise Conflict(_l("The room is taken at this time."), clashes, **extra)
