"""Utilization arithmetic of one room over one park-local day (docs/domain.md).

- bookable = open hours ∩ the day, minus the union of blackouts;
- booked = the union of the counted sessions (confirmed, live, ended, no-show;
  a no-show's end is its release time), clipped to bookable time;
- prime = the same restricted to the daily prime hours;
- used = from check-in to the end of each session that was checked in.

Every figure is in whole seconds (instants are floored to the second), and every
booked or used second belongs to exactly one session (the earliest one that
covers it), so per-tenant and per-anchor figures add up to the room's figure:
grouped figures are sums of parts, never averages of ratios. Hour buckets are by
park-local hour of day and add up to the day's figure.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .hours import local_day, open_windows
from .intervals import Interval, intersect, subtract, to_utc

HOURS = 24
_SECOND = timedelta(seconds=1)


def _floor(instant: datetime) -> datetime:
    return to_utc(instant).replace(microsecond=0)


def _seconds(pieces: Iterable[Interval]) -> int:
    return sum((p.end - p.start) // _SECOND for p in pieces)


def hour_buckets(pieces: Iterable[Interval], tz: ZoneInfo) -> list[int]:
    """Seconds of ``pieces`` per park-local hour of day (0–23); they add up to the total."""
    out = [0] * HOURS
    for piece in pieces:
        t, end = piece.start, piece.end
        while t < end:
            local = t.astimezone(tz)
            boundary = t + timedelta(seconds=3600 - local.minute * 60 - local.second)
            upto = min(boundary, end)
            out[local.hour] += (upto - t) // _SECOND
            t = upto
    return out


@dataclass(frozen=True)
class Session:
    """One booking as the arithmetic sees it."""

    key: int
    start: datetime
    end: datetime
    counted: bool = True  # confirmed, live, ended or no_show
    checked_in_at: datetime | None = None  # used time runs from here to `end`


@dataclass
class Share:
    """One session's part of a room-day."""

    booked: int = 0
    prime_booked: int = 0
    used: int = 0
    booked_hours: list[int] = field(default_factory=lambda: [0] * HOURS)


@dataclass
class RoomDay:
    bookable: int = 0
    booked: int = 0
    prime_bookable: int = 0
    prime_booked: int = 0
    used: int = 0
    bookable_hours: list[int] = field(default_factory=lambda: [0] * HOURS)
    booked_hours: list[int] = field(default_factory=lambda: [0] * HOURS)
    shares: dict[int, Share] = field(default_factory=dict)


class _Claims:
    """Time already owned by earlier sessions: each second goes to the first that takes it."""

    def __init__(self) -> None:
        self.pieces: list[Interval] = []
        self.end: datetime | None = None

    def take(self, wanted: list[Interval]) -> list[Interval]:
        """The part of `wanted` (a union) nobody owns yet, now owned."""
        if not wanted:
            return []
        if self.end is not None and wanted[0].start < self.end:  # only then can it meet an earlier claim
            wanted = subtract(wanted, self.pieces)
        self.pieces.extend(wanted)
        if wanted:
            self.end = max(self.end, wanted[-1].end) if self.end is not None else wanted[-1].end
        return wanted


def bookable_time(day: date, tz: ZoneInfo, open_time: time, close_time: time,
                  blackouts: Iterable[Interval]) -> list[Interval]:
    """Open hours within the local day, minus the union of blackouts."""
    window = local_day(day, tz)
    opened = open_windows(open_time, close_time, window, tz)
    return subtract(opened, [Interval(_floor(b.start), _floor(b.end)) for b in blackouts])


def room_day(day: date, tz: ZoneInfo, *, open_time: time, close_time: time, blackouts: Iterable[Interval],
             sessions: Iterable[Session], prime: tuple[time, time]) -> RoomDay:
    """Every figure of one room on one park-local day, with each session's share."""
    window = local_day(day, tz)
    bookable = bookable_time(day, tz, open_time, close_time, blackouts)
    prime_windows = open_windows(prime[0], prime[1], window, tz)
    prime_bookable = intersect(bookable, prime_windows)
    out = RoomDay(bookable=_seconds(bookable), prime_bookable=_seconds(prime_bookable),
                  bookable_hours=hour_buckets(bookable, tz))
    booked_claims, used_claims = _Claims(), _Claims()
    for s in sorted(sessions, key=lambda s: (to_utc(s.start), s.key)):
        share = Share()
        if s.counted:
            mine = booked_claims.take(intersect([Interval(_floor(s.start), _floor(s.end))], bookable))
            share.booked = _seconds(mine)
            share.prime_booked = _seconds(intersect(mine, prime_windows))
            share.booked_hours = hour_buckets(mine, tz)
            if s.checked_in_at is not None:
                used = used_claims.take(intersect([Interval(_floor(s.checked_in_at), _floor(s.end))], [window]))
                share.used = _seconds(used)
        out.shares[s.key] = share
        out.booked += share.booked
        out.prime_booked += share.prime_booked
        out.used += share.used
        out.booked_hours = [a + b for a, b in zip(out.booked_hours, share.booked_hours)]
    return out


def ratio(part: float | int | None, whole: float | int | None) -> float | None:
    """part ÷ whole, or None when there is nothing to divide by."""
    if part is None or not whole:
        return None
    return part / whole


# A weekday-hour whose bookable time is under this share of the busiest
# weekday-hour's has few rooms open (the night, when only the 24-hour rooms are):
# its utilization is true but speaks for a handful of rooms, and the reports mark it.
FEW_OPEN_SHARE = 0.5


def open_shares(bookable: list[int]) -> list[float | None]:
    """Each cell's bookable time as a share of the largest cell's (None when nothing is bookable anywhere)."""
    top = max(bookable, default=0)
    return [ratio(b, top) for b in bookable]


def days_of(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def is_late_cancellation(starts_at: datetime, cancelled_at: datetime | None, notice: timedelta) -> bool:
    """Cancelled with less than `notice` to go before the start."""
    return cancelled_at is not None and to_utc(starts_at) - to_utc(cancelled_at) < notice
