"""Local days and room open hours, converted to UTC intervals.

Wall-clock times are turned into instants with ``datetime(..., tzinfo=tz)`` and
``astimezone(UTC)``; adding a timedelta to a local datetime would ignore DST.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .intervals import UTC, Interval, clip, to_utc, union

_MIDNIGHT = time(0, 0)
_ONE_DAY = timedelta(days=1)


def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz).astimezone(UTC)


# A month as YYYY-MM, 2000–2099 (the planner's and the board's years).
MONTH_PATTERN = "^20[0-9]{2}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


def parse_month(text) -> date | None:
    """YYYY-MM (MONTH_PATTERN) → the month's first day; None for anything else."""
    if not isinstance(text, str) or not _MONTH.fullmatch(text):
        return None
    return date(int(text[:4]), int(text[5:]), 1)


def month_bounds(first: date) -> tuple[date, int]:
    """The month of `first`: its first day and its number of days."""
    first = first.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, (nxt - first).days


def local_day(day: date, tz: ZoneInfo) -> Interval:
    """``[local midnight of day, next local midnight)`` in UTC; 23 h or 25 h on DST days."""
    return Interval(_instant(day, _MIDNIGHT, tz), _instant(day + _ONE_DAY, _MIDNIGHT, tz))


def local_days(first: date, last: date, tz: ZoneInfo) -> Interval:
    """From the start of local day ``first`` to the end of local day ``last`` (inclusive)."""
    if last < first:
        raise ValueError("last day is before first day")
    return Interval(local_day(first, tz).start, local_day(last, tz).end)


def _opening_of(day: date, open_time: time, close_time: time, tz: ZoneInfo) -> Interval:
    """The opening that starts on local ``day``."""
    if close_time > open_time:
        return Interval(_instant(day, open_time, tz), _instant(day, close_time, tz))
    if close_time < open_time:
        return Interval(_instant(day, open_time, tz), _instant(day + _ONE_DAY, close_time, tz))
    return local_day(day, tz)


def open_windows(open_time: time, close_time: time, window: Interval, tz: ZoneInfo) -> list[Interval]:
    """The room's open hours within ``window``, in UTC, merged.

    Each local day ``d`` opens ``[d open, d close)``; when close is earlier than open
    the opening runs to ``close`` on the next day; equal times mean open all day.
    Touching openings merge, so a 24 h room yields one continuous window.
    """
    start, end = to_utc(window.start), to_utc(window.end)
    if end <= start:
        return []
    # Start a day early: yesterday's opening may run past midnight into the window.
    day = start.astimezone(tz).date() - _ONE_DAY
    last = end.astimezone(tz).date()
    openings = []
    while day <= last:
        openings.append(_opening_of(day, open_time, close_time, tz))
        day += _ONE_DAY
    return clip(union(openings), Interval(start, end))
