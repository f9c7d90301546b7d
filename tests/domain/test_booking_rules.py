"""Shape rules of one booking: order, granularity, duration, open hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from opsroom.domain.booking_rules import Breach, check_shape

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def local(tz: ZoneInfo, *args: int) -> datetime:
    """A wall-clock time in ``tz`` as a UTC instant."""
    return datetime(*args, tzinfo=tz).astimezone(UTC)


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    return local(SHANGHAI, 2025, 6, day, hour, minute)


def check(starts_at, ends_at, **overrides):
    rules = dict(
        open_time=time(8),
        close_time=time(22),
        tz=SHANGHAI,
        granularity_minutes=15,
        min_minutes=30,
        max_minutes=240,
    )
    rules.update(overrides)
    return check_shape(starts_at, ends_at, **rules)


def codes(breaches: list[Breach]) -> list[tuple[str, str]]:
    return [(b.code, b.field) for b in breaches]


def test_well_formed_booking_has_no_breach():
    """A booking on the grid, of allowed length, inside open hours passes."""
    assert check(sh(1, 10), sh(1, 12)) == []


@pytest.mark.parametrize("ends", [0, -15], ids=["equal", "before"])
def test_end_not_after_start_is_the_only_breach(ends):
    """An end at or before the start is reported alone (other rules make no sense then)."""
    start = sh(1, 10, 7)  # also off-grid, but that is not reported
    assert check(start, start + timedelta(minutes=ends)) == [Breach("end_before_start", "ends_at", {})]


def test_granularity_checks_both_ends_on_local_wall_clock():
    """Each end off the local 15-minute grid is its own breach with the granularity."""
    got = check(sh(1, 10, 5), sh(1, 12, 10))
    assert got == [
        Breach("granularity", "starts_at", {"minutes": 15}),
        Breach("granularity", "ends_at", {"minutes": 15}),
    ]


def test_granularity_rejects_seconds():
    """Seconds or microseconds off the minute break granularity."""
    got = check(sh(1, 10) + timedelta(seconds=1), sh(1, 12) + timedelta(microseconds=1))
    assert codes(got) == [("granularity", "starts_at"), ("granularity", "ends_at")]


def test_granularity_uses_local_minute_of_day():
    """The grid counts from local midnight, not from UTC or the epoch."""
    # A 45-minute grid: 09:00 is minute 540 = 12 × 45, 09:30 is not on it.
    assert check(sh(1, 9), sh(1, 10, 30), granularity_minutes=45) == []
    assert codes(check(sh(1, 9, 30), sh(1, 10, 30), granularity_minutes=45)) == [("granularity", "starts_at")]
    # Nepal is UTC+05:45: 10:00 local (04:15 UTC) is on a 30-minute grid, 10:15 (04:30 UTC) is not.
    nepal = ZoneInfo("Asia/Kathmandu")
    rules = dict(tz=nepal, granularity_minutes=30, open_time=time(0), close_time=time(0))
    assert check(local(nepal, 2025, 6, 1, 10, 0), local(nepal, 2025, 6, 1, 11, 0), **rules) == []
    got = check(local(nepal, 2025, 6, 1, 10, 15), local(nepal, 2025, 6, 1, 11, 0), **rules)
    assert codes(got) == [("granularity", "starts_at")]


def test_min_duration():
    """Shorter than the room minimum is a breach on ends_at with the minimum."""
    assert check(sh(1, 10), sh(1, 10, 15)) == [Breach("min_duration", "ends_at", {"minutes": 30})]
    assert check(sh(1, 10), sh(1, 10, 30)) == []


def test_max_duration():
    """Longer than the room maximum is a breach on ends_at with the maximum."""
    assert check(sh(1, 10), sh(1, 14, 15)) == [Breach("max_duration", "ends_at", {"minutes": 240})]
    assert check(sh(1, 10), sh(1, 14)) == []


def test_no_duration_limits_when_none():
    """None means no minimum or maximum."""
    assert check(sh(1, 10), sh(1, 10, 15), min_minutes=None) == []
    assert check(sh(1, 8), sh(1, 22), max_minutes=None) == []


def test_outside_open_hours():
    """Starting before opening or ending after closing breaches open hours."""
    expected = [Breach("open_hours", "starts_at", {"open": "08:00", "close": "22:00"})]
    assert check(sh(1, 7, 30), sh(1, 9)) == expected
    assert check(sh(1, 21), sh(1, 22, 30)) == expected
    assert check(sh(1, 8), sh(1, 10)) == []
    assert check(sh(1, 20), sh(1, 22)) == []  # touching closing time is inside


def test_all_breaches_are_reported_together():
    """Several broken rules are all returned, so the form can show each."""
    got = check(sh(1, 7, 5), sh(1, 7, 20))
    assert codes(got) == [
        ("granularity", "starts_at"),
        ("granularity", "ends_at"),
        ("min_duration", "ends_at"),
        ("open_hours", "starts_at"),
    ]


def test_booking_across_midnight_in_night_room_is_allowed():
    """In a 20:00-02:00 room, 23:00-01:00 lies inside one opening."""
    assert check(sh(1, 23), sh(2, 1), open_time=time(20), close_time=time(2)) == []
    assert check(sh(1, 20), sh(2, 2), open_time=time(20), close_time=time(2), max_minutes=None) == []
    assert check(sh(2, 0), sh(2, 2), open_time=time(20), close_time=time(2)) == []


def test_booking_spanning_the_closed_daytime_is_refused():
    """In a 20:00-02:00 room, 01:00-21:00 covers the closed day: two openings are not one."""
    got = check(sh(2, 1), sh(2, 21), open_time=time(20), close_time=time(2), max_minutes=None)
    assert got == [Breach("open_hours", "starts_at", {"open": "20:00", "close": "02:00"})]


def test_24h_room_accepts_booking_across_midnight():
    """Equal open and close times mean open all day, including across midnight."""
    assert check(sh(1, 22), sh(2, 2), open_time=time(0), close_time=time(0)) == []
    assert check(sh(1, 20), sh(3, 2), open_time=time(9), close_time=time(9), max_minutes=None) == []


def test_granularity_across_dst_uses_local_clock():
    """On the Berlin spring-forward day, 03:00 local is on the grid though it follows 01:59."""
    got = check(
        local(BERLIN, 2025, 3, 30, 1), local(BERLIN, 2025, 3, 30, 3),
        tz=BERLIN, open_time=time(0), close_time=time(0), min_minutes=None,
    )
    assert got == []
