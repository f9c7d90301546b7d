"""Requests (预约申请) in pure terms: the windows a request asks for, the slots
that fit inside one, whether a status may move, and prime time in a week.

A request asks, on each of its days, for `minutes` inside `[window_start,
window_end)` (park-local; the window crosses midnight when the end is not after
the start). A fitting slot starts on a granularity boundary, lies inside the
window and inside the room's bookable time, and its occupied range (changeover
included) meets no busy range.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .booking_rules import on_granularity
from .hours import open_windows
from .intervals import Interval, intersect, union
from .statuses import REQUEST_TRANSITIONS


def window_on(day: date, window_start: time, window_end: time, tz: ZoneInfo) -> Interval:
    """The request's window on park-local `day` (ending the next day when it crosses midnight)."""
    start = datetime.combine(day, window_start, tzinfo=tz)
    end_day = day if window_end > window_start else day + timedelta(days=1)
    return Interval(start, datetime.combine(end_day, window_end, tzinfo=tz)).utc()


def window_minutes(window_start: time, window_end: time) -> int:
    """The length of a daily window in minutes (24 h when start equals end)."""
    a = window_start.hour * 60 + window_start.minute
    b = window_end.hour * 60 + window_end.minute
    return (b - a) % (24 * 60) or 24 * 60


def slots_in(window: Interval, minutes: int, *, bookable: list[Interval], busy_occupied: list[Interval],
             changeover_minutes: int, granularity_minutes: int, tz: ZoneInfo, not_before: datetime | None = None,
             limit: int = 10) -> list[Interval]:
    """Up to `limit` slots of `minutes` inside `window` that fit, earliest first.

    Candidates start every granularity step from the window's start; a
    candidate must lie inside one bookable interval, and `[start, end +
    changeover)` must meet no busy (occupied) range. `not_before` drops slots
    starting in the past.
    """
    if minutes <= 0 or granularity_minutes < 1 or limit < 1:
        return []
    duration, step = timedelta(minutes=minutes), timedelta(minutes=granularity_minutes)
    changeover = timedelta(minutes=changeover_minutes)
    inside = intersect(union(bookable), [window])
    busy = union(busy_occupied)
    out: list[Interval] = []
    for piece in inside:
        start = piece.start
        while not on_granularity(start, tz, granularity_minutes) and start < piece.end:
            start += timedelta(minutes=1)
        while start + duration <= piece.end:
            if not_before is None or start >= not_before:
                occupied = Interval(start, start + duration + changeover)
                if not any(b.overlaps(occupied) for b in busy):
                    out.append(Interval(start, start + duration))
                    if len(out) >= limit:
                        return out
            start += step
    return out


def may_move(old: str, new: str) -> bool:
    """Whether a request in status `old` may become `new`."""
    return new in REQUEST_TRANSITIONS.get(old, ())


def week_of(instant: datetime, tz: ZoneInfo) -> Interval:
    """The park-local week (Monday 00:00 to the next Monday) holding `instant`."""
    day = instant.astimezone(tz).date()
    monday = day - timedelta(days=day.weekday())
    return Interval(datetime.combine(monday, time(0), tzinfo=tz),
                    datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)).utc()


def prime_minutes(pieces: list[Interval], prime: tuple[time, time], tz: ZoneInfo) -> int:
    """Minutes of `pieces` inside the park's daily prime hours (overlaps counted once)."""
    merged = union([p.utc() for p in pieces])
    if not merged:
        return 0
    span = Interval(merged[0].start - timedelta(days=1), merged[-1].end + timedelta(days=1))
    inside = intersect(merged, open_windows(prime[0], prime[1], span, tz))
    return int(sum((p.end - p.start).total_seconds() for p in inside) // 60)
