"""Session forecast (opsroom/domain/forecast.py): the fallback order of the bases,
the weighted-quantile arithmetic on hand-built histories, recency and weekday
weights, the backtest's blindness to the future, the better-rooms helper, and
the edges (no history, zero orders, park-local time in Asia/Shanghai)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsroom.domain import forecast as fc
from opsroom.domain.forecast_backtest import backtest
from opsroom.domain.forecast import (
    BASES, CandidateRoom, ForecastQuery, PastSession, Range, better_rooms, fits, forecast,
    time_of_day, weighted_quantiles,
)

TZ = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
# The forecast session: Friday 20 Nov 2026, 20:00–23:00 park time (prime time).
FRIDAY = datetime(2026, 11, 20, 20, 0, tzinfo=TZ)


def query(*, tenant=1, anchors=(1,), kind="standard", start=FRIDAY, hours=3) -> ForecastQuery:
    return ForecastQuery(tenant, frozenset(anchors), kind, start, start + timedelta(hours=hours), TZ)


def past(days_before: float, *, tenant=1, anchors=(1,), kind="standard", hour=20, hours=2.0,
         orders=200, peak=None, peak_offset=None, start=FRIDAY) -> PastSession:
    """A session `days_before` the forecast's day, starting at `hour` park time,
    with `orders` in all (so orders/hour = orders / hours)."""
    begin = (start - timedelta(days=days_before)).replace(hour=hour)
    peak_at = None if peak_offset is None else begin.replace(minute=0) + timedelta(hours=peak_offset)
    return PastSession(begin, begin + timedelta(hours=hours), tenant, frozenset(anchors), kind, orders,
                       orders if peak is None else peak, peak_at)


# --- weighted quantiles ---------------------------------------------------------------------------

def test_equal_weights_give_the_hazen_quantiles():
    """Each value sits at the middle of its weight: 10, 20, 30, 40 at 1/8, 3/8, 5/8, 7/8;
    the median interpolates to 25, p25 to 15; p90 is above the last position, so the largest."""
    assert weighted_quantiles([40, 10, 30, 20], [1, 1, 1, 1], [0.5, 0.25, 0.9, 0.1]) == [25.0, 15.0, 40.0, 10.0]


def test_a_heavy_value_pulls_the_quantile_towards_it():
    """Weights 1, 1, 1, 5 (total 8): positions 1/16, 3/16, 5/16, 11/16; the median lies
    (8/16 − 5/16) ÷ (6/16) = ½ of the way from 30 to 40."""
    assert weighted_quantiles([10, 20, 30, 40], [1, 1, 1, 5], [0.5]) == [35.0]


def test_one_value_is_every_quantile_and_no_weight_gives_zeros():
    assert weighted_quantiles([7], [0.3], [0.1, 0.5, 0.9]) == [7.0, 7.0, 7.0]
    assert weighted_quantiles([], [], [0.5, 0.9]) == [0.0, 0.0]
    assert weighted_quantiles([5, 9], [0, 0], [0.5]) == [0.0]


def test_values_of_zero_weight_are_left_out():
    assert weighted_quantiles([10, 1000, 20], [1, 0, 1], [0.5, 0.9]) == [15.0, 20.0]


values_and_weights = st.lists(st.tuples(st.integers(0, 5000), st.floats(0.01, 100)), min_size=1, max_size=30)


@given(values_and_weights, st.lists(st.floats(0, 1), min_size=1, max_size=5), st.randoms())
def test_quantiles_are_monotone_bounded_and_independent_of_input_order(pairs, qs, rnd):
    values, weights = [v for v, _ in pairs], [w for _, w in pairs]
    qs = sorted(qs)
    out = weighted_quantiles(values, weights, qs)
    assert all(min(values) <= x <= max(values) for x in out)
    assert all(a <= b + 1e-9 for a, b in zip(out, out[1:]))
    shuffled = pairs[:]
    rnd.shuffle(shuffled)
    assert weighted_quantiles([v for v, _ in shuffled], [w for _, w in shuffled], qs) == pytest.approx(out)


@given(values_and_weights, st.floats(0, 1), st.floats(0.01, 1000))
def test_only_the_ratios_of_weights_matter(pairs, q, k):
    values, weights = [v for v, _ in pairs], [w for _, w in pairs]
    assert weighted_quantiles(values, [w * k for w in weights], [q]) == pytest.approx(
        weighted_quantiles(values, weights, [q]), rel=1e-6, abs=1e-6)


# --- weights ------------------------------------------------------------------------------------

def test_recency_weight_halves_every_half_life_from_the_newest_session():
    ends = [FRIDAY, FRIDAY - timedelta(days=28), FRIDAY - timedelta(days=56), FRIDAY - timedelta(days=14)]
    assert fc.recency_weights(ends, 28) == pytest.approx([1.0, 0.5, 0.25, 2 ** -0.5])


def test_hand_computed_forecast_of_a_growing_tenant():
    """Four prime-time Thursday sessions (not the query's Friday, so no weekday weight), a
    session every 28 days: 100, 200, 300, 400 orders/h, the newest last. Weights 1/8, 1/4,
    1/2, 1 (total 15/8) put the values at positions 1/30, 4/30, 10/30, 22/30; the median is
    300 + (15/30 − 10/30) ÷ (12/30) × 100 = 341⅔, p10 = 100 + (3/30 − 1/30) ÷ (3/30) × 100
    = 166⅔, p90 = 400. The plain median would be 250."""
    history = [past(1 + 28 * k, orders=2 * rate) for k, rate in enumerate((400, 300, 200, 100))]
    f = forecast(query(), history, min_sessions=4)
    assert (f.basis, f.sessions) == ("tenant_anchors", 4)
    assert f.orders_per_hour.p50 == pytest.approx(341 + 2 / 3)
    assert f.orders_per_hour.low == pytest.approx(166 + 2 / 3)
    assert f.orders_per_hour.p90 == pytest.approx(400)


def test_sessions_on_the_query_weekday_count_triple():
    """Recency switched off (an endless half-life): two Friday sessions at 500/h and three
    on other days at 100/h weigh 3, 3, 1, 1, 1; the 500s hold positions 4.5/9 and 7.5/9, so
    the median is 500. Without the weekday weight it is 100 (three of five)."""
    history = [past(7, orders=1000), past(14, orders=1000),
               past(1, orders=200), past(2, orders=200), past(3, orders=200)]
    assert forecast(query(), history, half_life_days=1e12).orders_per_hour.p50 == pytest.approx(500)
    assert forecast(query(), history, half_life_days=1e12, same_weekday_weight=1).orders_per_hour.p50 == 100


def test_a_change_that_has_lasted_one_half_life_dominates():
    """A session every two days: 26 at 100/h, then the last 14 (28 days, one half-life) at
    300/h. The plain median of those 40 is still 100; the forecast's median is the new 300."""
    history = [past(1 + 2 * k, orders=2 * (300 if k < 14 else 100)) for k in range(40)]
    f = forecast(query(), history)
    assert f.sessions == 40
    assert f.orders_per_hour.p50 == pytest.approx(300)
    unweighted = forecast(query(), history, half_life_days=1e12, same_weekday_weight=1)
    assert unweighted.orders_per_hour.p50 == 100


def test_only_the_max_sessions_most_recent_are_used():
    """41 sessions: the oldest (a huge one) is the 41st most recent, so it is not read at all."""
    history = [past(1 + k, orders=200) for k in range(40)] + [past(100, orders=10**6)]
    f = forecast(query(), history)
    assert f.sessions == 40 and f.orders_per_hour.p90 == 100


@given(st.integers(-3000, 3000))
def test_moving_history_and_query_together_by_whole_weeks_changes_nothing(weeks):
    """Only ratios of weights matter (ages count from the newest used session), and whole
    weeks keep the weekdays: the forecast is a function of the shape of the history."""
    history = [past(d, orders=o, anchors=a, hour=h) for d, o, a, h in
               [(1, 300, (1,), 20), (3, 500, (1, 2), 20), (9, 100, (1,), 19), (15, 900, (1,), 21),
                (30, 250, (1,), 20), (2, 999, (3,), 14)]]
    shift = timedelta(weeks=weeks)
    moved = [PastSession(s.starts_at + shift, s.ends_at + shift, s.tenant_id, s.anchor_ids, s.room_kind,
                         s.orders, s.peak_hour_orders) for s in history]
    assert forecast(query(start=FRIDAY + shift), moved) == forecast(query(), history)


# --- fallback order ------------------------------------------------------------------------------

def test_tenant_anchors_answers_with_enough_sessions_of_these_anchors_at_this_time_of_day():
    history = [past(d, anchors=(1, 9)) for d in range(1, 6)]     # anchor 1 with an assistant: "any of"
    f = forecast(query(anchors=(1, 2)), history)
    assert (f.basis, f.sessions) == ("tenant_anchors", 5)


def test_one_session_short_at_this_time_of_day_falls_back_to_the_tenant():
    """Four prime-time sessions with anchor 1 and one in the afternoon: the tenant's five."""
    history = [past(d) for d in range(1, 5)] + [past(5, hour=14)]
    f = forecast(query(), history)
    assert (f.basis, f.sessions) == ("tenant", 5)


def test_a_query_without_anchors_starts_at_the_tenant():
    history = [past(d) for d in range(1, 8)]
    assert forecast(query(anchors=()), history).basis == "tenant"


def test_a_tenant_with_too_few_sessions_falls_back_to_the_room_kind_then_the_park():
    mine = [past(d, tenant=1) for d in range(1, 5)]
    others_same_kind = [past(d, tenant=2, anchors=(5,)) for d in range(1, 2)]
    other_kind = [past(d, tenant=3, anchors=(6,), kind="large") for d in range(1, 10)]
    assert (forecast(query(), mine + others_same_kind + other_kind).basis,
            forecast(query(), mine + others_same_kind + other_kind).sessions) == ("room_kind", 5)
    f = forecast(query(), mine + other_kind)
    assert (f.basis, f.sessions) == ("park", 13)


def test_the_park_answers_whatever_it_has():
    f = forecast(query(), [past(1, tenant=2, kind="large", orders=600)])
    assert (f.basis, f.sessions, f.orders_per_hour.p50) == ("park", 1, 300)


def _brute_basis(q: ForecastQuery, history, min_sessions):
    known = [s for s in history if s.ends_at < q.starts_at and s.ends_at > s.starts_at]
    bucket = time_of_day(q.starts_at, q.tz)
    bases = {
        "tenant_anchors": [s for s in known if q.anchor_ids and s.tenant_id == q.tenant_id
                           and q.anchor_ids & s.anchor_ids and time_of_day(s.starts_at, q.tz) == bucket],
        "tenant": [s for s in known if s.tenant_id == q.tenant_id],
        "room_kind": [s for s in known if s.room_kind == q.room_kind],
        "park": known,
    }
    for name in BASES:
        if len(bases[name]) >= min_sessions or name == "park":
            return name, len(bases[name])


sessions_strategy = st.lists(
    st.builds(lambda days, tenant, anchors, kind, hour, hours, orders: past(
        days, tenant=tenant, anchors=anchors, kind=kind, hour=hour, hours=hours, orders=orders),
        st.integers(-3, 60), st.integers(1, 3), st.sets(st.integers(1, 4), max_size=2),
        st.sampled_from(["standard", "large"]), st.integers(0, 23), st.sampled_from([0, 0.5, 2, 4]),
        st.integers(0, 3000)),
    max_size=60)


@settings(max_examples=300)
@given(sessions_strategy, st.sets(st.integers(1, 4), max_size=2), st.integers(1, 8), st.integers(0, 23))
def test_each_basis_is_chosen_exactly_when_it_has_enough_known_sessions(history, anchors, min_sessions, hour):
    """Against a brute force of the rule: the first of tenant_anchors, tenant, room_kind
    with at least `min_sessions` sessions that ended before the query; else the park."""
    q = query(anchors=anchors, start=FRIDAY.replace(hour=hour))
    name, count = _brute_basis(q, history, min_sessions)
    f = forecast(q, history, min_sessions=min_sessions)
    assert (f.basis, f.sessions) == (name, min(count, fc.MAX_SESSIONS))


@given(sessions_strategy, st.randoms())
def test_the_forecast_does_not_depend_on_the_order_of_the_history(history, rnd):
    shuffled = history[:]
    rnd.shuffle(shuffled)
    assert forecast(query(), shuffled) == forecast(query(), history)


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 50)), max_size=40),
       st.integers(1, 12), st.randoms())
def test_most_recent_is_the_latest_ends_with_ties_settled_by_the_whole_summary(rows, n, rnd):
    """Many sessions share an end; the n kept are those of a full sort, whatever the input order."""
    sessions = [past(d, hours=h + 1, hour=20 - h, orders=o) for d, h, o in rows]
    rnd.shuffle(sessions)
    expected = sorted(sessions, key=fc.recency_key, reverse=True)[:n]
    assert fc.most_recent(sessions, n) == expected


def test_a_session_ending_at_the_start_is_not_yet_known():
    """Known means ended strictly before the forecast session starts (its orders are still
    coming in: the attribution grace), and sessions still running or to come are ignored."""
    at_start = PastSession(FRIDAY - timedelta(hours=2), FRIDAY, 1, frozenset({1}), "standard", 999, 999)
    running = PastSession(FRIDAY - timedelta(hours=1), FRIDAY + timedelta(hours=1), 1, frozenset({1}),
                          "standard", 999, 999)
    later = past(-1, orders=999)
    just_before = PastSession(FRIDAY - timedelta(hours=2), FRIDAY - timedelta(microseconds=1), 1,
                              frozenset({1}), "standard", 200, 120)
    f = forecast(query(), [at_start, running, later, just_before])
    assert f.sessions == 1 and f.orders_per_hour.p50 == pytest.approx(100, rel=1e-6)


# --- edge cases ----------------------------------------------------------------------------------

def test_no_history_is_the_park_with_zeros():
    f = forecast(query(), [])
    assert f == fc.Forecast(Range(0.0, 0.0, 0.0), Range(0.0, 0.0, 0.0), "park", 0, None)
    assert fits(f.peak_hour_orders.p90, 0)


def test_sessions_that_sold_nothing_count_and_give_zeros():
    f = forecast(query(), [past(d, orders=0) for d in range(1, 6)])
    assert (f.basis, f.sessions, f.orders_per_hour, f.peak_hour_orders) == (
        "tenant_anchors", 5, Range(0.0, 0.0, 0.0), Range(0.0, 0.0, 0.0))


def test_a_flop_among_good_sessions_moves_the_low_end_not_the_median():
    f = forecast(query(), [past(d, orders=400) for d in range(1, 9)] + [past(9, orders=0)],
                 same_weekday_weight=1)
    assert f.orders_per_hour.p50 == 200 and f.orders_per_hour.low < 200


def test_sessions_of_no_duration_are_ignored():
    empty = PastSession(FRIDAY - timedelta(days=1), FRIDAY - timedelta(days=1), 1, frozenset({1}), "standard", 50, 50)
    assert empty.orders_per_hour == 0.0
    assert forecast(query(), [empty]).sessions == 0


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError):
        PastSession(datetime(2026, 1, 1, 20), datetime(2026, 1, 1, 22), 1, frozenset(), "standard", 1, 1)
    with pytest.raises(ValueError):
        ForecastQuery(1, frozenset(), "standard", datetime(2026, 1, 1, 20), datetime(2026, 1, 1, 22), TZ)


@pytest.mark.parametrize("local,bucket", [
    ((0, 30), "night"), ((5, 59), "night"), ((6, 0), "morning"), ((11, 45), "morning"),
    ((12, 0), "afternoon"), ((18, 45), "afternoon"), ((19, 0), "prime"), ((23, 59), "prime"),
])
def test_time_of_day_is_the_park_local_start_hour(local, bucket):
    """Asia/Shanghai is UTC+8 all year (no DST): 19:00 there is 11:00 UTC and prime time."""
    instant = datetime(2026, 7, 1, *local, tzinfo=TZ).astimezone(UTC)
    assert time_of_day(instant, TZ) == bucket


def test_weekday_and_time_of_day_are_park_local_not_utc():
    """Saturday 00:30 in Shanghai is Friday 16:30 UTC: a night session on Saturday, so it
    is neither the Friday prime-time basis nor a same-weekday session of a Friday query."""
    saturday_night = PastSession(datetime(2026, 11, 14, 0, 30, tzinfo=TZ).astimezone(UTC),
                                 datetime(2026, 11, 14, 2, 30, tzinfo=TZ).astimezone(UTC),
                                 1, frozenset({1}), "standard", 200, 100)
    assert saturday_night.starts_at.weekday() == 4 and time_of_day(saturday_night.starts_at, TZ) == "night"
    assert fc.session_weights(query(), [saturday_night], half_life_days=28) == [1.0]
    assert fc.session_weights(query(start=datetime(2026, 11, 21, 0, 30, tzinfo=TZ)), [saturday_night],
                              half_life_days=28) == [3.0]


# --- peak ---------------------------------------------------------------------------------------

def test_peak_figures_are_quantiles_of_the_peaks_and_the_peak_hour_the_usual_offset():
    """Peaks 300 × 3 and 500 × 2 at equal weight: median 300, p90 500; the peak came two
    clock hours after the start's in three sessions, one in two: a 19:30 query peaks at 21:00."""
    history = [past(d, hours=4, orders=800, peak=p, peak_offset=o, hour=19)
               for d, p, o in [(1, 300, 2), (2, 300, 2), (3, 300, 2), (4, 500, 1), (5, 500, 1)]]
    q = query(start=FRIDAY.replace(hour=19, minute=30))
    f = forecast(q, history, half_life_days=1e12, same_weekday_weight=1)
    assert (f.peak_hour_orders.p50, f.peak_hour_orders.p90) == (300, 500)
    assert f.peak_hour == 21
    short = ForecastQuery(1, frozenset({1}), "standard", q.starts_at, q.starts_at + timedelta(hours=1), TZ)
    assert forecast(short, history).peak_hour == 20   # clamped to the query's last clock hour


def test_no_peak_times_no_peak_hour():
    assert forecast(query(), [past(d) for d in range(1, 6)]).peak_hour is None


# --- fits and better rooms ----------------------------------------------------------------------

def test_a_room_fits_when_the_p90_peak_is_at_most_its_capacity():
    assert fits(600.0, 600) and not fits(600.5, 600)


def test_better_rooms_are_free_rooms_of_the_kind_that_cover_the_peak_smallest_first():
    rooms = [
        CandidateRoom(1, "A01", "standard", 500, True),    # the booking's own room: too small
        CandidateRoom(2, "A02", "standard", 900, True),
        CandidateRoom(3, "A03", "standard", 700, True),
        CandidateRoom(4, "A04", "standard", 700, False),   # busy
        CandidateRoom(5, "B01", "large", 700, True),       # another kind
        CandidateRoom(6, "A00", "standard", 700, True),
        CandidateRoom(7, "A05", "standard", 649, True),    # just short
        CandidateRoom(8, "A06", "standard", 650, True),    # exactly enough
    ]
    out = better_rooms(rooms, kind="standard", peak_p90=650.0, exclude_room_id=1)
    assert [r.room_id for r in out] == [8, 6, 3, 2]
    assert better_rooms([], kind="standard", peak_p90=1) == []


# --- backtest -----------------------------------------------------------------------------------

def test_backtest_scores_by_hand():
    """Three sessions a day apart at 100, 200, 300 /h (equal weights, min 1 session). The
    first has no history and is not scored. The second: forecast, last and mean all 100. The
    third: forecast 150 (Hazen median of 100, 200) with range [100, 200], last 200, mean 150.
    WAPE: forecast (100 + 150) / 500, last (100 + 100) / 500, mean (100 + 150) / 500."""
    history = [past(3 - k, orders=2 * rate) for k, rate in enumerate((100, 200, 300))]
    b = backtest(history, TZ, min_sessions=1, half_life_days=1e12, same_weekday_weight=1)
    assert [r.forecast.orders_per_hour.p50 for r in b.rows] == pytest.approx([0.0, 100, 150])
    assert b.rows[2].forecast.orders_per_hour.low == 100 and b.rows[2].forecast.orders_per_hour.p90 == 200
    assert (b.forecast.sessions, b.forecast.coverage, b.forecast.under_high) == (2, 0, 0)
    assert b.forecast.wape == pytest.approx(0.5)
    assert (b.last_session.wape, b.last_session.coverage) == (0.4, None)
    assert (b.tenant_mean.wape, b.tenant_mean.coverage, b.tenant_mean.under_high) == (0.5, 0, 0)
    assert b.forecast_all.sessions == 3 and b.bases == {"tenant_anchors": 2, "tenant": 0, "room_kind": 0,
                                                        "park": 1}


def test_backtest_from_a_date_scores_only_the_later_sessions_with_the_earlier_as_history():
    """score_from: the sessions before it are history only; the later ones are forecast
    exactly as in the whole backtest (the managers' page scores a bounded window)."""
    history = [past(3 - k, orders=2 * rate) for k, rate in enumerate((100, 200, 300))]
    settings = dict(min_sessions=1, half_life_days=1e12, same_weekday_weight=1)
    whole = backtest(history, TZ, **settings)
    third = whole.rows[2].session
    bounded = backtest(history, TZ, score_from=third.starts_at, **settings)
    assert [r.session for r in bounded.rows] == [third]
    assert bounded.rows[0] == whole.rows[2]
    assert (bounded.forecast.sessions, bounded.last_session.wape) == (1, pytest.approx(100 / 300))


def test_backtest_with_a_bounded_tenant_history_reads_only_the_latest_known_sessions():
    """max_known_per_tenant=1: the third session's forecast and both baselines come from the
    second session alone (200/h), not from the first two (median 150, mean 150)."""
    history = [past(3 - k, orders=2 * rate) for k, rate in enumerate((100, 200, 300))]
    b = backtest(history, TZ, min_sessions=1, half_life_days=1e12, same_weekday_weight=1, max_known_per_tenant=1)
    third = b.rows[2]
    assert (third.forecast.orders_per_hour.p50, third.last, third.mean) == (200, 200, 200)


def random_history(seed: int, n: int = 400) -> list[PastSession]:
    """A small messy history: 6 tenants, overlapping sessions, odd lengths, a few flops."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        start = FRIDAY - timedelta(days=120) + timedelta(minutes=15 * rng.randrange(120 * 96))
        end = start + timedelta(minutes=15 * rng.randrange(0, 24))
        orders = 0 if rng.random() < 0.05 else rng.randrange(1, 3000)
        out.append(PastSession(start, end, rng.randrange(1, 7), frozenset(rng.sample(range(1, 9), rng.randrange(0, 3))),
                               rng.choice(["standard", "large", "small"]), orders, orders // 2))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_backtest_forecasts_are_exactly_forecasts_from_everything_that_had_ended(seed):
    """The backtest hands each forecast a slimmed history (the tenant's sessions plus the
    latest of the kind and of the park); the answer is the one from the whole history, of
    which forecast() reads only what ended before the session started."""
    history = random_history(seed)
    b = backtest(history, TZ, min_sessions=3, max_sessions=8)
    assert len(b.rows) == sum(s.hours > 0 for s in history)
    for r in b.rows:
        s = r.session
        q = ForecastQuery(s.tenant_id, s.anchor_ids, s.room_kind, s.starts_at, s.ends_at, TZ)
        assert r.forecast == forecast(q, history, min_sessions=3, max_sessions=8)


def test_backtest_has_no_future_leakage():
    """Multiplying one session's orders by 1,000 changes nothing forecast for any session that
    started before (or as) that one ended — neither the forecast nor either baseline — and
    does change what is forecast after it."""
    history = random_history(3)
    changed = [s for s in sorted(history, key=lambda s: s.starts_at) if s.hours > 0][len(history) // 2]
    boosted = [PastSession(s.starts_at, s.ends_at, s.tenant_id, s.anchor_ids, s.room_kind, s.orders * 1000 + 1,
                           s.peak_hour_orders * 1000 + 1) if s is changed else s for s in history]
    before, after = backtest(history, TZ).rows, backtest(boosted, TZ).rows
    assert len(before) == len(after)
    earlier = later = 0
    for old, new in zip(before, after):
        assert old.session.starts_at == new.session.starts_at
        if new.session.starts_at <= changed.ends_at:
            earlier += 1
            assert (new.forecast, new.last, new.mean, new.mean_range) == (
                old.forecast, old.last, old.mean, old.mean_range)
        elif new.session.tenant_id == changed.tenant_id:
            later += 1
            assert new.mean != old.mean
    assert earlier > 100 and later > 10


def test_backtest_baselines_know_only_sessions_that_ended_strictly_before():
    """A session ending as the next one starts is not known to it, for the baselines too; one
    microsecond earlier it is."""
    a = PastSession(FRIDAY - timedelta(hours=2), FRIDAY, 1, frozenset({1}), "standard", 200, 100)
    touching = PastSession(FRIDAY, FRIDAY + timedelta(hours=2), 1, frozenset({1}), "standard", 400, 200)
    after = PastSession(FRIDAY + timedelta(microseconds=1), FRIDAY + timedelta(hours=2), 1, frozenset({1}),
                        "standard", 600, 300)
    rows = {r.session.orders: r for r in backtest([a, touching, after], TZ).rows}
    assert (rows[400].last, rows[400].mean, rows[400].forecast.sessions) == (None, None, 0)
    assert (rows[600].last, rows[600].mean, rows[600].forecast.sessions) == (100, 100, 1)


@pytest.mark.parametrize("bad", [
    {"min_sessions": 5, "max_sessions": 4}, {"min_sessions": 0}, {"half_life_days": 0},
    {"same_weekday_weight": 0}, {"low": 0.6}, {"high": 1.5},
])
def test_settings_that_make_no_sense_are_refused(bad):
    with pytest.raises(ValueError):
        forecast(query(), [], **bad)
    with pytest.raises(ValueError):
        backtest([], TZ, **bad)
