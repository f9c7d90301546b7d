"""Anchor rules: clashes, daily limit per local day, rest, verified hosts."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsroom.domain.anchor_rules import AnchorProfile, breaches, clashes
from opsroom.domain.intervals import Interval

TZ = ZoneInfo("Asia/Shanghai")
PROFILE = AnchorProfile(verified=True, max_minutes_per_day=360, min_rest_minutes=30)


def iv(d, h1, m1, h2, m2, d2=None):
    return Interval(datetime(2026, 11, d, h1, m1, tzinfo=TZ), datetime(2026, 11, d2 or d, h2, m2, tzinfo=TZ))


def codes(found):
    return [b.code for b in found]


@pytest.mark.parametrize("other,clash", [
    (iv(21, 10, 0, 12, 0), False),   # before
    (iv(21, 12, 0, 14, 0), False),   # touching
    (iv(21, 13, 0, 15, 0), True),    # overlapping
    (iv(21, 14, 0, 16, 0), True),    # equal
    (iv(21, 13, 0, 17, 0), True),    # containing
    (iv(21, 16, 0, 18, 0), False),   # touching after
])
def test_clash_boundaries(other, clash):
    """An anchor's sessions may touch but not overlap (half-open)."""
    assert bool(clashes(iv(21, 14, 0, 16, 0), [other])) is clash


def test_unverified_host_is_refused_but_assistant_is_fine():
    p = AnchorProfile(verified=False, max_minutes_per_day=480, min_rest_minutes=0)
    assert codes(breaches(iv(21, 14, 0, 16, 0), [], profile=p, role="host", tz=TZ)) == ["anchor_unverified"]
    assert breaches(iv(21, 14, 0, 16, 0), [], profile=p, role="assistant", tz=TZ) == []


def test_daily_limit_counts_the_local_day():
    """6 h a day: 4 h + 2 h is fine, 4 h + 2.25 h is not; the next day counts apart."""
    others = [iv(21, 8, 0, 12, 0)]
    assert breaches(iv(21, 14, 0, 16, 0), others, profile=PROFILE, role="host", tz=TZ) == []
    assert codes(breaches(iv(21, 14, 0, 16, 15), others, profile=PROFILE, role="host", tz=TZ)) == ["anchor_daily_limit"]
    assert breaches(iv(22, 14, 0, 16, 15), others, profile=PROFILE, role="host", tz=TZ) == []


def test_daily_limit_splits_a_session_across_midnight():
    """A 23:00–03:00 session counts 1 h to one day and 3 h to the next."""
    others = [iv(22, 8, 0, 11, 0)]  # 3 h on the 22nd
    assert breaches(iv(21, 23, 0, 3, 0, d2=22), others, profile=PROFILE, role="host", tz=TZ) == []
    others = [iv(22, 8, 0, 11, 15)]  # 3.25 h + 3 h > 6 h on the 22nd
    assert codes(breaches(iv(21, 23, 0, 3, 0, d2=22), others, profile=PROFILE, role="host", tz=TZ)) == ["anchor_daily_limit"]


def test_rest_between_sessions():
    assert codes(breaches(iv(21, 12, 15, 13, 0), [iv(21, 10, 0, 12, 0)], profile=PROFILE, role="host", tz=TZ)) == ["anchor_rest"]
    assert breaches(iv(21, 12, 30, 13, 0), [iv(21, 10, 0, 12, 0)], profile=PROFILE, role="host", tz=TZ) == []
    assert codes(breaches(iv(21, 9, 0, 9, 45), [iv(21, 10, 0, 12, 0)], profile=PROFILE, role="host", tz=TZ)) == ["anchor_rest"]


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 95), st.integers(1, 16)), max_size=6), st.integers(0, 95), st.integers(1, 16))
def test_clashes_agree_with_pairwise_overlap(sessions, start, length):
    """clashes() reports exactly the sessions sharing an instant with the candidate."""
    def slot(a, n):
        base = datetime(2026, 11, 21, tzinfo=TZ)
        from datetime import timedelta
        return Interval(base + timedelta(minutes=15 * a), base + timedelta(minutes=15 * (a + n)))
    others = [slot(a, n) for a, n in sessions]
    cand = slot(start, length)
    expected = [i for i, o in enumerate(others) if o.start < cand.end and cand.start < o.end]
    assert clashes(cand, others) == expected
