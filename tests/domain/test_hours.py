"""Local days and room open hours in UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from opsroom.domain.hours import local_day, local_days, open_windows
from opsroom.domain.intervals import Interval

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def local(tz: ZoneInfo, *args: int) -> datetime:
    """A wall-clock time in ``tz`` as a UTC instant."""
    return datetime(*args, tzinfo=tz).astimezone(UTC)


def test_local_day_shanghai_is_offset_by_eight_hours():
    """A Shanghai day starts at 16:00 UTC the previous day and lasts 24 h."""
    day = local_day(date(2025, 6, 1), SHANGHAI)
    assert day == Interval(datetime(2025, 5, 31, 16, tzinfo=UTC), datetime(2025, 6, 1, 16, tzinfo=UTC))
    assert day.start.tzinfo is UTC
    assert day.seconds == 24 * 3600


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2025, 3, 30), 23), (date(2025, 10, 26), 25), (date(2025, 6, 1), 24)],
    ids=["spring-forward", "fall-back", "summer"],
)
def test_local_day_length_follows_dst(day, hours):
    """A Berlin local day is 23 h or 25 h on DST change days."""
    assert local_day(day, BERLIN).seconds == hours * 3600


def test_local_days_are_inclusive_and_tile():
    """A day range covers first through last, and consecutive days touch."""
    span = local_days(date(2025, 3, 29), date(2025, 3, 31), BERLIN)
    assert span.start == local_day(date(2025, 3, 29), BERLIN).start
    assert span.end == local_day(date(2025, 3, 31), BERLIN).end
    assert span.seconds == (24 + 23 + 24) * 3600
    assert local_day(date(2025, 3, 29), BERLIN).end == local_day(date(2025, 3, 30), BERLIN).start
    with pytest.raises(ValueError):
        local_days(date(2025, 3, 2), date(2025, 3, 1), BERLIN)


def test_normal_hours_one_window_per_day():
    """09:00-21:00 gives one window per local day, clipped to the asked window."""
    window = local_days(date(2025, 6, 1), date(2025, 6, 2), SHANGHAI)
    got = open_windows(time(9), time(21), window, SHANGHAI)
    assert got == [
        Interval(local(SHANGHAI, 2025, 6, 1, 9), local(SHANGHAI, 2025, 6, 1, 21)),
        Interval(local(SHANGHAI, 2025, 6, 2, 9), local(SHANGHAI, 2025, 6, 2, 21)),
    ]


def test_window_clips_open_hours():
    """Only the part of the opening inside the window is returned."""
    window = Interval(local(SHANGHAI, 2025, 6, 1, 12), local(SHANGHAI, 2025, 6, 1, 23))
    assert open_windows(time(9), time(21), window, SHANGHAI) == [
        Interval(local(SHANGHAI, 2025, 6, 1, 12), local(SHANGHAI, 2025, 6, 1, 21))
    ]


def test_hours_crossing_midnight_include_previous_evening():
    """20:00-02:00: the day window starts with the tail of last night's opening."""
    got = open_windows(time(20), time(2), local_day(date(2025, 6, 2), SHANGHAI), SHANGHAI)
    assert got == [
        Interval(local(SHANGHAI, 2025, 6, 2, 0), local(SHANGHAI, 2025, 6, 2, 2)),
        Interval(local(SHANGHAI, 2025, 6, 2, 20), local(SHANGHAI, 2025, 6, 3, 0)),
    ]


def test_hours_crossing_midnight_over_two_days():
    """20:00-02:00 over two days gives whole night windows between the ends."""
    window = Interval(local(SHANGHAI, 2025, 6, 1, 12), local(SHANGHAI, 2025, 6, 3, 12))
    got = open_windows(time(20), time(2), window, SHANGHAI)
    assert got == [
        Interval(local(SHANGHAI, 2025, 6, 1, 20), local(SHANGHAI, 2025, 6, 2, 2)),
        Interval(local(SHANGHAI, 2025, 6, 2, 20), local(SHANGHAI, 2025, 6, 3, 2)),
    ]


def test_equal_times_mean_24h_one_merged_window():
    """Equal open and close times are open all day; days merge into one window."""
    window = local_days(date(2025, 6, 1), date(2025, 6, 4), SHANGHAI)
    assert open_windows(time(0), time(0), window, SHANGHAI) == [window]
    assert open_windows(time(8), time(8), window, SHANGHAI) == [window]


def test_24h_across_berlin_dst_is_continuous():
    """A 24 h room stays one window over both DST changes."""
    for first in (date(2025, 3, 29), date(2025, 10, 25)):
        window = local_days(first, first + timedelta(days=2), BERLIN)
        assert open_windows(time(0), time(0), window, BERLIN) == [window]


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2025, 3, 30), 12), (date(2025, 10, 26), 12)],
    ids=["spring-forward", "fall-back"],
)
def test_berlin_daytime_hours_unaffected_by_night_dst_change(day, hours):
    """09:00-21:00 on a DST change day keeps 12 wall-clock hours (the change is at night)."""
    got = open_windows(time(9), time(21), local_day(day, BERLIN), BERLIN)
    assert got == [Interval(local(BERLIN, day.year, day.month, day.day, 9), local(BERLIN, day.year, day.month, day.day, 21))]
    assert got[0].seconds == hours * 3600


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2025, 3, 30), 23), (date(2025, 10, 26), 25)],
    ids=["spring-forward", "fall-back"],
)
def test_berlin_24h_day_follows_dst(day, hours):
    """A 24 h room's open time on a DST day is the real length of that local day."""
    got = open_windows(time(0), time(0), local_day(day, BERLIN), BERLIN)
    assert sum(iv.seconds for iv in got) == hours * 3600


def test_berlin_night_opening_over_spring_forward():
    """20:00-04:00 over the spring-forward night lasts 7 elapsed hours."""
    got = open_windows(time(20), time(4), local_day(date(2025, 3, 30), BERLIN), BERLIN)
    assert got[0] == Interval(local(BERLIN, 2025, 3, 30, 0), local(BERLIN, 2025, 3, 30, 4))
    assert got[0].seconds == 3 * 3600  # 00:00-04:00 minus the skipped hour
    night = open_windows(time(20), time(4), local_days(date(2025, 3, 29), date(2025, 3, 30), BERLIN), BERLIN)
    assert night[1] == Interval(local(BERLIN, 2025, 3, 29, 20), local(BERLIN, 2025, 3, 30, 4))
    assert night[1].seconds == 7 * 3600  # [0] is the tail of the night before


def test_empty_window_has_no_open_hours():
    """An empty or inverted window yields nothing."""
    t = local(SHANGHAI, 2025, 6, 1, 10)
    assert open_windows(time(9), time(21), Interval(t, t), SHANGHAI) == []
