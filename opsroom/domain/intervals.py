"""Half-open time intervals ``[start, end)`` over timezone-aware datetimes.

Every function normalises to UTC before comparing or subtracting: Python compares
two datetimes that share one tzinfo object by wall clock, which is wrong across a
DST change, so nothing here trusts a non-UTC value.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import NamedTuple

UTC = timezone.utc


def to_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive datetimes are rejected, never guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: an aware datetime is required")
    return value.astimezone(UTC)


class Interval(NamedTuple):
    """A half-open interval ``[start, end)``; empty when ``end <= start``."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        """Elapsed seconds (negative for an inverted interval)."""
        return (to_utc(self.end) - to_utc(self.start)).total_seconds()

    @property
    def minutes(self) -> float:
        """Elapsed minutes, fractional when the interval is not whole minutes."""
        return self.seconds / 60

    @property
    def is_empty(self) -> bool:
        return to_utc(self.end) <= to_utc(self.start)

    def overlaps(self, other: Interval) -> bool:
        """True when the two share at least one instant; touching ends do not overlap."""
        if self.is_empty or other.is_empty:
            return False
        return to_utc(self.start) < to_utc(other.end) and to_utc(other.start) < to_utc(self.end)

    def contains(self, other: Interval) -> bool:
        """True when ``other`` lies within ``self`` (equal bounds included)."""
        return to_utc(self.start) <= to_utc(other.start) and to_utc(other.end) <= to_utc(self.end)

    def utc(self) -> Interval:
        return Interval(to_utc(self.start), to_utc(self.end))


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint cover of the input.

    Overlapping and touching intervals merge (``[a, b) ∪ [b, c) = [a, c)``), so the
    result never has two pieces that meet; empty or inverted intervals are dropped.
    """
    pieces = sorted(iv for iv in (Interval(*i).utc() for i in intervals) if iv.end > iv.start)
    merged: list[Interval] = []
    for piece in pieces:
        if merged and piece.start <= merged[-1].end:
            if piece.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, piece.end)
        else:
            merged.append(piece)
    return merged


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """Instants that are in both ``union(a)`` and ``union(b)``, as a union."""
    left, right = union(a), union(b)
    out: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i].start, right[j].start)
        end = min(left[i].end, right[j].end)
        if start < end:
            out.append(Interval(start, end))
        # The piece that ends first cannot meet anything further on the other side.
        if left[i].end <= right[j].end:
            i += 1
        else:
            j += 1
    return out


def subtract(base: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """Instants of ``union(base)`` that are in no hole, as a union."""
    cut = union(holes)
    out: list[Interval] = []
    j = 0
    for piece in union(base):
        start = piece.start
        # Holes are sorted and disjoint, so skip the ones wholly before this piece once.
        while j < len(cut) and cut[j].end <= start:
            j += 1
        k = j
        while k < len(cut) and cut[k].start < piece.end:
            if cut[k].start > start:
                out.append(Interval(start, cut[k].start))
            start = max(start, cut[k].end)
            k += 1
        if start < piece.end:
            out.append(Interval(start, piece.end))
    return out


def clip(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """The union of ``intervals`` restricted to ``window``."""
    return intersect(intervals, [window])


def total_seconds(intervals: Iterable[Interval]) -> float:
    """Seconds covered by the union, so overlapping input is counted once."""
    return sum(iv.seconds for iv in union(intervals))
