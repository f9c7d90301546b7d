"""Interval arithmetic: half-open overlap, occupancy with changeover, set algebra."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsroom.domain.booking_rules import occupied
from opsroom.domain.intervals import Interval, clip, intersect, subtract, total_seconds, union

UTC = timezone.utc
BASE = datetime(2025, 3, 1, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return BASE + timedelta(hours=hour, minutes=minute)


A = Interval(at(10), at(12))  # booking A; changeover 30 min

# name, B start, B end, B overlaps A as plain intervals, B clashes with A in the room (changeover 30)
BOUNDARY_TABLE = [
    ("before", at(7), at(9), False, False),
    ("before-with-changeover-room", at(7, 30), at(9, 30), False, False),
    ("touching-before", at(8), at(10), False, True),
    ("overlapping-start", at(9), at(11), True, True),
    ("equal", at(10), at(12), True, True),
    ("containing", at(9), at(13), True, True),
    ("contained", at(10, 30), at(11, 30), True, True),
    ("overlapping-end", at(11), at(13), True, True),
    ("touching-after", at(12), at(13), False, True),
    ("after-changeover", at(12, 30), at(13, 30), False, False),
    ("after", at(14), at(15), False, False),
]
IDS = [row[0] for row in BOUNDARY_TABLE]


@pytest.mark.parametrize(("name", "start", "end", "overlap", "clash"), BOUNDARY_TABLE, ids=IDS)
def test_overlaps_is_half_open(name, start, end, overlap, clash):
    """Overlap is symmetric and touching intervals do not overlap."""
    b = Interval(start, end)
    assert A.overlaps(b) is overlap
    assert b.overlaps(A) is overlap


@pytest.mark.parametrize(("name", "start", "end", "overlap", "clash"), BOUNDARY_TABLE, ids=IDS)
def test_room_occupancy_includes_changeover(name, start, end, overlap, clash):
    """Two bookings clash when their occupied ranges [start, end + changeover) overlap."""
    occupied_a = occupied(A.start, A.end, 30)
    occupied_b = occupied(start, end, 30)
    assert occupied_a.overlaps(occupied_b) is clash
    assert occupied_b.overlaps(occupied_a) is clash


def test_occupied_adds_changeover_to_end_only():
    """The changeover extends the end of the occupied range, never the start."""
    assert occupied(at(10), at(12), 30) == Interval(at(10), at(12, 30))
    assert occupied(at(10), at(12), 0) == Interval(at(10), at(12))


def test_empty_interval_overlaps_nothing():
    """An empty interval contains no instant, so it overlaps nothing, not even its container."""
    assert not Interval(at(11), at(11)).overlaps(A)
    assert not A.overlaps(Interval(at(11), at(11)))


def test_contains_includes_equal_bounds():
    """An interval contains itself and its sub-intervals, not ones that stick out."""
    assert A.contains(A)
    assert A.contains(Interval(at(10, 30), at(11)))
    assert not A.contains(Interval(at(9), at(11)))
    assert not A.contains(Interval(at(11), at(12, 1)))


def test_seconds_and_minutes_are_fractional():
    """Durations are exact, including partial minutes."""
    iv = Interval(at(10), at(10) + timedelta(seconds=90))
    assert iv.seconds == 90.0
    assert iv.minutes == 1.5


def test_seconds_are_elapsed_time_across_dst():
    """Across the Berlin spring-forward night, 00:00 to 04:00 local is 3 elapsed hours."""
    berlin = ZoneInfo("Europe/Berlin")
    iv = Interval(datetime(2025, 3, 30, 0, tzinfo=berlin), datetime(2025, 3, 30, 4, tzinfo=berlin))
    assert iv.seconds == 3 * 3600


def test_union_merges_touching_and_drops_empty():
    """Touching and overlapping pieces merge; empty and inverted ones vanish."""
    got = union([
        Interval(at(12), at(13)),
        Interval(at(10), at(11)),
        Interval(at(11), at(12)),
        Interval(at(14), at(14)),
        Interval(at(16), at(15)),
        Interval(at(17), at(19)),
        Interval(at(17, 30), at(18)),
    ])
    assert got == [Interval(at(10), at(13)), Interval(at(17), at(19))]


def test_union_returns_utc():
    """Results are in UTC whatever zone the input used."""
    shanghai = ZoneInfo("Asia/Shanghai")
    got = union([Interval(datetime(2025, 3, 1, 18, tzinfo=shanghai), datetime(2025, 3, 1, 19, tzinfo=shanghai))])
    assert got == [Interval(at(10), at(11))]
    assert got[0].start.tzinfo is UTC


def test_naive_datetimes_are_rejected():
    """A naive datetime is an error, never silently read as local or UTC time."""
    with pytest.raises(ValueError):
        union([Interval(datetime(2025, 1, 1), datetime(2025, 1, 2))])


def test_intersect_subtract_clip_examples():
    """Worked examples of intersection, subtraction and clipping."""
    a = [Interval(at(8), at(12)), Interval(at(14), at(18))]
    b = [Interval(at(10), at(15))]
    assert intersect(a, b) == [Interval(at(10), at(12)), Interval(at(14), at(15))]
    assert subtract(a, b) == [Interval(at(8), at(10)), Interval(at(15), at(18))]
    assert subtract(a, [Interval(at(9), at(10)), Interval(at(11), at(15))]) == [
        Interval(at(8), at(9)),
        Interval(at(10), at(11)),
        Interval(at(15), at(18)),
    ]
    assert clip(a, Interval(at(11), at(16))) == [Interval(at(11), at(12)), Interval(at(14), at(16))]
    assert subtract(a, []) == a
    assert subtract([], b) == []


def test_total_seconds_counts_overlap_once():
    """Overlapping input is counted once."""
    assert total_seconds([Interval(at(10), at(12)), Interval(at(11), at(13))]) == 3 * 3600


# --- properties -------------------------------------------------------------

SPAN = 48  # endpoints are whole half-hours within one day, so half-quarter points probe every piece
ZONES = [UTC, ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")]


@st.composite
def intervals(draw) -> Interval:
    start = draw(st.integers(0, SPAN))
    end = draw(st.integers(0, SPAN))  # may be empty or inverted on purpose
    zone = draw(st.sampled_from(ZONES))
    return Interval(
        (BASE + timedelta(minutes=30 * start)).astimezone(zone),
        (BASE + timedelta(minutes=30 * end)).astimezone(zone),
    )


interval_lists = st.lists(intervals(), max_size=8)
# Points on the quarter hour between half-hour endpoints: every endpoint and every interior.
SAMPLE_POINTS = [BASE + timedelta(minutes=15 * k) for k in range(-1, 2 * SPAN + 2)]


def covers(ivs: list[Interval], point: datetime) -> bool:
    return any(iv.start <= point < iv.end for iv in ivs)


@settings(deadline=None)
@given(interval_lists)
def test_union_is_sorted_disjoint_and_not_touching(ivs):
    """Union pieces are non-empty, in order, and separated by a real gap."""
    got = union(ivs)
    for piece in got:
        assert piece.start < piece.end
        assert piece.start.tzinfo is UTC
    for left, right in zip(got, got[1:]):
        assert left.end < right.start


@settings(deadline=None)
@given(interval_lists)
def test_union_covers_exactly_the_input_points(ivs):
    """An instant is in the union iff it is in some input interval."""
    got = union(ivs)
    for point in SAMPLE_POINTS:
        assert covers(got, point) == covers(ivs, point)


@settings(deadline=None)
@given(interval_lists)
def test_union_is_idempotent(ivs):
    """Merging an already merged list changes nothing."""
    assert union(union(ivs)) == union(ivs)


@settings(deadline=None)
@given(interval_lists, interval_lists)
def test_subtract_removes_exactly_the_holes(a, b):
    """(a − b) ∩ b is empty and (a − b) ∪ (a ∩ b) is a."""
    diff = subtract(a, b)
    assert intersect(diff, b) == []
    assert union(diff + intersect(a, b)) == union(a)


@settings(deadline=None)
@given(interval_lists, interval_lists)
def test_intersect_points(a, b):
    """An instant is in a ∩ b iff it is in both."""
    got = intersect(a, b)
    for point in SAMPLE_POINTS:
        assert covers(got, point) == (covers(a, point) and covers(b, point))


@settings(deadline=None)
@given(interval_lists)
def test_total_seconds_at_most_sum(ivs):
    """Total time of a union never exceeds the sum of the non-empty parts."""
    assert total_seconds(union(ivs)) <= sum(max(iv.seconds, 0) for iv in ivs)
    assert total_seconds(ivs) == total_seconds(union(ivs))
