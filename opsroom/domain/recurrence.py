"""Expansion of a recurring booking (a series) into its occurrences.

Occurrences keep the first booking's local wall-clock start and its elapsed
duration, so a 19:00 session stays at 19:00 across a DST change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .intervals import UTC, Interval, to_utc

FREQUENCIES = ("daily", "weekly")
MAX_INTERVAL = 52


class RecurrenceError(ValueError):
    """An invalid rule; ``code`` names the problem and ``field`` the form field."""

    def __init__(self, code: str, field: str) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


def _validate(
    freq: str,
    interval: int,
    weekdays: list[int] | None,
    until: date | None,
    count: int | None,
    first_day: date,
) -> None:
    if freq not in FREQUENCIES:
        raise RecurrenceError("freq", "freq")
    if isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= MAX_INTERVAL:
        raise RecurrenceError("interval", "interval")
    if weekdays is not None:
        if freq == "weekly" and not weekdays:
            raise RecurrenceError("weekdays", "weekdays")
        if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
            raise RecurrenceError("weekdays", "weekdays")
    if (until is None) == (count is None):
        raise RecurrenceError("until_or_count", "until")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise RecurrenceError("count", "count")
    if until is not None and until < first_day:
        raise RecurrenceError("until", "until")


def _daily(first_day: date, interval: int) -> Iterator[date]:
    day = first_day
    while True:
        yield day
        day += timedelta(days=interval)


def _weekly(first_day: date, interval: int, weekdays: list[int]) -> Iterator[date]:
    # Weeks are counted from the Monday of the first booking's week, not from its day.
    monday = first_day - timedelta(days=first_day.weekday())
    while True:
        for weekday in weekdays:
            day = monday + timedelta(days=weekday)
            if day >= first_day:
                yield day
        monday += timedelta(weeks=interval)


def expand(
    starts_at: datetime,
    ends_at: datetime,
    *,
    freq: str,
    tz: ZoneInfo,
    interval: int = 1,
    weekdays: list[int] | None = None,
    until: date | None = None,
    count: int | None = None,
    max_occurrences: int = 366,
) -> list[Interval]:
    """Occurrences of the booking ``[starts_at, ends_at)`` under a recurrence rule, in UTC.

    - ``daily``: every ``interval`` days from the first start's local date.
    - ``weekly``: on ``weekdays`` (0 = Monday; default the first start's weekday) of
      every ``interval``-th week counted from the first start's Monday-based week.
      Nothing before the first start's local date is produced, and the first
      booking itself is an occurrence only if its weekday is chosen.
    - Exactly one of ``until`` (inclusive local date of the start) or ``count``.
      ``weekdays`` is ignored for ``daily``.

    Each occurrence starts at the first start's local wall-clock time on its date
    and lasts as long as the first booking. More than ``max_occurrences`` raises
    ``RecurrenceError("too_many")`` rather than truncating silently.
    """
    start, end = to_utc(starts_at), to_utc(ends_at)
    if end <= start:
        raise RecurrenceError("end_before_start", "ends_at")
    local_start = start.astimezone(tz)
    first_day = local_start.date()
    if isinstance(until, datetime):
        until = to_utc(until).astimezone(tz).date()
    _validate(freq, interval, weekdays, until, count, first_day)

    limit_field = "count" if count is not None else "until"
    if count is not None and count > max_occurrences:
        raise RecurrenceError("too_many", limit_field)

    if freq == "daily":
        days = _daily(first_day, interval)
    else:
        chosen = sorted(set(weekdays)) if weekdays is not None else [first_day.weekday()]
        days = _weekly(first_day, interval, chosen)

    # .time() keeps fold, so the first occurrence reproduces starts_at exactly.
    wall = local_start.time()
    duration = end - start
    out: list[Interval] = []
    for day in days:
        if until is not None and day > until:
            break
        if count is not None and len(out) == count:
            break
        if len(out) == max_occurrences:
            raise RecurrenceError("too_many", limit_field)
        occurrence_start = datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)
        out.append(Interval(occurrence_start, occurrence_start + duration))
    return out
