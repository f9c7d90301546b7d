"""The forecast at booking (docs/forecast.md): what a session is expected to sell
per hour and in its peak clock hour, against the room's capacity, with the free
rooms of the same kind that would hold it.

The arithmetic is `opsroom.domain.forecast`; here the attributed history is
loaded in three short queries over a bounded window (`HISTORY_DAYS`):

1. the sessions the domain can use: the tenant's sessions with any of the
   query's anchors, the tenant's latest, the room kind's latest and the park's
   latest (each a short index range, together at most a few hundred rows);
2. their sold orders, counted per session and clock hour (the partial index on
   sold orders by session and time answers it alone);
3. their anchors.

`forecast_for` is the one entry point the other faces and services call (the
booking form, the API, a request's approval, the month planner);
`forecast_of_booking` is the same for an existing booking (its own room and
time, its own anchors; the booking itself never counts as free competition).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.db import among, is_postgres
from opsroom.domain import booking_rules
from opsroom.domain import forecast as fc
from opsroom.domain.intervals import Interval
from opsroom.models import SOLD, Assignment, Booking, Order, Room, SessionForecast, Tenant
from opsroom.services.bookings.availability import blackouts_by_room, busy_bookings, clashes_any
from opsroom.services.errors import ValidationFailed, found
from opsroom.services.permissions import can, require
from opsroom.services.transaction import transactional
from opsroom.settings import settings_of

UTC = timezone.utc

# Only sessions that ended within this many days before the forecast session count.
HISTORY_DAYS = 180
# Sessions that ended are those of these statuses (a live one past its end has ended too).
SESSION_STATUSES = ("ended", "live")
# At most this many of the tenant's sessions with the query's anchors are read (the
# time-of-day filter is the domain's); the tenant's, the kind's and the park's latest
# are read twice `MAX_SESSIONS` deep, so the domain's most recent `MAX_SESSIONS` by end
# are among them even where starts and ends are in another order.
ANCHOR_SESSIONS_LIMIT = 1000
LATEST_DEPTH = 2 * fc.MAX_SESSIONS


@dataclass(frozen=True)
class RoomForecast:
    """The API's Forecast object (docs/api.md, Forecast), before JSON."""

    forecast: fc.Forecast
    room: Room
    capacity_per_hour: int
    fits: bool
    better_rooms: list[fc.CandidateRoom]


def _round(value: float) -> float:
    return round(float(value), 1)


def forecast_json(result: RoomForecast) -> dict[str, Any]:
    f = result.forecast
    return {
        "orders_per_hour": {"p50": _round(f.orders_per_hour.p50), "p90": _round(f.orders_per_hour.p90)},
        "peak_hour_orders": {"p50": _round(f.peak_hour_orders.p50), "p90": _round(f.peak_hour_orders.p90)},
        "peak_hour": f.peak_hour,
        "basis": f.basis,
        "sessions": f.sessions,
        "capacity_per_hour": result.capacity_per_hour,
        "fits": result.fits,
        "better_rooms": [{"room_id": r.room_id, "code": r.code, "order_capacity_per_hour": r.capacity_per_hour}
                         for r in result.better_rooms],
    }


# ---------------------------------------------------------------------------
# The history


def _hour_key(session: so.Session, whole_hours: bool):
    """Orders are grouped per clock hour in SQL when the park's offset is whole hours
    (UTC hours are then its clock hours), else per UTC quarter hour (every offset in
    use is a multiple of 15 minutes) and folded into clock hours here."""
    postgres = is_postgres(session)
    if whole_hours:
        if postgres:   # sessions run in UTC (db.py); cheaper per order than arithmetic on EXTRACT's numeric
            return sa.func.date_trunc("hour", Order.ordered_at)
        return sa.func.substr(Order.ordered_at, 1, 13)   # "2026-11-20 11": SQLite keeps UTC text
    if postgres:
        return sa.cast(sa.func.floor(sa.extract("epoch", Order.ordered_at) / 900), sa.BigInteger)
    return sa.cast(sa.func.strftime("%s", Order.ordered_at), sa.BigInteger) / 900


def _key_start(value, whole_hours: bool) -> datetime:
    if isinstance(value, str):   # "2026-11-20 11"
        return datetime(int(value[0:4]), int(value[5:7]), int(value[8:10]), int(value[11:13]), tzinfo=UTC)
    return _EPOCH + timedelta(seconds=int(value) * (3600 if whole_hours else 900))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _whole_hour_zone(tz: ZoneInfo, around: datetime) -> bool:
    offsets = {(around + timedelta(days=d)).astimezone(tz).utcoffset() for d in (-HISTORY_DAYS, -90, 0)}
    return all(o is not None and o.total_seconds() % 3600 == 0 for o in offsets)


def load_history(session: so.Session, *, tenant_id: int, room_kind: str, anchor_ids: Iterable[int],
                 before: datetime, tz: ZoneInfo, history_days: int = HISTORY_DAYS) -> list[fc.PastSession]:
    """The sessions the forecast of a session starting at `before` reads: ended
    (or live and past their end) within `history_days` before it. Enough of them for
    the domain's fallbacks to answer as over the whole window (module docstring)."""
    since = before - timedelta(days=history_days)
    # A session that ended before `before` started before it: the upper bound keeps each part one
    # index range read backwards from `before` (not every future booking first).
    ended = sa.and_(Booking.status.in_(SESSION_STATUSES), Booking.ends_at < before, Booking.starts_at < before,
                    Booking.starts_at >= since - booking_rules.LONGEST_OCCUPANCY, Booking.ends_at >= since)
    latest = [Booking.starts_at.desc(), Booking.id.desc()]
    parts = [
        # ix_bookings_tenant_starts (migration 0011): the tenant's latest, read backwards.
        sa.select(Booking.id).where(ended, Booking.tenant_id == tenant_id).order_by(*latest).limit(LATEST_DEPTH),
        # `room_id + 0`: walk the bookings by time and look each room up, rather than every
        # booking of every room of the kind in the window, sorted (a kind has dozens of rooms).
        sa.select(Booking.id).join(Room, Room.id == Booking.room_id + 0)
        .where(ended, Room.kind == room_kind).order_by(*latest).limit(LATEST_DEPTH),
        sa.select(Booking.id).where(ended).order_by(*latest).limit(LATEST_DEPTH),
    ]
    anchors = sorted(set(anchor_ids))
    if anchors:
        with_anchors = sa.select(Assignment.booking_id).where(Assignment.anchor_id.in_(anchors))
        parts.append(sa.select(Booking.id).where(ended, Booking.tenant_id == tenant_id, Booking.id.in_(with_anchors))
                     .order_by(*latest).limit(ANCHOR_SESSIONS_LIMIT))
    # Each part keeps its own ORDER BY/LIMIT as a subquery (SQLite refuses them inside a bare UNION).
    ids_q = sa.union(*(sa.select(q.subquery().c.id) for q in parts))
    rows = session.execute(
        sa.select(Booking.id, Booking.tenant_id, Booking.starts_at, Booking.ends_at, Room.kind)
        .join(Room, Room.id == Booking.room_id).where(Booking.id.in_(ids_q))
    ).all()
    return list(summaries(session, rows, tz, around=before).values())


def summaries(session: so.Session, rows: Sequence, tz: ZoneInfo, *, around: datetime) -> dict[int, fc.PastSession]:
    """The domain's summary of each session of `rows` ((booking id, tenant id,
    starts_at, ends_at, room kind), …) by booking id: its sold orders, its peak
    clock hour and that hour's orders, its anchors. Two queries."""
    if not rows:
        return {}
    ids = [r[0] for r in rows]
    whole_hours = _whole_hour_zone(tz, around)
    key = _hour_key(session, whole_hours)
    # What comes back per group: the key itself, or (PostgreSQL's hour) its epoch hour, an
    # integer (converting hundreds of timestamptz values costs more than the query).
    shown = key
    if whole_hours and is_postgres(session):
        shown = sa.cast(sa.extract("epoch", key) / 3600, sa.BigInteger)
    per_hour: dict[int, dict] = {}
    anchors_of: dict[int, set[int]] = {}
    for chunk in range(0, len(ids), 5000):   # bound the IN lists (SQLite's variable limit)
        part = ids[chunk:chunk + 5000]
        for bid, k, n in session.execute(
            sa.select(Order.booking_id, shown, sa.func.count()).where(among(session, Order.booking_id, part), SOLD)
            .group_by(Order.booking_id, key)
        ):
            if not whole_hours:   # a quarter hour: fold it into its park-local clock hour
                start = _key_start(k, whole_hours)
                local = start.astimezone(tz)
                k = (start - timedelta(minutes=local.minute)).astimezone(UTC)
            # Whole-hour keys ("2026-11-20 11" or an epoch hour) sort as their instants do:
            # only each session's peak is turned into an instant, below.
            hours = per_hour.setdefault(bid, {})
            hours[k] = hours.get(k, 0) + int(n)
        for bid, aid in session.execute(sa.select(Assignment.booking_id, Assignment.anchor_id)
                                        .where(among(session, Assignment.booking_id, part))):
            anchors_of.setdefault(bid, set()).add(aid)
    out = {}
    for bid, tid, starts, ends, kind in rows:
        hours = per_hour.get(bid, {})
        if hours:
            best = max(hours.values())
            peak_at = min(h for h, n in hours.items() if n == best)
            if whole_hours:
                peak_at = _key_start(peak_at, True)
        else:
            best, peak_at = 0, None
        out[bid] = fc.PastSession(starts_at=starts, ends_at=ends, tenant_id=tid,
                                  anchor_ids=frozenset(anchors_of.get(bid, ())), room_kind=kind or "",
                                  orders=sum(hours.values()), peak_hour_orders=best, peak_at=peak_at)
    return out


# ---------------------------------------------------------------------------
# Rooms that would hold it


def free_rooms_of_kind(session: so.Session, room: Room, starts_at: datetime, ends_at: datetime, *,
                       min_capacity: float, exclude: set[int] | None = None) -> list[fc.CandidateRoom]:
    """Active rooms of `room`'s kind (not `room`) with at least `min_capacity`
    orders an hour that are free for the window: no booking (changeover included)
    or blackout in the way, and the window inside their hours and limits."""
    settings = settings_of(session)
    others = session.scalars(
        sa.select(Room).where(Room.kind == room.kind, Room.id != room.id, Room.active.is_(True),
                              Room.order_capacity_per_hour >= min_capacity)
    ).all()
    if not others:
        return []
    ids = [r.id for r in others]
    want = Interval(starts_at, ends_at)
    span = Interval(starts_at, ends_at + timedelta(minutes=max(r.changeover_minutes for r in others)))
    busy = busy_bookings(session, ids, span, exclude or set())
    blocked = blackouts_by_room(session, ids, want)
    shaped: dict[tuple, bool] = {}
    out = []
    for other in others:
        if clashes_any(want, other.changeover_minutes, busy[other.id], blocked[other.id]):
            continue
        key = (other.open_time, other.close_time, other.min_minutes, other.max_minutes)
        if key not in shaped:
            shaped[key] = not booking_rules.check_shape(
                starts_at, ends_at, open_time=other.open_time, close_time=other.close_time, tz=settings.tz,
                granularity_minutes=settings.booking_granularity_minutes, min_minutes=other.min_minutes,
                max_minutes=other.max_minutes)
        out.append(fc.CandidateRoom(other.id, other.code, other.kind, other.order_capacity_per_hour, shaped[key]))
    return out


# ---------------------------------------------------------------------------
# The entry points


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    details = []
    if ends_at <= starts_at:
        details.append({"field": "ends_at", "message": _l("The end must be after the start.")})
    elif ends_at - starts_at > timedelta(minutes=booking_rules.MAX_BOOKING_MINUTES):
        details.append({"field": "ends_at", "message": _l("A session is at most %(h)s hours long.",
                                                          h=booking_rules.MAX_BOOKING_MINUTES // 60)})
    if details:
        raise ValidationFailed(_l("Please correct the marked fields."), details)


def room_forecast(session: so.Session, *, tenant_id: int, room: Room, starts_at: datetime, ends_at: datetime,
                  anchor_ids: Sequence[int] = (), exclude_booking_ids: set[int] | None = None) -> RoomForecast:
    """The forecast without the permission check, for services that have made
    theirs (a request's approval, the planner): the same object as `forecast_for`."""
    tz = settings_of(session).tz
    query = fc.ForecastQuery(tenant_id=tenant_id, anchor_ids=frozenset(anchor_ids), room_kind=room.kind or "",
                             starts_at=starts_at, ends_at=ends_at, tz=tz)
    history = load_history(session, tenant_id=tenant_id, room_kind=room.kind or "", anchor_ids=anchor_ids,
                           before=query.starts_at, tz=tz)
    f = fc.forecast(query, history)
    peak = f.peak_hour_orders.p90
    capacity = room.order_capacity_per_hour
    # A room without a capacity set (0, "no capacity set" on the screen) has nothing to exceed.
    ok = capacity <= 0 or fc.fits(peak, capacity)
    better: list[fc.CandidateRoom] = []
    if not ok:
        candidates = free_rooms_of_kind(session, room, query.starts_at, query.ends_at, min_capacity=peak,
                                        exclude=exclude_booking_ids)
        better = fc.better_rooms(candidates, kind=room.kind, peak_p90=peak, exclude_room_id=room.id)
    return RoomForecast(f, room, capacity, ok, better)


def forecast_for(session: so.Session, actor, tenant_id: int, room_id: int, starts_at: datetime,
                 ends_at: datetime, anchor_ids: Sequence[int] = ()) -> RoomForecast:
    """The forecast of a session of `tenant_id` with `anchor_ids` in `room_id` over
    [starts_at, ends_at): expected orders per hour and in the peak hour (p50, p90),
    the basis it came from, the room's capacity, whether it fits, and the free rooms
    of the same kind that would (docs/api.md, Forecast)."""
    require(actor, "forecast.read")
    _check_window(starts_at, ends_at)
    room = found(session.get(Room, room_id), _l("No such room."))
    found(session.get(Tenant, tenant_id), _l("No such tenant."))
    return room_forecast(session, tenant_id=tenant_id, room=room, starts_at=starts_at, ends_at=ends_at,
                         anchor_ids=anchor_ids)


def forecast_of_booking(session: so.Session, actor, booking: Booking) -> RoomForecast | None:
    """The forecast of an existing booking (its room, time and anchors), or None
    for a role that may not read forecasts. The booking itself is left out of what
    keeps other rooms busy, so a better room is one it could move to."""
    if not can(actor, "forecast.read"):
        return None
    anchors = [a.anchor_id for a in booking.assignments]
    return room_forecast(session, tenant_id=booking.tenant_id, room=booking.room, starts_at=booking.starts_at,
                         ends_at=booking.ends_at, anchor_ids=anchors, exclude_booking_ids={booking.id})


# ---------------------------------------------------------------------------
# Stored forecasts: the expected load beside the actual (board, screen)

# A stored forecast older than this is recomputed (new sessions have ended since).
STALE_AFTER = timedelta(hours=12)
# The scheduler's sweep keeps the forecasts of the sessions starting this soon (and the live ones).
SWEEP_AHEAD = timedelta(days=2)
SWEEP_LIMIT = 300


@dataclass(frozen=True)
class ExpectedLoad:
    orders_per_hour: float      # p50
    peak_p90: float
    capacity_per_hour: int
    load: float | None          # p50 orders per hour ÷ capacity per hour (None without capacity)
    over: bool                  # the p90 peak exceeds the room's hourly capacity


def _expected(p50: float, peak_p90: float, capacity: int) -> ExpectedLoad:
    return ExpectedLoad(p50, peak_p90, capacity, p50 / capacity if capacity else None,
                        capacity > 0 and not fc.fits(peak_p90, capacity))


def expected_loads(session: so.Session, actor, booking_ids: Iterable[int]) -> dict[int, ExpectedLoad]:
    """The expected load of each of the bookings whose stored forecast is valid
    for its room and window, for a role that may read forecasts (else nothing)."""
    if not can(actor, "forecast.read"):
        return {}
    return stored_expected_loads(session, booking_ids)


def stored_expected_loads(session: so.Session, booking_ids: Iterable[int]) -> dict[int, ExpectedLoad]:
    """`expected_loads` without the role check, for a service that made its own (the
    screen). One query, no forecasting, so the board and the screen stay as fast as
    they were: `refresh_forecasts` (the scheduler) keeps the rows, and a booking
    without a valid one shows no expected load until then."""
    ids = sorted(set(booking_ids))
    out: dict[int, ExpectedLoad] = {}
    for chunk in range(0, len(ids), 5000):
        for bid, p50, peak, cap in session.execute(
            sa.select(Booking.id, SessionForecast.orders_per_hour_p50, SessionForecast.peak_p90,
                      Room.order_capacity_per_hour)
            .join(SessionForecast, SessionForecast.booking_id == Booking.id)
            .join(Room, Room.id == Booking.room_id)
            .where(Booking.id.in_(ids[chunk:chunk + 5000]), SessionForecast.room_id == Booking.room_id,
                   SessionForecast.starts_at == Booking.starts_at, SessionForecast.ends_at == Booking.ends_at)
        ):
            out[bid] = _expected(p50, peak, cap)
    return out


def store_forecast(session: so.Session, booking_id: int, room_id: int, starts_at: datetime, ends_at: datetime,
                   f: fc.Forecast) -> None:
    """Keep a booking's forecast (in a savepoint: a row another writer stored first is left as it is)."""
    values = dict(room_id=room_id, starts_at=starts_at, ends_at=ends_at,
                  orders_per_hour_p50=f.orders_per_hour.p50, orders_per_hour_p90=f.orders_per_hour.p90,
                  peak_p50=f.peak_hour_orders.p50, peak_p90=f.peak_hour_orders.p90, basis=f.basis,
                  sessions=f.sessions, computed_at=clock.now())
    stored = session.get(SessionForecast, booking_id)
    try:
        with session.begin_nested():
            if stored is None:
                session.add(SessionForecast(booking_id=booking_id, **values))
            else:
                for k, v in values.items():
                    setattr(stored, k, v)
    except IntegrityError:
        pass


@transactional
def refresh_forecasts(session: so.Session, *, limit: int = SWEEP_LIMIT) -> dict[str, int]:
    """The scheduler's sweep: forecast the active sessions that start within
    SWEEP_AHEAD (or are live) and have no valid stored forecast, or an old one;
    at most `limit` a run, the soonest first."""
    now = clock.now()
    rows = session.execute(
        sa.select(Booking.id, Booking.tenant_id, Booking.starts_at, Booking.ends_at, Room,
                  SessionForecast.room_id, SessionForecast.starts_at, SessionForecast.ends_at,
                  SessionForecast.computed_at)
        .join(Room, Room.id == Booking.room_id)
        .outerjoin(SessionForecast, SessionForecast.booking_id == Booking.id)
        .where(Booking.status.in_(("hold", "confirmed", "live")), Booking.ends_at > now,
               Booking.starts_at < now + SWEEP_AHEAD, Booking.starts_at >= now - booking_rules.LONGEST_OCCUPANCY)
        .order_by(Booking.starts_at, Booking.id)
    ).all()
    todo = [r for r in rows if r[5] != r[4].id or r[6] != r[2] or r[7] != r[3] or r[8] is None
            or now - r[8] >= STALE_AFTER][:limit]
    anchors: dict[int, list[int]] = {}
    if todo:
        for bid, aid in session.execute(sa.select(Assignment.booking_id, Assignment.anchor_id)
                                        .where(Assignment.booking_id.in_([r[0] for r in todo]))):
            anchors.setdefault(bid, []).append(aid)
    tz = settings_of(session).tz
    for bid, tid, starts, ends, room, *_ in todo:
        mine = anchors.get(bid, [])
        query = fc.ForecastQuery(tid, frozenset(mine), room.kind or "", starts, ends, tz)
        f = fc.forecast(query, load_history(session, tenant_id=tid, room_kind=room.kind or "", anchor_ids=mine,
                                            before=query.starts_at, tz=tz))
        store_forecast(session, bid, room.id, starts, ends, f)
    return {"forecast": len(todo)}
