"""Utilization arithmetic (docs/domain.md) against hand-computed cases and a
minute-by-minute brute force."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from opsroom.domain.cells import safe_cell
from opsroom.domain.intervals import Interval
from opsroom.domain.utilization import Session, hour_buckets, is_late_cancellation, ratio, room_day

TZ = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
D = date(2026, 11, 20)
PRIME = (time(19, 0), time(0, 0))
H = 3600


def t(day_offset: int, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(D + timedelta(days=day_offset), time(hh, mm), tzinfo=TZ)


def figures(day=D, open_time=time(8), close_time=time(2), blackouts=(), sessions=()):
    return room_day(day, TZ, open_time=open_time, close_time=close_time, blackouts=list(blackouts),
                    sessions=list(sessions), prime=PRIME)


def test_room_with_no_bookings_is_bookable_and_zero_booked():
    """Open 08:00–02:00: the local day holds 00:00–02:00 (yesterday's opening) and 08:00–24:00."""
    f = figures()
    assert (f.bookable, f.booked, f.used) == (18 * H, 0, 0)
    assert ratio(f.booked, f.bookable) == 0.0
    assert f.prime_bookable == 5 * H  # 19:00–24:00


def test_booking_across_midnight_is_split_between_the_two_local_days():
    s = Session(1, t(0, 23), t(1, 1))
    first, second = figures(D, sessions=[s]), figures(D + timedelta(days=1), sessions=[s])
    assert (first.booked, second.booked) == (1 * H, 1 * H)
    assert first.prime_booked == 1 * H and second.prime_booked == 0
    assert first.booked_hours[23] == H and second.booked_hours[0] == H


def test_room_open_from_20_to_04():
    """A room open 20:00–04:00: its day is 00:00–04:00 plus 20:00–24:00 (8 h);
    a 22:00–03:00 session books 2 h today and 3 h tomorrow."""
    s = Session(1, t(0, 22), t(1, 3))
    today = figures(D, time(20), time(4), sessions=[s])
    tomorrow = figures(D + timedelta(days=1), time(20), time(4), sessions=[s])
    assert today.bookable == 8 * H and today.booked == 2 * H
    assert tomorrow.booked == 3 * H
    assert today.prime_bookable == 4 * H and today.prime_booked == 2 * H
    assert ratio(today.booked, today.bookable) == 0.25


def test_blackout_overlapping_a_booking_is_neither_bookable_nor_booked():
    f = figures(blackouts=[Interval(t(0, 12), t(0, 16))], sessions=[Session(1, t(0, 10), t(0, 14))])
    assert f.bookable == 14 * H
    assert f.booked == 2 * H  # 10:00–12:00; 12:00–14:00 lies in the blackout


def test_overlapping_blackouts_are_counted_once():
    f = figures(blackouts=[Interval(t(0, 12), t(0, 16)), Interval(t(0, 14), t(0, 18))])
    assert f.bookable == 12 * H  # 18 h − 12:00–18:00


def test_no_show_released_early_counts_until_its_release():
    """A no-show's ends_at is its release time: 20:00 + 15 min grace."""
    f = figures(sessions=[Session(1, t(0, 20), t(0, 20, 15))])
    assert f.booked == 15 * 60


def test_holds_and_cancellations_do_not_count():
    f = figures(sessions=[Session(1, t(0, 10), t(0, 12), counted=False), Session(2, t(0, 14), t(0, 15))])
    assert f.booked == H and f.shares[1].booked == 0


def test_overlapping_bookings_are_counted_once_and_shares_add_up():
    f = figures(sessions=[Session(2, t(0, 11), t(0, 14)), Session(1, t(0, 10), t(0, 12))])
    assert f.booked == 4 * H
    assert f.shares[1].booked == 2 * H and f.shares[2].booked == 2 * H  # the earlier start owns 11–12


def test_booking_outside_open_hours_is_clipped():
    f = figures(sessions=[Session(1, t(0, 6), t(0, 9))])
    assert f.booked == H


def test_park_local_day_boundaries_not_utc():
    """00:30–01:30 Shanghai on the 20th is 16:30–17:30 UTC on the 19th: it
    counts on the local 20th only."""
    s = Session(1, t(0, 0, 30), t(0, 1, 30))
    assert figures(D, sessions=[s]).booked == H
    assert figures(D - timedelta(days=1), sessions=[s]).booked == 0


def test_used_time_runs_from_check_in_to_the_end():
    s = Session(1, t(0, 20), t(0, 22), checked_in_at=t(0, 19, 45))
    f = figures(sessions=[s])
    assert f.used == 135 * 60 and f.booked == 2 * H


def test_hour_buckets_add_up_to_the_whole():
    pieces = [Interval(t(0, 8, 10).astimezone(UTC), t(0, 10, 50).astimezone(UTC))]
    buckets = hour_buckets(pieces, TZ)
    assert buckets[8] == 50 * 60 and buckets[9] == H and buckets[10] == 50 * 60 and sum(buckets) == 160 * 60


def test_late_cancellation_is_inside_the_notice():
    notice = timedelta(hours=24)
    assert is_late_cancellation(t(1, 20), t(0, 21), notice)
    assert not is_late_cancellation(t(1, 20), t(0, 19), notice)
    assert not is_late_cancellation(t(1, 20), None, notice)


def test_ratio_of_nothing_is_none():
    assert ratio(0, 0) is None and ratio(5, 10) == 0.5


def test_safe_cell_neutralises_formulas_only_in_text():
    assert [safe_cell(v) for v in ("=1+1", "+86", "-x", "@SUM(A1)", "\tx", "\rx", "商家", -3, None)] == \
        ["'=1+1", "'+86", "'-x", "'@SUM(A1)", "'\tx", "'\rx", "商家", -3, None]


# A property: the arithmetic equals a minute-by-minute count, always within [0, 1].

quarter = st.integers(0, 95).map(lambda q: time(q // 4, q % 4 * 15))


@st.composite
def spans(draw, max_size):
    out = []
    for _ in range(draw(st.integers(0, max_size))):
        start = draw(st.integers(0, 3 * 1440 - 15))
        length = draw(st.integers(1, 720))
        out.append((start, start + length))
    return out


def _is_open(local: datetime, open_time: time, close_time: time) -> bool:
    now = local.time()
    if close_time > open_time:
        return open_time <= now < close_time
    if close_time < open_time:
        return now >= open_time or now < close_time
    return True


@settings(max_examples=60, deadline=None)
@given(open_time=quarter, close_time=quarter, bookings=spans(6), blackouts=spans(3),
       counted=st.lists(st.booleans(), min_size=6, max_size=6))
def test_utilization_equals_a_minute_by_minute_count(open_time, close_time, bookings, blackouts, counted):
    origin = t(0, 0)

    def at(minute):
        return origin + timedelta(minutes=minute)

    sessions = [Session(i, at(a), at(b), counted=counted[i]) for i, (a, b) in enumerate(bookings)]
    holes = [Interval(at(a), at(b)) for a, b in blackouts]
    days = [D + timedelta(days=i) for i in range(3)]
    totals = [figures(day, open_time, close_time, holes, sessions) for day in days]
    bookable, booked = sum(f.bookable for f in totals), sum(f.booked for f in totals)

    brute_bookable = brute_booked = 0
    for m in range(3 * 1440):
        local = at(m).astimezone(TZ)
        if not _is_open(local, open_time, close_time) or any(a <= m < b for a, b in blackouts):
            continue
        brute_bookable += 60
        if any(counted[i] and a <= m < b for i, (a, b) in enumerate(bookings)):
            brute_booked += 60
    assert (bookable, booked) == (brute_bookable, brute_booked)
    u = ratio(booked, bookable)
    assert u is None or 0 <= u <= 1
    for f in totals:  # every booked second belongs to one session; hours add up
        assert sum(s.booked for s in f.shares.values()) == f.booked
        assert sum(f.booked_hours) == f.booked and sum(f.bookable_hours) == f.bookable
