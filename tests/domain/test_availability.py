"""Free windows and nearest alternative slots."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from opsroom.domain.availability import free_windows, nearest_slots
from opsroom.domain.booking_rules import on_granularity, occupied
from opsroom.domain.hours import local_day, open_windows
from opsroom.domain.intervals import Interval

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def sh(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2025, 6, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


DAY = Interval(sh(9), sh(21))


def slots(want, busy, *, changeover=30, granularity=15, bookable=(DAY,), limit=3, tz=SHANGHAI):
    return nearest_slots(
        want=want,
        bookable=list(bookable),
        busy_occupied=list(busy),
        changeover_minutes=changeover,
        granularity_minutes=granularity,
        tz=tz,
        limit=limit,
    )


def test_free_windows_subtract_occupied():
    """Free time is bookable time minus occupied ranges (changeover included)."""
    busy = [occupied(sh(10), sh(12), 30), occupied(sh(15), sh(16), 30)]
    assert free_windows([DAY], busy) == [
        Interval(sh(9), sh(10)),
        Interval(sh(12, 30), sh(15)),
        Interval(sh(16, 30), sh(21)),
    ]


def test_nearest_slots_around_a_clash():
    """Wanting 11:00-12:00 over a 10:00-12:00 booking offers the nearest free hours."""
    busy = [occupied(sh(10), sh(12), 30)]
    got = slots(Interval(sh(11), sh(12)), busy)
    # Nothing fits before: with its changeover a 1 h slot must start by 08:30, before opening.
    assert got == [
        Interval(sh(12, 30), sh(13, 30)),
        Interval(sh(12, 45), sh(13, 45)),
        Interval(sh(13), sh(14)),
    ]


def test_own_changeover_must_end_before_next_booking():
    """A candidate's changeover must not run into the next booking."""
    busy = [occupied(sh(11), sh(13), 30)]
    got = slots(Interval(sh(10), sh(12)), busy, limit=1)
    # 09:00-11:00 plus its changeover runs into 11:00, so the only fit is after the booking.
    assert got == [Interval(sh(13, 30), sh(15, 30))]
    # A 1 h slot must end by 10:30 for its changeover to clear 11:00.
    got = slots(Interval(sh(9, 30), sh(10, 30)), busy, limit=2)
    assert got == [Interval(sh(9, 15), sh(10, 15)), Interval(sh(9), sh(10))]


def test_ties_prefer_earlier_and_want_is_excluded():
    """Equal distance prefers the earlier start; the wanted slot itself is never offered."""
    got = slots(Interval(sh(12), sh(13)), [], limit=4)
    assert got == [
        Interval(sh(11, 45), sh(12, 45)),
        Interval(sh(12, 15), sh(13, 15)),
        Interval(sh(11, 30), sh(12, 30)),
        Interval(sh(12, 30), sh(13, 30)),
    ]


def test_candidates_stay_inside_one_bookable_window():
    """A slot may not straddle a gap between bookable windows (e.g. a blackout)."""
    bookable = [Interval(sh(9), sh(12)), Interval(sh(13), sh(21))]
    got = slots(Interval(sh(11), sh(13)), [], bookable=bookable, limit=10)
    assert got
    for iv in got:
        assert any(w.contains(iv) for w in bookable)
    assert Interval(sh(11), sh(13)) not in got and Interval(sh(11, 30), sh(13, 30)) not in got


def test_candidates_start_on_local_grid():
    """Candidates start on the local granularity grid even if the window does not."""
    got = slots(Interval(sh(9, 7), sh(10, 7)), [], bookable=[Interval(sh(9, 7), sh(21))], limit=2)
    assert got == [Interval(sh(9, 15), sh(10, 15)), Interval(sh(9, 30), sh(10, 30))]


def test_no_room_gives_nothing():
    """A fully booked day offers no slots, and limit 0 or an empty want offers none."""
    assert slots(Interval(sh(10), sh(11)), [occupied(sh(9), sh(21), 0)]) == []
    assert slots(Interval(sh(10), sh(11)), [], limit=0) == []
    assert slots(Interval(sh(10), sh(10)), []) == []


def test_night_room_across_midnight():
    """In a 20:00-02:00 room, alternatives may cross midnight."""
    bookable = open_windows(time(20), time(2), local_day(date(2025, 6, 2), SHANGHAI), SHANGHAI)
    bookable += open_windows(time(20), time(2), local_day(date(2025, 6, 3), SHANGHAI), SHANGHAI)
    busy = [occupied(sh(22), sh(23, 30), 30)]
    got = slots(Interval(sh(22), sh(0, day=3)), busy, bookable=bookable, limit=1)
    assert got == [Interval(sh(0, day=3), sh(2, day=3))]


def test_grid_is_local_across_dst():
    """On the Berlin fall-back day the local 45-minute grid has 33 starts: 02:15 occurs twice."""
    bookable = [local_day(date(2025, 10, 26), BERLIN)]
    want = Interval(datetime(2025, 10, 26, 1, 30, tzinfo=BERLIN), datetime(2025, 10, 26, 2, 15, tzinfo=BERLIN))
    got = slots(want, [], bookable=bookable, granularity=45, tz=BERLIN, limit=100)
    assert len(got) == 33 - 1  # every grid start except want's own
    assert all(on_granularity(iv.start, BERLIN, 45) for iv in got)
    repeated = [iv.start for iv in got if iv.start.astimezone(BERLIN).time() == time(2, 15)]
    assert len(repeated) == 2 and repeated[1] - repeated[0] in (timedelta(hours=1), timedelta(hours=-1))


@settings(deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 47), st.integers(1, 12)), max_size=6),
    st.integers(0, 47),
    st.integers(1, 12),
    st.sampled_from([0, 15, 30]),
)
def test_nearest_slots_properties(busy_spec, want_q, want_len, changeover):
    """Every offer fits, is free with its changeover, is on the grid, and offers are nearest first."""
    day_start = sh(9)
    q = timedelta(minutes=15)
    busy = [occupied(day_start + s * q, day_start + (s + n) * q, changeover) for s, n in busy_spec]
    want = Interval(day_start + want_q * q, day_start + (want_q + want_len) * q)
    got = slots(want, busy, changeover=changeover, limit=5)
    for iv in got:
        assert iv != want
        assert iv.end - iv.start == want.end - want.start
        assert DAY.contains(iv)
        assert not any(occupied(iv.start, iv.end, changeover).overlaps(b) for b in busy)
        assert on_granularity(iv.start, SHANGHAI, 15)
    keys = [(abs(iv.start - want.start), iv.start) for iv in got]
    assert keys == sorted(keys)
    # Exhaustive check: nothing closer was skipped.
    every = slots(want, busy, changeover=changeover, limit=1000)
    assert got == every[:5]
    starts = {iv.start for iv in every}
    t = DAY.start
    while t + (want.end - want.start) <= DAY.end:
        iv = Interval(t, t + (want.end - want.start))
        fits = not any(occupied(iv.start, iv.end, changeover).overlaps(b) for b in busy)
        assert (t in starts) == (fits and iv != want)
        t += q
