"""Which sessions an unattributed order likely belongs to:
same room code or anchor account on the order's platform, nearest window first."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from opsroom.domain.orders import Candidate, distance, likely_sessions

T0 = datetime(2026, 11, 20, 11, 0, tzinfo=timezone.utc)


def session(booking_id, start_h, end_h, room="A101", accounts=()):
    return Candidate(booking_id, T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h), room, frozenset(accounts))


@pytest.mark.parametrize("at_h,expected_minutes", [
    (-1, 60), (0, 0), (1.5, 0), (2, 0), (3, 60),  # before, at the start, inside, at the end (half-open), after
])
def test_distance_is_zero_inside_the_half_open_window(at_h, expected_minutes):
    assert distance(T0 + timedelta(hours=at_h), T0, T0 + timedelta(hours=2)) == timedelta(minutes=expected_minutes)


def test_sessions_of_the_same_room_or_anchor_account_nearest_first():
    candidates = [
        session(1, 0, 2, room="A101"),                    # same room, order 30 min after the end
        session(2, 2, 4, room="B202"),                    # another room, no anchor: never suggested
        session(3, -3, -1, room="C303", accounts={"douyin:dy_9"}),  # the anchor's, far
        session(4, 2, 5, room="A101"),                    # same room, the order lies inside
    ]
    got = likely_sessions(T0 + timedelta(hours=2, minutes=30), "douyin", "A101", "dy_9", candidates)
    assert [c.booking_id for c in got] == [4, 1, 3]


def test_an_account_counts_on_its_own_platform_only_and_the_list_is_bounded():
    candidates = [session(i, i, i + 1, room="X", accounts={"kuaishou:dy_9"}) for i in range(5)]
    assert likely_sessions(T0, "douyin", None, "dy_9", candidates) == []
    assert [c.booking_id for c in likely_sessions(T0, "kuaishou", None, "dy_9", candidates, limit=2)] == [0, 1]


def test_matching_both_room_and_account_wins_a_tie():
    candidates = [session(1, 0, 2, room="A101"), session(2, 0, 2, room="A101", accounts={"douyin:dy_1"})]
    assert [c.booking_id for c in likely_sessions(T0 + timedelta(hours=1), "douyin", "A101", "dy_1", candidates)] == [2, 1]
