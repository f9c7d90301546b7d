"""Sales of a session against its room's capacity (DESIGN.md §4 metrics).

Everything is aggregated in SQL (a session may hold tens of thousands of
orders); the few grouped rows go to `opsroom.domain.metrics` for the
arithmetic. Definitions, including the live load behind capacity alerts, are in
that module's docstring.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from opsroom import clock
from opsroom.domain import metrics
from opsroom.domain.money import format_money
from opsroom.i18n import park_tz
from opsroom.models import SOLD_STATUSES, Anchor, Assignment, Booking, LineupItem, Order, Room
from opsroom.services.booking_core import get_booking

# Shifts the 5-minute step so that it is never negative before the integer
# division (SQLite's `/` truncates towards zero; floor is what we mean).
_STEP_SHIFT = 10**6


def settings() -> dict[str, int]:
    cfg = current_app.config
    return {"threshold": cfg["CAPACITY_ALERT_PERCENT"], "window": cfg["LIVE_LOAD_WINDOW_MINUTES"]}


def live_now_clause(now: datetime):
    """Live now: checked in and inside its window, whether or not the scheduler
    has already moved it from confirmed to live."""
    return sa.and_(Booking.status.in_(("confirmed", "live")), Booking.checked_in_at.is_not(None),
                   Booking.starts_at <= now, Booking.ends_at > now)


def is_live_now(booking: Booking, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return (booking.status in ("confirmed", "live") and booking.checked_in_at is not None
            and booking.starts_at <= now < booking.ends_at)


def _epoch_seconds(session: so.Session, column):
    """Whole seconds since 1970 of an instant column, on either engine."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)
    return sa.cast(sa.func.strftime("%s", column), sa.BigInteger)


_sold = Order.status.in_(SOLD_STATUSES)


def _cells(session: so.Session, booking: Booking) -> list[metrics.Cell]:
    epoch = _epoch_seconds(session, Order.ordered_at)
    start = int(booking.starts_at.timestamp())
    i5 = (epoch - sa.literal(start - 300 * _STEP_SHIFT, sa.BigInteger)) // 300
    q15 = epoch // 900
    rows = session.execute(
        sa.select(i5.label("i5"), q15.label("q15"), sa.func.count(), sa.func.sum(Order.amount_fen),
                  sa.func.sum(Order.refund_fen),
                  sa.func.sum(sa.case((Order.status == "refunded", 1), else_=0)))
        .where(Order.booking_id == booking.id, _sold).group_by(i5, q15)
    ).all()
    return [metrics.Cell(int(a) - _STEP_SHIFT, int(q), n, int(g or 0), int(r or 0), int(k or 0))
            for a, q, n, g, r, k in rows]


def _buyers(session: so.Session, booking_id: int) -> int | None:
    """Distinct buyers, known only when every sold order names its buyer."""
    distinct, unnamed = session.execute(
        sa.select(sa.func.count(sa.distinct(sa.func.nullif(Order.buyer, ""))),
                  sa.func.sum(sa.case((Order.buyer == "", 1), else_=0)))
        .where(Order.booking_id == booking_id, _sold)
    ).one()
    return None if (unnamed or 0) > 0 or not distinct else int(distinct)


@dataclass
class ProductResult:
    """One lineup product's sales in the session."""

    item: LineupItem
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
    per_product: list[ProductResult] = field(default_factory=list)
    other: ProductResult | None = None


def _per_product(session: so.Session, booking: Booking) -> tuple[list[ProductResult], ProductResult]:
    """Lineup products by product_id, else by SKU (lineup products are the tenant's)."""
    items = session.scalars(
        sa.select(LineupItem).where(LineupItem.booking_id == booking.id)
        .options(so.joinedload(LineupItem.product)).order_by(LineupItem.position)
    ).all()
    results = [ProductResult(item) for item in items]
    by_id = {r.item.product_id: r for r in results}
    by_sku = {r.item.product.sku: r for r in results}
    other = ProductResult(item=None)  # type: ignore[arg-type]
    rows = session.execute(
        sa.select(Order.product_id, Order.sku, sa.func.count(), sa.func.sum(Order.quantity),
                  sa.func.sum(Order.amount_fen), sa.func.sum(Order.refund_fen))
        .where(Order.booking_id == booking.id, _sold).group_by(Order.product_id, Order.sku)
    ).all()
    for product_id, sku, n, qty, gmv, refunds in rows:
        target = by_id.get(product_id) if product_id is not None else by_sku.get(sku)
        target = target or other
        target.orders += n
        target.quantity += int(qty or 0)
        target.gmv_fen += int(gmv or 0)
        target.refund_fen += int(refunds or 0)
    return results, other


def _live_orders(session: so.Session, booking_id: int, since: datetime, until: datetime) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(Order)
        .where(Order.booking_id == booking_id, _sold, Order.ordered_at >= since, Order.ordered_at < until)
    ) or 0


def booking_stats(session: so.Session, user, booking_id: int) -> BookingStats:
    """A session's sales against its room's capacity. Staff see any session, an
    anchor only one they are on (the booking's visibility rule)."""
    booking = get_booking(session, user, booking_id)
    room = booking.room
    conf = settings()
    m = metrics.session_metrics(starts_at=booking.starts_at, ends_at=booking.ends_at,
                                per_hour=room.order_capacity_per_hour, cells=_cells(session, booking),
                                tz=park_tz(), buyers=_buyers(session, booking.id))
    now = clock.now()
    live = is_live_now(booking, now)
    load_now = None
    if live:
        since, until = metrics.live_window(booking.starts_at, booking.ends_at, now, conf["window"])
        load_now = metrics.live_load(_live_orders(session, booking.id, since, until),
                                     room.order_capacity_per_hour, since, until)
    per_product, other = _per_product(session, booking)
    return BookingStats(booking, m, live, load_now, live and metrics.is_alert(load_now, conf["threshold"]),
                        conf["threshold"], per_product, other)


def _ids(bookings: Iterable[Booking | int]) -> list[int]:
    return sorted({b if isinstance(b, int) else b.id for b in bookings})


def loads(session: so.Session, bookings: Iterable[Booking | int]) -> dict[int, float | None]:
    """Load (orders ÷ capacity, DESIGN.md §4) of many bookings in one query;
    None where the room has no capacity."""
    ids = _ids(bookings)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(Booking.id, Booking.starts_at, Booking.ends_at, Room.order_capacity_per_hour,
                  sa.func.count(Order.id))
        .join(Room, Room.id == Booking.room_id)
        .outerjoin(Order, sa.and_(Order.booking_id == Booking.id, _sold))
        .where(Booking.id.in_(ids))
        .group_by(Booking.id, Booking.starts_at, Booking.ends_at, Room.order_capacity_per_hour)
    ).all()
    return {bid: metrics.as_float(metrics.ratio(n, metrics.capacity(cap, metrics.minutes_between(s, e))))
            for bid, s, e, cap, n in rows}


@dataclass(frozen=True)
class LiveFigures:
    orders: int
    gmv_fen: int
    live_load: Fraction | None
    alert: bool


def live_figures(session: so.Session, bookings: list[Booking], now: datetime | None = None,
                 ) -> dict[int, LiveFigures]:
    """Orders, GMV, live load and alert of the given bookings that are live now,
    in one query. `bookings` need their room loaded (capacity)."""
    now = now or clock.now()
    conf = settings()
    live = {b.id: b for b in bookings if is_live_now(b, now)}
    if not live:
        return {}
    cut = now - timedelta(minutes=conf["window"])
    in_window = sa.case((sa.and_(Order.ordered_at >= cut, Order.ordered_at >= Booking.starts_at,
                                 Order.ordered_at < now), 1), else_=0)
    rows = session.execute(
        sa.select(Order.booking_id, sa.func.count(), sa.func.sum(Order.amount_fen), sa.func.sum(in_window))
        .join(Booking, Booking.id == Order.booking_id)
        .where(Order.booking_id.in_(list(live)), _sold).group_by(Order.booking_id)
    ).all()
    counted = {bid: (n, int(g or 0), int(w or 0)) for bid, n, g, w in rows}
    out = {}
    for bid, b in live.items():
        n, gmv, w = counted.get(bid, (0, 0, 0))
        since, until = metrics.live_window(b.starts_at, b.ends_at, now, conf["window"])
        load_now = metrics.live_load(w, b.room.order_capacity_per_hour, since, until)
        out[bid] = LiveFigures(n, gmv, load_now, metrics.is_alert(load_now, conf["threshold"]))
    return out


# ---------------------------------------------------------------------------
# JSON (API.md field names; money as "129.90", instants in the park timezone)


def _instant(value: datetime | None) -> str | None:
    return value.astimezone(park_tz()).isoformat() if value else None


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
        "peak_hour": _instant(m.peak_hour),
        "peak_hour_orders": m.peak_hour_orders,
        "capacity_per_hour": s.booking.room.order_capacity_per_hour,
        "capacity": _number(m.capacity),
        "load": metrics.as_float(m.load),
        "live": s.live,
        "live_load": metrics.as_float(s.live_load),
        "alert": s.alert,
        "alert_threshold": s.threshold_percent / 100,
        "capacity_per_5min": _number(m.capacity_per_5min),
        "per_5min": [{"starts_at": _instant(t), "orders": n} for t, n in m.per_5min],
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
