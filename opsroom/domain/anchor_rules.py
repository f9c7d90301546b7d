"""Rules for putting an anchor into a session (docs/domain.md).

- never in two sessions whose [starts_at, ends_at) overlap (a clash);
- at most `max_minutes_per_day` booked minutes in any one park-local day;
- at least `min_rest_minutes` between consecutive sessions;
- a host must be real-name verified.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from .booking_rules import Breach
from .hours import local_day
from .intervals import Interval, clip, total_seconds


@dataclass(frozen=True)
class AnchorProfile:
    verified: bool
    max_minutes_per_day: int
    min_rest_minutes: int


def clashes(candidate: Interval, others: list[Interval]) -> list[int]:
    """Indexes of `others` that overlap the candidate session."""
    return [i for i, other in enumerate(others) if other.overlaps(candidate)]


def breaches(candidate: Interval, others: list[Interval], *, profile: AnchorProfile, role: str,
             tz: ZoneInfo) -> list[Breach]:
    """Rule breaches (not clashes) of adding `candidate` to an anchor who
    already has the sessions `others` (overlapping ones are clashes, reported
    separately, and ignored here)."""
    found: list[Breach] = []
    if role == "host" and not profile.verified:
        found.append(Breach("anchor_unverified", "anchors", {}))
    apart = [o for o in others if not o.overlaps(candidate)]

    # Daily limit, for each local day the candidate touches.
    day = candidate.start.astimezone(tz).date()
    last = (candidate.end - timedelta(microseconds=1)).astimezone(tz).date()
    while day <= last:
        window = local_day(day, tz)
        minutes = total_seconds(clip(apart + [candidate], window)) / 60
        if minutes > profile.max_minutes_per_day:
            found.append(Breach("anchor_daily_limit", "anchors",
                                {"minutes": profile.max_minutes_per_day, "date": day.isoformat()}))
            break
        day += timedelta(days=1)

    rest = timedelta(minutes=profile.min_rest_minutes)
    for other in apart:
        gap = candidate.start - other.end if other.end <= candidate.start else other.start - candidate.end
        if gap < rest:
            found.append(Breach("anchor_rest", "anchors", {"minutes": profile.min_rest_minutes}))
            break
    return found
