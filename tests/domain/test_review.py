"""The review's (复盘) arithmetic: earlier sessions taken together by sums, and
the best and worst quarter hour inside the session."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction

from opsroom.domain.review import SessionRow, best_and_worst_quarters, figures

T0 = datetime(2026, 11, 20, 11, 0, tzinfo=timezone.utc)


def steps(*counts):
    return [(T0 + timedelta(minutes=5 * i), n) for i, n in enumerate(counts)]


def test_best_and_worst_are_sliding_quarters_inside_the_session():
    series = steps(1, 0, 0, 5, 6, 7, 2, 40)  # the 40 comes after the session's 7 steps
    best, worst = best_and_worst_quarters(series, 7)
    assert best == (T0 + timedelta(minutes=15), 18)
    assert worst == (T0, 1)


def test_ties_take_the_earliest_and_a_short_session_has_none():
    assert best_and_worst_quarters(steps(0, 0, 0, 0), 4) == ((T0, 0), (T0, 0))
    assert best_and_worst_quarters(steps(3, 4), 2) is None


def test_figures_are_sums_divided_not_averages_of_ratios():
    rows = [SessionRow(T0, T0 + timedelta(hours=1), 100, 50, 500_000, 5),     # 1 h, 50 orders
            SessionRow(T0, T0 + timedelta(hours=3), 100, 30, 300_000, 0)]     # 3 h, 30 orders
    f = figures(rows)
    assert f.sessions == 2
    assert f.orders_per_hour == Fraction(80, 4)       # 20 an hour, not (50 + 10) / 2
    assert f.avg_order_fen == 10_000
    assert f.refund_rate == Fraction(5, 80)
    assert f.load == Fraction(80, 400)


def test_no_sessions_and_no_orders_give_no_ratios():
    empty = figures([])
    assert (empty.sessions, empty.orders_per_hour, empty.avg_order_fen, empty.refund_rate, empty.load) == (
        0, None, None, None, None)
    quiet = figures([SessionRow(T0, T0 + timedelta(hours=2), 0, 0, 0, 0)])
    assert (quiet.orders_per_hour, quiet.avg_order_fen, quiet.refund_rate, quiet.load) == (0, None, None, None)
