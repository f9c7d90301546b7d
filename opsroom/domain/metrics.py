"""Sales metrics of one session (docs/domain.md), from stored counts.

Pure arithmetic: the services aggregate orders in SQL and hand the counts here.
Ratios are computed exactly (``Fraction``) and never stored; money stays in
integer fen.

Definitions
-----------
- ``orders`` counts sold orders (paid or refunded); cancelled ones count nowhere.
- ``gmv`` sums the amounts of sold orders, refunds included; ``refunds`` sums
  what was refunded of them; ``net_gmv = gmv - refunds``.
- ``capacity`` = the room's order capacity per hour × the session's hours.
- ``load`` = orders ÷ capacity (None when the capacity is 0).
- ``orders_per_hour`` = orders ÷ the session's hours.
- ``avg_order_value`` = gmv ÷ orders, rounded half-up to the fen.
- ``peak_hour_orders``: the most orders in one park-local clock hour
  (e.g. 20:00–21:00), whatever the session's start.
- **live load**: while a session runs, the orders of its last
  ``window`` minutes (or of all its elapsed time, when shorter) ÷ the capacity
  of that same time. In the first hour it is "orders so far ÷ capacity of the
  elapsed time"; later it is the rate of the last hour against the room's
  hourly capacity. A live session whose live load is over the alert threshold
  raises a capacity alert.

Orders are grouped by two keys that refine every partition needed here:
``i5``, the 5-minute step since the session start, and ``q15``, the UTC quarter
hour (seconds since the epoch // 900). Every timezone in use today is offset
from UTC by a whole number of quarter hours, so a quarter hour lies inside one
park-local clock hour.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from fractions import Fraction

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BUCKET = timedelta(minutes=5)
QUARTER = timedelta(minutes=15)
# At most this many 5-minute buckets after the session's end in the chart
# (orders of the attribution grace); later ones count in `outside`.
MAX_TAIL_BUCKETS = 72


def minutes_between(start: datetime, end: datetime) -> Fraction:
    return Fraction(int((end - start).total_seconds() * 1_000_000), 60_000_000)


def capacity(per_hour: int, minutes: Fraction | int) -> Fraction:
    """Order capacity of `minutes` in a room that takes `per_hour` orders an hour."""
    return Fraction(per_hour) * Fraction(minutes) / 60


def ratio(part: int | Fraction, whole: int | Fraction) -> Fraction | None:
    """part ÷ whole, or None when the whole is 0 (a room without capacity)."""
    return None if not whole else Fraction(part) / Fraction(whole)


def average_fen(total_fen: int, count: int) -> int | None:
    """total ÷ count rounded half-up to the fen; None for no orders."""
    if count <= 0:
        return None
    q, r = divmod(total_fen, count)
    return q + (1 if 2 * r >= count else 0)


def as_float(value: Fraction | None, places: int = 4) -> float | None:
    return None if value is None else round(float(value), places)


def is_alert(live_load: Fraction | None, threshold_percent: int) -> bool:
    """A capacity alert: the live load is over the threshold (e.g. 90 %)."""
    return live_load is not None and live_load > Fraction(threshold_percent, 100)


def live_window(starts_at: datetime, ends_at: datetime, now: datetime,
                window_minutes: int) -> tuple[datetime, datetime] | None:
    """The span the live load looks at: [max(start, now - window), now), or None
    unless the session is running (start <= now < end)."""
    if not (starts_at <= now < ends_at):
        return None
    return max(starts_at, now - timedelta(minutes=window_minutes)), now


def live_load(orders_in_window: int, per_hour: int, since: datetime, until: datetime) -> Fraction | None:
    """Orders of [since, until) ÷ the capacity of that span (None if it is 0)."""
    return ratio(orders_in_window, capacity(per_hour, minutes_between(since, until)))


@dataclass(frozen=True)
class Cell:
    """Sold orders sharing one 5-minute step (`i5`) and one UTC quarter hour (`q15`)."""

    i5: int
    q15: int
    orders: int
    gmv_fen: int = 0
    refund_fen: int = 0
    refunded: int = 0


def quarter_start(q15: int) -> datetime:
    return EPOCH + q15 * QUARTER


def local_hour_start(instant: datetime, tz: tzinfo) -> datetime:
    """The UTC instant at which `instant`'s park-local clock hour began."""
    local = instant.astimezone(tz)
    return (instant - timedelta(minutes=local.minute, seconds=local.second,
                                microseconds=local.microsecond)).astimezone(UTC)


def peak_clock_hour(cells: Iterable[Cell], tz: tzinfo) -> tuple[datetime, int] | None:
    """(start of the park-local clock hour with the most orders, its orders);
    the earliest such hour on a tie; None without orders."""
    by_hour: dict[datetime, int] = defaultdict(int)
    for c in cells:
        if c.orders:
            by_hour[local_hour_start(quarter_start(c.q15), tz)] += c.orders
    if not by_hour:
        return None
    best = max(by_hour.values())
    return min(h for h, n in by_hour.items() if n == best), best


def session_buckets(minutes: Fraction) -> int:
    """How many 5-minute steps cover a session of `minutes` (the last may be partial)."""
    whole, part = divmod(Fraction(minutes), 5)
    return int(whole) + (1 if part else 0)


def five_minute_series(starts_at: datetime, session_minutes: Fraction,
                       cells: Iterable[Cell]) -> tuple[list[tuple[datetime, int]], int]:
    """Orders per 5-minute step from the session's start: every step of the
    session, then steps after the end up to the last order (at most
    MAX_TAIL_BUCKETS of them). Returns ([(step start, orders)], orders outside)."""
    counts: dict[int, int] = defaultdict(int)
    for c in cells:
        counts[c.i5] += c.orders
    n = session_buckets(session_minutes)
    last = max([n - 1, *(i for i, k in counts.items() if k and i < n + MAX_TAIL_BUCKETS)])
    series = [(starts_at + i * BUCKET, counts.get(i, 0)) for i in range(last + 1)]
    outside = sum(k for i, k in counts.items() if i < 0 or i > last)
    return series, outside


@dataclass(frozen=True)
class SessionMetrics:
    orders: int
    buyers: int | None
    gmv_fen: int
    refund_fen: int
    refunded_orders: int
    net_gmv_fen: int
    avg_order_fen: int | None
    minutes: Fraction
    orders_per_hour: Fraction | None
    capacity: Fraction
    load: Fraction | None
    peak_hour: datetime | None
    peak_hour_orders: int
    per_5min: list[tuple[datetime, int]]
    outside_chart: int
    capacity_per_5min: Fraction


def session_metrics(*, starts_at: datetime, ends_at: datetime, per_hour: int, cells: Iterable[Cell],
                    tz: tzinfo, buyers: int | None = None) -> SessionMetrics:
    """Every metric of docs/domain.md for one session from its order cells."""
    cells = list(cells)
    orders = sum(c.orders for c in cells)
    gmv = sum(c.gmv_fen for c in cells)
    refunds = sum(c.refund_fen for c in cells)
    minutes = minutes_between(starts_at, ends_at)
    cap = capacity(per_hour, minutes)
    peak = peak_clock_hour(cells, tz)
    series, outside = five_minute_series(starts_at, minutes, cells)
    return SessionMetrics(
        orders=orders, buyers=buyers, gmv_fen=gmv, refund_fen=refunds,
        refunded_orders=sum(c.refunded for c in cells), net_gmv_fen=gmv - refunds,
        avg_order_fen=average_fen(gmv, orders), minutes=minutes,
        orders_per_hour=ratio(orders * 60, minutes), capacity=cap, load=ratio(orders, cap),
        peak_hour=peak[0] if peak else None, peak_hour_orders=peak[1] if peak else 0,
        per_5min=series, outside_chart=outside, capacity_per_5min=capacity(per_hour, 5),
    )

