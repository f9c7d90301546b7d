"""Free time of a room and the nearest bookable alternatives to a wanted slot."""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .booking_rules import on_granularity
from .intervals import UTC, Interval, subtract, union

_MINUTES_PER_DAY = 24 * 60


def free_windows(bookable: list[Interval], busy_occupied: list[Interval]) -> list[Interval]:
    """Bookable time not occupied by any booking (occupied ranges include changeover)."""
    return subtract(bookable, busy_occupied)


def _boundaries(window: Interval, tz: ZoneInfo, granularity_minutes: int) -> list[datetime]:
    """Instants in ``window`` whose local wall clock sits on a granularity boundary.

    Boundaries are generated per local day from wall-clock times, not by adding
    minutes in UTC, so they stay aligned across DST changes and for granularities
    that do not divide an hour; both folds are tried so a repeated hour is covered.
    """
    found: set[datetime] = set()
    day = window.start.astimezone(tz).date()
    last = window.end.astimezone(tz).date()
    while day <= last:
        for minute in range(0, _MINUTES_PER_DAY, granularity_minutes):
            for fold in (0, 1):
                wall = time(minute // 60, minute % 60, fold=fold)
                instant = datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)
                # A wall time inside a DST gap maps elsewhere; keep it only if still aligned.
                if window.start <= instant < window.end and on_granularity(instant, tz, granularity_minutes):
                    found.add(instant)
        day += timedelta(days=1)
    return sorted(found)


def nearest_slots(
    *,
    want: Interval,
    bookable: list[Interval],
    busy_occupied: list[Interval],
    changeover_minutes: int,
    granularity_minutes: int,
    tz: ZoneInfo,
    limit: int = 3,
) -> list[Interval]:
    """Up to ``limit`` alternatives to ``want``, nearest start first (ties: earlier).

    A candidate has ``want``'s duration, starts on a local granularity boundary,
    lies inside one bookable window, and its occupied range ``[s, e + changeover)``
    overlaps no busy range. ``want`` itself is never offered. Only the given
    bookable windows are scanned (the caller passes one local day, already without
    the past and blackouts).
    """
    if granularity_minutes < 1:
        raise ValueError("granularity_minutes must be at least 1")
    want = want.utc()
    duration = want.end - want.start
    if duration <= timedelta(0) or limit < 1:
        return []
    changeover = timedelta(minutes=changeover_minutes)
    busy = union(busy_occupied)
    busy_ends = [iv.end for iv in busy]

    def is_free(start: datetime, end: datetime) -> bool:
        # The first busy range ending after start is the only one that can overlap.
        i = bisect_right(busy_ends, start)
        return i == len(busy) or busy[i].start >= end

    candidates: list[Interval] = []
    for window in union(bookable):
        for start in _boundaries(window, tz, granularity_minutes):
            end = start + duration
            if end > window.end:
                break
            if start != want.start and is_free(start, end + changeover):
                candidates.append(Interval(start, end))
    candidates.sort(key=lambda iv: (abs(iv.start - want.start), iv.start))
    return candidates[:limit]
