"""Sales of a session against its room's capacity (docs/domain.md, Metrics).

Everything is aggregated in SQL (a session may hold tens of thousands of
orders); the few grouped rows go to `opsroom.domain.metrics` for the
arithmetic. Definitions, including the live load behind capacity alerts, are in
that module's docstring.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import is_postgres
from opsroom.domain import metrics
from opsroom.domain.booking_rules import LONGEST_OCCUPANCY
from opsroom.domain.money import format_money
from opsroom.settings import settings_of
from opsroom.models import SOLD, Anchor, Assignment, Booking, LineupItem, Order, Room
from opsroom.services.bookings.core import get_booking

# Shifts the 5-minute step so that it is never negative before the integer
# division (SQLite's `/` truncates towards zero; floor is what we mean).
_STEP_SHIFT = 10**6


def live_now_clause(now: datetime):
    """Live now: checked in and inside its window, whether or not the scheduler
    has already moved it from confirmed to live. The lower bound on starts_at
    (no booking is longer) keeps it one short range of the starts_at index,
    not every booking that ever started (a year of them)."""
    return sa.and_(Booking.status.in_(("confirmed", "live")), Booking.checked_in_at.is_not(None),
                   Booking.starts_at <= now, Booking.starts_at >= now - LONGEST_OCCUPANCY, Booking.ends_at > now)


def is_live_now(booking: Booking, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return (booking.status in ("confirmed", "live") and booking.checked_in_at is not None
            and booking.starts_at <= now < booking.ends_at)


def _epoch_seconds(session: so.Session, column):
    """Whole seconds since 1970 of an instant column, on either engine."""
    if is_postgres(session):
        return sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)
    return sa.cast(sa.func.strftime("%s", column), sa.BigInteger)


# Sold orders (docs/domain.md), written out as literals so that SQLite can use the
# partial index on sold orders (it cannot match bound parameters to an index's WHERE).


def _minute_key(session: so.Session):
    """The minute an order falls in: SQLite stores UTC text, so the first 16
    characters ("2026-11-20 11:59") are its minute, with no date parsing per row."""
    if is_postgres(session):
        return sa.func.date_trunc("minute", Order.ordered_at)
    return sa.func.substr(Order.ordered_at, 1, 16)


def _minute(value) -> datetime:
    if isinstance(value, str):  # "2026-11-20 11:59": sliced, strptime is ten times slower
        return datetime(int(value[0:4]), int(value[5:7]), int(value[8:10]), int(value[11:13]), int(value[14:16]),
                        tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass
class ProductResult:
    """One lineup product's sales in the session (item None: every other product)."""

    item: LineupItem | None
    orders: int = 0
    quantity: int = 0
    gmv_fen: int = 0
    refund_fen: int = 0


@dataclass
class BookingStats:
    booking: Booking
    metrics: metrics.SessionMetrics
    live: bool
    live_load: Fraction | None
    alert: bool
    threshold_percent: int
    tz: ZoneInfo  # the park's, for the JSON's instants
    per_product: list[ProductResult] = field(default_factory=list)
    other: ProductResult | None = None


def _scan(session: so.Session, booking: Booking, items: list[LineupItem]):
    """One pass over the session's sold orders, grouped by time and lineup product.

    Time: the minute when the session starts on a whole minute (bookings lie on
    the park's grid), else the exact (5-minute step, UTC quarter hour) pair.
    Product: the lineup position matched by product id, else by SKU for orders
    that name no product (lineup products are the tenant's), else 0 (other).
    Returns (cells, per-product results, other, orders without a named buyer)."""
    start = booking.starts_at
    aligned = start.second == 0 and start.microsecond == 0
    if aligned:
        time_keys = [_minute_key(session)]
    else:
        epoch = _epoch_seconds(session, Order.ordered_at)
        shift = sa.literal(int(start.timestamp()) - 300 * _STEP_SHIFT, sa.BigInteger)
        time_keys = [(epoch - shift) // 300, epoch // 900]
    whens = []
    for n, item in enumerate(items, start=1):
        whens.append((Order.product_id == item.product_id, n))
        whens.append((sa.and_(Order.product_id.is_(None), Order.sku == item.product.sku), n))
    product_key = sa.case(*whens, else_=0) if whens else sa.literal(0)
    keys = [*time_keys, product_key]
    rows = session.execute(
        sa.select(*keys, sa.func.count(), sa.func.sum(Order.quantity), sa.func.sum(Order.amount_fen),
                  sa.func.sum(Order.refund_fen), sa.func.sum(sa.case((Order.status == "refunded", 1), else_=0)),
                  sa.func.sum(sa.case((Order.buyer == "", 1), else_=0)))
        .where(Order.booking_id == booking.id, SOLD).group_by(*keys)
    ).all()
    results = [ProductResult(item) for item in items]
    other = ProductResult(None)
    by_time: dict[tuple[int, int], list[int]] = {}
    unnamed = 0
    minutes: dict[Any, tuple[int, int]] = {}  # each minute comes once per product: convert it once
    for row in rows:
        if aligned:
            if row[0] not in minutes:
                minute = _minute(row[0])
                minutes[row[0]] = (int((minute - start).total_seconds() // 300), int(minute.timestamp()) // 900)
            (i5, q15), rest = minutes[row[0]], row[1:]
        else:
            i5, q15, rest = int(row[0]) - _STEP_SHIFT, int(row[1]), row[2:]
        n_product, count, qty, gmv, refunds, refunded, no_buyer = (int(x or 0) for x in rest)
        acc = by_time.setdefault((i5, q15), [0, 0, 0, 0])
        acc[0] += count
        acc[1] += gmv
        acc[2] += refunds
        acc[3] += refunded
        target = results[n_product - 1] if n_product else other
        target.orders += count
        target.quantity += qty
        target.gmv_fen += gmv
        target.refund_fen += refunds
        unnamed += no_buyer
    cells = [metrics.Cell(i5, q15, *acc) for (i5, q15), acc in by_time.items()]
    return cells, results, other, unnamed


def _buyers(session: so.Session, booking_id: int) -> int:
    """Distinct buyers of the session's sold orders."""
    named = sa.select(Order.buyer).where(Order.booking_id == booking_id, SOLD).group_by(Order.buyer).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(named)) or 0


def live_loads(session: so.Session, bookings: list[Booking], now: datetime | None = None,
               ) -> dict[int, tuple[Fraction | None, bool]]:
    """(live load, alert) of each given booking that is live now, in one query
    reading only the orders of the last window (an index range per booking).
    `bookings` need their room (capacity)."""
    now = now or clock.now()
    settings = settings_of(session)
    live = {b.id: b for b in bookings if is_live_now(b, now)}
    if not live:
        return {}
    cut = now - timedelta(minutes=settings.live_load_window_minutes)
    # Each session counts from max(window start, its own start). Sessions share a few
    # start instants (quarter hours), so one index range per group of them, with no
    # join to bookings (which PostgreSQL planned as a merge join over every booking).
    since: dict[datetime, list[int]] = {}
    for bid, b in live.items():
        since.setdefault(max(cut, b.starts_at), []).append(bid)
    groups = [sa.select(Order.booking_id, sa.func.count())
              .where(Order.booking_id.in_(ids), SOLD, Order.ordered_at >= start, Order.ordered_at < now)
              .group_by(Order.booking_id) for start, ids in sorted(since.items())]
    counts = dict(session.execute(groups[0] if len(groups) == 1 else sa.union_all(*groups)).all())
    out = {}
    for bid, b in live.items():
        since, until = metrics.live_window(b.starts_at, b.ends_at, now, settings.live_load_window_minutes)
        load_now = metrics.live_load(counts.get(bid, 0), b.room.order_capacity_per_hour, since, until)
        out[bid] = (load_now, metrics.is_alert(load_now, settings.capacity_alert_percent))
    return out


def booking_stats(session: so.Session, user, booking_id: int) -> BookingStats:
    """A session's sales against its room's capacity. Staff see any session, an
    anchor only one they are on (the booking's visibility rule)."""
    booking = get_booking(session, user, booking_id)
    room = booking.room
    settings = settings_of(session)
    items = session.scalars(
        sa.select(LineupItem).where(LineupItem.booking_id == booking.id)
        .options(so.joinedload(LineupItem.product)).order_by(LineupItem.position)
    ).all()
    cells, per_product, other, unnamed = _scan(session, booking, list(items))
    orders = sum(c.orders for c in cells)
    # Buyers are known only when every sold order names one.
    buyers = _buyers(session, booking.id) if orders and not unnamed else None
    m = metrics.session_metrics(starts_at=booking.starts_at, ends_at=booking.ends_at,
                                per_hour=room.order_capacity_per_hour, cells=cells, tz=settings.tz, buyers=buyers)
    now = clock.now()
    load_now, alert = live_loads(session, [booking], now).get(booking.id, (None, False))
    return BookingStats(booking, m, is_live_now(booking, now), load_now, alert, settings.capacity_alert_percent,
                        settings.tz, per_product, other)


def _ids(bookings: Iterable[Booking | int]) -> list[int]:
    return sorted({b if isinstance(b, int) else b.id for b in bookings})


def loads(session: so.Session, bookings: Iterable[Booking | int]) -> dict[int, float | None]:
    """Load (orders ÷ capacity, docs/domain.md) of many bookings in one query;
    None where the room has no capacity."""
    ids = _ids(bookings)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(Booking.id, Booking.starts_at, Booking.ends_at, Room.order_capacity_per_hour,
                  sa.func.count(Order.id))
        .join(Room, Room.id == Booking.room_id)
        .outerjoin(Order, sa.and_(Order.booking_id == Booking.id, SOLD))
        .where(Booking.id.in_(ids))
        .group_by(Booking.id, Booking.starts_at, Booking.ends_at, Room.order_capacity_per_hour)
    ).all()
    return {bid: metrics.as_float(metrics.ratio(n, metrics.capacity(cap, metrics.minutes_between(s, e))))
            for bid, s, e, cap, n in rows}


# ---------------------------------------------------------------------------
# JSON (docs/api.md field names; money as "129.90", instants in the park timezone)


def _instant(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat() if value else None


def _money(fen: int | None) -> str | None:
    return None if fen is None else format_money(fen)


def _number(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else round(float(value), 2)


def product_json(r: ProductResult) -> dict[str, Any]:
    out: dict[str, Any] = {"orders": r.orders, "quantity": r.quantity, "gmv": _money(r.gmv_fen),
                           "refunds": _money(r.refund_fen), "net_gmv": _money(r.gmv_fen - r.refund_fen)}
    if r.item is not None:
        p = r.item.product
        out = {"product_id": p.id, "sku": p.sku, "name": p.name, "position": r.item.position,
               "price": _money(p.price_fen), "planned_quantity": r.item.planned_quantity, **out}
    return out


def stats_json(s: BookingStats) -> dict[str, Any]:
    m = s.metrics
    return {
        "booking_id": s.booking.id,
        "orders": m.orders,
        "buyers": m.buyers,
        "gmv": _money(m.gmv_fen),
        "refunds": _money(m.refund_fen),
        "refunded_orders": m.refunded_orders,
        "net_gmv": _money(m.net_gmv_fen),
        "avg_order_value": _money(m.avg_order_fen),
        "orders_per_hour": metrics.as_float(m.orders_per_hour, 2),
        "peak_hour": _instant(m.peak_hour, s.tz),
        "peak_hour_orders": m.peak_hour_orders,
        "capacity_per_hour": s.booking.room.order_capacity_per_hour,
        "capacity": _number(m.capacity),
        "load": metrics.as_float(m.load),
        "live": s.live,
        "live_load": metrics.as_float(s.live_load),
        "alert": s.alert,
        "alert_threshold": s.threshold_percent / 100,
        "capacity_per_5min": _number(m.capacity_per_5min),
        "per_5min": [{"starts_at": _instant(t, s.tz), "orders": n} for t, n in m.per_5min],
        "outside_chart": m.outside_chart,
        "per_product": [product_json(r) for r in s.per_product],
        "other_products": product_json(s.other) if s.other else None,
    }


def anchors_of(session: so.Session, booking_ids: list[int], roles: tuple[str, ...] | None = None,
               ) -> dict[int, list[tuple[int, str]]]:
    """(anchor id, name) of each booking, in assignment order, in one query."""
    if not booking_ids:
        return {}
    q = (sa.select(Assignment.booking_id, Anchor.id, Anchor.name).join(Anchor, Anchor.id == Assignment.anchor_id)
         .where(Assignment.booking_id.in_(booking_ids)).order_by(Assignment.booking_id, Assignment.id))
    if roles:
        q = q.where(Assignment.role.in_(roles))
    out: dict[int, list[tuple[int, str]]] = {}
    for bid, aid, name in session.execute(q):
        out.setdefault(bid, []).append((aid, name))
    return out
