"""The post-live review's (复盘) arithmetic: a session's figures against earlier
sessions, and its best and worst quarter hour. Pure: rows in, figures out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Iterable

from .metrics import average_fen, capacity, minutes_between, ratio

QUARTER_STEPS = 3  # 15 minutes of 5-minute steps
QUARTER = timedelta(minutes=15)


@dataclass(frozen=True)
class SessionRow:
    """One session's totals: its window, its room's hourly capacity, its sold
    orders, their GMV and how many were refunded."""
    starts_at: datetime
    ends_at: datetime
    per_hour: int
    orders: int
    gmv_fen: int
    refunded: int


@dataclass(frozen=True)
class Figures:
    sessions: int
    orders_per_hour: Fraction | None
    avg_order_fen: int | None
    refund_rate: Fraction | None
    load: Fraction | None


def figures(rows: Iterable[SessionRow]) -> Figures:
    """Sessions taken together: sums divided, never an average of ratios (a
    long session weighs more than a short one, as in the reports)."""
    rows = list(rows)
    minutes = sum((minutes_between(r.starts_at, r.ends_at) for r in rows), Fraction(0))
    orders = sum(r.orders for r in rows)
    cap = sum((capacity(r.per_hour, minutes_between(r.starts_at, r.ends_at)) for r in rows), Fraction(0))
    return Figures(
        sessions=len(rows),
        orders_per_hour=ratio(orders * 60, minutes) if rows else None,
        avg_order_fen=average_fen(sum(r.gmv_fen for r in rows), orders),
        refund_rate=ratio(sum(r.refunded for r in rows), orders),
        load=ratio(orders, cap),
    )


def best_and_worst_quarters(per_5min: list[tuple[datetime, int]], session_steps: int,
                            ) -> tuple[tuple[datetime, int], tuple[datetime, int]] | None:
    """The session's 15 minutes (three consecutive 5-minute steps, inside the
    session) with the most and with the fewest orders, each (start, orders);
    the earliest on a tie; None for a session shorter than 15 minutes."""
    steps = per_5min[:session_steps]
    if len(steps) < QUARTER_STEPS:
        return None
    windows = [(steps[i][0], sum(n for _, n in steps[i:i + QUARTER_STEPS]))
               for i in range(len(steps) - QUARTER_STEPS + 1)]
    best = max(windows, key=lambda w: (w[1], -w[0].timestamp()))
    worst = min(windows, key=lambda w: (w[1], w[0].timestamp()))
    return best, worst
