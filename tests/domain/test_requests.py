"""A request's windows and the slots that fit in them (domain/requests.py): a
boundary table against a busy range, windows crossing midnight, prime minutes
of a week, and the status moves."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from opsroom.domain import requests as rules
from opsroom.domain.intervals import Interval

TZ = ZoneInfo("Asia/Shanghai")


def local(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=TZ)


def at(hh: int, mm: int = 0) -> datetime:
    """Saturday 21 November 2026, hh:mm (hh ≥ 24: the next day)."""
    return local(21, 0) + timedelta(hours=hh, minutes=mm)


def test_a_window_crossing_midnight_ends_the_next_day():
    w = rules.window_on(date(2026, 11, 21), time(20), time(2), TZ)
    assert (w.start, w.end) == (local(21, 20), local(22, 2))
    assert rules.window_minutes(time(20), time(2)) == 360
    assert rules.window_minutes(time(8), time(8)) == 24 * 60


# Window 19:00–23:00, two hours wanted, changeover 30 min, one busy (occupied) range.
@pytest.mark.parametrize("busy,first", [
    (None, (19, 0)),                       # nothing in the way
    ((at(21, 30), at(22, 0)), (19, 0)),    # starts as our changeover ends: touching
    ((at(21, 29), at(22, 0)), None),       # meets our changeover by a minute: nothing fits before 23:00
    ((at(19, 0), at(20, 0)), (20, 0)),     # at the window's start: from its end
    ((at(18, 0), at(23, 0)), None),        # containing the window: nothing fits
    ((at(20, 15), at(21, 15)), None),      # leaves too little either side
])
def test_slots_in_a_window_against_a_busy_range(busy, first):
    window = rules.window_on(date(2026, 11, 21), time(19), time(23), TZ)
    found = rules.slots_in(window, 120, bookable=[window], busy_occupied=[Interval(*busy)] if busy else [],
                           changeover_minutes=30, granularity_minutes=15, tz=TZ, limit=3)
    if first is None:
        assert found == []
    else:
        assert found[0].start == at(*first) and found[0].end - found[0].start == timedelta(hours=2)
        assert all(s.end <= window.end for s in found)


def test_slots_stay_inside_the_bookable_time_and_after_now():
    window = rules.window_on(date(2026, 11, 21), time(19), time(2), TZ)
    bookable = [Interval(at(20), at(22)), Interval(at(22, 30), at(28))]
    found = rules.slots_in(window, 90, bookable=bookable, busy_occupied=[], changeover_minutes=0,
                           granularity_minutes=30, tz=TZ, not_before=at(20, 30), limit=10)
    assert [s.start for s in found][:3] == [at(20, 30), at(22, 30), at(23, 0)]
    assert found[-1].end == at(26)  # the window ends at 02:00
    assert all(any(b.start <= s.start and s.end <= b.end for b in bookable) for s in found)


def test_prime_minutes_count_overlaps_once_and_only_inside_prime_hours():
    prime = (time(19), time(0))
    pieces = [Interval(at(18), at(21)), Interval(at(20), at(22))]
    assert rules.prime_minutes(pieces, prime, TZ) == 180  # 19:00–22:00
    week = rules.week_of(local(22, 12), TZ)  # a Sunday: the week began on Monday the 16th
    assert (week.start, week.end) == (datetime(2026, 11, 16, tzinfo=TZ), datetime(2026, 11, 23, tzinfo=TZ))


def test_a_request_moves_only_forward():
    assert rules.may_move("pending", "waiting") and rules.may_move("waiting", "offered")
    assert rules.may_move("offered", "approved") and rules.may_move("offered", "lapsed")
    assert not rules.may_move("approved", "pending") and not rules.may_move("lapsed", "offered")
