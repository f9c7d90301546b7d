"""Session metrics (docs/domain.md): exact ratios, money in fen, clock hours in the park's zone."""
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsroom.domain import metrics
from opsroom.domain.metrics import Cell

TZ = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
START = datetime(2026, 11, 20, 19, 30, tzinfo=TZ)


def q15(local: datetime) -> int:
    return int(local.timestamp()) // 900


def cell(minutes_after_start: int, orders: int, **kw) -> Cell:
    at = START + timedelta(minutes=minutes_after_start)
    return Cell(minutes_after_start // 5, q15(at), orders, **kw)


def test_capacity_and_load_are_exact_fractions():
    """Capacity = per hour × hours; load = orders ÷ capacity, None without capacity."""
    assert metrics.capacity(600, 90) == 900
    assert metrics.capacity(650, 15) == Fraction(325, 2)
    assert metrics.ratio(450, metrics.capacity(600, 90)) == Fraction(1, 2)
    assert metrics.ratio(10, metrics.capacity(0, 120)) is None


@pytest.mark.parametrize("total,count,avg", [(1000, 3, 333), (1001, 2, 501), (999, 2, 500), (0, 1, 0), (5, 0, None)])
def test_average_order_value_rounds_half_up_to_the_fen(total, count, avg):
    assert metrics.average_fen(total, count) == avg


def test_peak_clock_hour_is_a_park_local_clock_hour_not_an_hour_from_the_start():
    """A session from 19:30: 40 orders in 19:30–20:00 and 30 in 20:00–20:30 make 19:00–20:00 hold 40,
    20:00–21:00 hold 30 + 20 = 50: the peak is 20:00 with 50."""
    cells = [cell(0, 25), cell(20, 15), cell(30, 30), cell(65, 20)]
    start, n = metrics.peak_clock_hour(cells, TZ)
    assert (start.astimezone(TZ).hour, n) == (20, 50)


def test_peak_clock_hour_on_a_tie_is_the_earlier_hour_and_none_without_orders():
    cells = [cell(0, 10), cell(40, 10)]
    start, n = metrics.peak_clock_hour(cells, TZ)
    assert (start.astimezone(TZ).hour, n) == (19, 10)
    assert metrics.peak_clock_hour([], TZ) is None


def test_peak_clock_hour_in_a_zone_with_a_half_hour_offset():
    """In Asia/Kolkata (+05:30) clock hours begin at UTC :30."""
    kolkata = ZoneInfo("Asia/Kolkata")
    at = datetime(2026, 11, 20, 20, 10, tzinfo=kolkata)  # 14:40 UTC
    start, n = metrics.peak_clock_hour([Cell(0, int(at.timestamp()) // 900, 7)], kolkata)
    assert start.astimezone(kolkata) == datetime(2026, 11, 20, 20, 0, tzinfo=kolkata) and n == 7


def test_five_minute_series_covers_the_session_and_the_grace_tail():
    """A 30-minute session has 6 steps; an order 12 minutes after the end adds steps up to its own."""
    series, outside = metrics.five_minute_series(START, Fraction(30), [Cell(0, 0, 3), Cell(8, 0, 2)])
    assert [n for _, n in series] == [3, 0, 0, 0, 0, 0, 0, 0, 2]
    assert series[0][0] == START and series[-1][0] == START + timedelta(minutes=40)
    assert outside == 0


def test_orders_before_the_start_or_far_after_the_end_are_counted_outside_the_chart():
    series, outside = metrics.five_minute_series(START, Fraction(30), [Cell(-1, 0, 4), Cell(6 + 500, 0, 1)])
    assert len(series) == 6 and outside == 5


def test_live_window_is_the_last_hour_or_the_elapsed_time():
    end = START + timedelta(hours=3)
    assert metrics.live_window(START, end, START + timedelta(minutes=20), 60) == (START, START + timedelta(minutes=20))
    now = START + timedelta(minutes=150)
    assert metrics.live_window(START, end, now, 60) == (now - timedelta(minutes=60), now)
    assert metrics.live_window(START, end, end, 60) is None
    assert metrics.live_window(START, end, START - timedelta(seconds=1), 60) is None


def test_live_load_and_alert_threshold_is_strictly_over():
    since, until = START, START + timedelta(minutes=30)
    assert metrics.live_load(270, 600, since, until) == Fraction(9, 10)
    assert not metrics.is_alert(Fraction(9, 10), 90)
    assert metrics.is_alert(Fraction(271, 300), 90)
    assert not metrics.is_alert(None, 90)
    assert metrics.live_load(5, 0, since, until) is None


@given(st.lists(st.tuples(st.integers(-20, 200), st.integers(0, 50)), max_size=40),
       st.integers(1, 96).map(lambda k: k * 5))
def test_every_order_is_in_the_chart_or_counted_outside(pairs, minutes):
    cells = [Cell(i, 0, n) for i, n in pairs]
    series, outside = metrics.five_minute_series(START, Fraction(minutes), cells)
    assert sum(n for _, n in series) + outside == sum(n for _, n in pairs)
    assert len(series) >= minutes // 5


@given(st.lists(st.tuples(st.integers(0, 300), st.integers(1, 30), st.integers(0, 10**7)), max_size=40),
       st.integers(0, 5000), st.integers(1, 720))
def test_session_metrics_add_up(raw, per_hour, minutes):
    """GMV − refunds = net; average × orders is within half a fen per order of GMV; load = orders ÷ capacity;
    the peak hour never exceeds the orders."""
    cells = [Cell(m // 5, q15(START + timedelta(minutes=m)), n, gmv_fen=g, refund_fen=g // 3, refunded=n // 2)
             for m, n, g in raw]
    m = metrics.session_metrics(starts_at=START, ends_at=START + timedelta(minutes=minutes), per_hour=per_hour,
                                cells=cells, tz=TZ)
    assert m.net_gmv_fen == m.gmv_fen - m.refund_fen
    assert m.peak_hour_orders <= m.orders
    if m.orders:
        assert abs(m.avg_order_fen * m.orders - m.gmv_fen) <= Fraction(m.orders, 2)
        assert m.orders_per_hour == Fraction(m.orders * 60, minutes)
    else:
        assert m.avg_order_fen is None and m.peak_hour is None
    if per_hour:
        assert m.load * m.capacity == m.orders
    else:
        assert m.load is None
