"""The month as integer minutes from its origin (local midnight of its first day).

The solver and the greedy plan compare integers, not datetimes: instants become
minutes at the boundary and back again on the way out. Local days, open hours
and prime hours are computed once with the same domain functions that guard a
single booking (``hours.local_day``, ``hours.open_windows``), so a planned
session and a booked one obey one definition of "open" and "local day".
A busy range with seconds is widened to whole minutes (never narrowed), so the
rounding can only make the planner more careful.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from ..hours import local_day, open_windows
from ..intervals import Interval, to_utc

# Sessions of the month's last days may run past its end (a window crossing
# midnight); two spare days cover every window and changeover.
SPARE_DAYS = 2


class Timeline:
    """Minutes, local days, ISO weeks and prime time of one planning month."""

    def __init__(self, first_day: date, days: int, tz: ZoneInfo, prime_start: time, prime_end: time,
                 granularity_minutes: int) -> None:
        if days < 1:
            raise ValueError("a month has at least one day")
        if granularity_minutes < 1:
            raise ValueError("granularity_minutes must be at least 1")
        self.tz = tz
        self.first_day = first_day
        self.days = days
        self.granularity = granularity_minutes
        self.origin = local_day(first_day, tz).start
        # Local day d (0 = first day) covers [day_starts[d], day_starts[d + 1]).
        last = first_day + timedelta(days=days + SPARE_DAYS)
        self.day_starts = [self.to_min(local_day(first_day + timedelta(days=d), tz).start)
                           for d in range(days + SPARE_DAYS + 1)]
        self.horizon = self.to_min(local_day(last, tz).start)
        self.span = Interval(self.origin, self.at(self.horizon))
        prime = bytearray(self.horizon)
        for a, b in self.windows(prime_start, prime_end):
            prime[a:b] = b"\x01" * (b - a)
        self._prime_prefix = [0, *accumulate(prime)]

    # -- conversions -------------------------------------------------------
    def to_min(self, instant: datetime, *, up: bool = False) -> int:
        seconds = (to_utc(instant) - self.origin).total_seconds()
        return math.ceil(seconds / 60) if up else math.floor(seconds / 60)

    def at(self, minute: int) -> datetime:
        return self.origin + timedelta(minutes=minute)

    def clamp(self, minute: int) -> int:
        return min(max(minute, 0), self.horizon)

    def range_of(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Whole minutes covering ``[start, end)``, clipped to the horizon."""
        return self.clamp(self.to_min(start)), self.clamp(self.to_min(end, up=True))

    def windows(self, open_time: time, close_time: time) -> list[tuple[int, int]]:
        """Daily openings ``open_time``–``close_time`` over the horizon, as minutes."""
        return [self.range_of(w.start, w.end)
                for w in open_windows(open_time, close_time, self.span, self.tz)]

    # -- local days and weeks ----------------------------------------------
    def day_of(self, minute: int) -> int:
        return bisect_right(self.day_starts, minute) - 1

    def date_of(self, day: int) -> date:
        return self.first_day + timedelta(days=day)

    def day_index(self, day: date) -> int:
        return (day - self.first_day).days

    def week_of(self, day: int) -> tuple[int, int]:
        iso = self.date_of(day).isocalendar()
        return iso[0], iso[1]

    def minutes_by_day(self, start: int, end: int) -> list[tuple[int, int]]:
        """``[(day, minutes)]`` of ``[start, end)`` in each local day it touches."""
        out = []
        day = self.day_of(start)
        while start < end:
            stop = min(end, self.day_starts[day + 1]) if day + 1 < len(self.day_starts) else end
            out.append((day, stop - start))
            start, day = stop, day + 1
        return out

    # -- prime time --------------------------------------------------------
    def prime_minutes(self, start: int, end: int) -> int:
        return self._prime_prefix[end] - self._prime_prefix[start]

    def prime_by_week(self, start: int, end: int) -> list[tuple[tuple[int, int], int]]:
        """Prime minutes of ``[start, end)`` per ISO week of the local day they fall in."""
        out: dict[tuple[int, int], int] = {}
        for day, _ in self.minutes_by_day(start, end):
            a = max(start, self.day_starts[day])
            b = min(end, self.day_starts[day + 1])
            minutes = self.prime_minutes(a, b)
            if minutes:
                week = self.week_of(day)
                out[week] = out.get(week, 0) + minutes
        return list(out.items())

    # -- request windows ---------------------------------------------------
    def window(self, day: date, window_start: time, window_end: time) -> tuple[int, int]:
        """The occurrence window of local ``day`` in minutes; an end not after the
        start lies on the next day (equal: a whole day)."""
        start = datetime.combine(day, window_start, tzinfo=self.tz)
        end_day = day if window_end > window_start else day + timedelta(days=1)
        end = datetime.combine(end_day, window_end, tzinfo=self.tz)
        return self.to_min(start), self.to_min(end)

    def starts(self, day: date, window_start: time, window_end: time, minutes: int) -> list[int]:
        """Starts on the local granularity inside the window that leave room for ``minutes``.

        Built from wall-clock times per step, not by adding minutes in UTC, so the
        starts stay on the local grid across a DST change.
        """
        first, last = self.window(day, window_start, window_end)
        out = []
        base = datetime.combine(day, time(0, 0), tzinfo=self.tz)
        step = self.granularity
        wall = window_start.hour * 60 + window_start.minute
        wall = -(-wall // step) * step  # the first grid point at or after the window start
        while True:
            local = (base + timedelta(minutes=wall)).replace(tzinfo=None)
            start = self.to_min(datetime.combine(local.date(), local.time(), tzinfo=self.tz))
            if start + minutes > last:
                break
            if first <= start and 0 <= start and start + minutes <= self.horizon:
                if not out or start > out[-1]:
                    out.append(start)
            wall += step
        return out
