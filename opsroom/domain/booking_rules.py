"""Shape rules of a single booking: order, granularity, duration, open hours.

Breaches carry machine codes and parameters; the UI layer owns the wording.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .hours import open_windows
from .intervals import Interval, to_utc


# Limits of a room's settings. Together they bound how far back a booking that
# still occupies an instant can have started, which lets queries use the
# starts_at index with a lower bound.
MAX_BOOKING_MINUTES = 24 * 60
MAX_CHANGEOVER_MINUTES = 240
LONGEST_OCCUPANCY = timedelta(minutes=MAX_BOOKING_MINUTES + MAX_CHANGEOVER_MINUTES)


@dataclasses.dataclass(frozen=True)
class Breach:
    """One broken rule: ``code`` names it, ``field`` the form field it belongs to."""

    code: str
    field: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


def occupied(starts_at: datetime, ends_at: datetime, changeover_minutes: int) -> Interval:
    """The room is occupied over ``[starts_at, ends_at + changeover)``."""
    return Interval(to_utc(starts_at), to_utc(ends_at) + timedelta(minutes=changeover_minutes))


def on_granularity(instant: datetime, tz: ZoneInfo, granularity_minutes: int) -> bool:
    """True when the local wall-clock minute of day is a multiple of the granularity."""
    if granularity_minutes < 1:
        raise ValueError("granularity_minutes must be at least 1")
    local = to_utc(instant).astimezone(tz)
    if local.second or local.microsecond:
        return False
    return (local.hour * 60 + local.minute) % granularity_minutes == 0


def check_shape(
    starts_at: datetime,
    ends_at: datetime,
    *,
    open_time: time,
    close_time: time,
    tz: ZoneInfo,
    granularity_minutes: int,
    min_minutes: int | None,
    max_minutes: int | None,
) -> list[Breach]:
    """All shape breaches of a booking; an empty list means it is well formed.

    Rules: it ends after it starts (otherwise that is the only breach reported);
    both ends sit on a local granularity boundary; its duration is within
    ``[min_minutes, max_minutes]`` (``None`` = no limit); and it lies inside one
    continuous open window of the room (open hours may cross midnight; equal
    open and close times mean 24 h).
    """
    start, end = to_utc(starts_at), to_utc(ends_at)
    if end <= start:
        return [Breach("end_before_start", "ends_at", {})]

    breaches: list[Breach] = []
    for name, instant in (("starts_at", start), ("ends_at", end)):
        if not on_granularity(instant, tz, granularity_minutes):
            breaches.append(Breach("granularity", name, {"minutes": granularity_minutes}))

    minutes = Interval(start, end).minutes
    if min_minutes is not None and minutes < min_minutes:
        breaches.append(Breach("min_duration", "ends_at", {"minutes": min_minutes}))
    if max_minutes is not None and minutes > max_minutes:
        breaches.append(Breach("max_duration", "ends_at", {"minutes": max_minutes}))

    # Windows are clipped to the booking, so "inside one window" means the clip is the whole booking.
    # Every day of a room that is not open round the clock has a closed moment, so
    # the first two days decide it: a booking running to the year 8000 is judged in
    # microseconds, not by building thousands of years of windows (fuzzing).
    span = Interval(start, min(end, start + timedelta(days=2)))
    if open_windows(open_time, close_time, span, tz) != [span]:
        breaches.append(
            Breach(
                "open_hours",
                "starts_at",
                {"open": open_time.strftime("%H:%M"), "close": close_time.strftime("%H:%M")},
            )
        )
    return breaches
