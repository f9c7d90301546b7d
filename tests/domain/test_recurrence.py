"""Expansion of recurring bookings into occurrences."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from opsroom.domain.intervals import Interval
from opsroom.domain.recurrence import RecurrenceError, expand

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def local(tz: ZoneInfo, *args: int) -> datetime:
    """A wall-clock time in ``tz`` as a UTC instant."""
    return datetime(*args, tzinfo=tz).astimezone(UTC)


# Wednesday 2025-06-04, 19:00-21:00 Shanghai
START = local(SHANGHAI, 2025, 6, 4, 19)
END = local(SHANGHAI, 2025, 6, 4, 21)


def local_dates(occurrences: list[Interval], tz: ZoneInfo = SHANGHAI) -> list[date]:
    return [iv.start.astimezone(tz).date() for iv in occurrences]


def test_daily_count():
    """Daily with count 3 gives the first booking and the next two days."""
    got = expand(START, END, freq="daily", tz=SHANGHAI, count=3)
    assert got == [
        Interval(START, END),
        Interval(START + timedelta(days=1), END + timedelta(days=1)),
        Interval(START + timedelta(days=2), END + timedelta(days=2)),
    ]
    assert all(iv.start.tzinfo is UTC for iv in got)


def test_daily_interval_until_inclusive():
    """Every 2 days until a date includes that date when it falls on the rhythm."""
    got = expand(START, END, freq="daily", tz=SHANGHAI, interval=2, until=date(2025, 6, 10))
    assert local_dates(got) == [date(2025, 6, 4), date(2025, 6, 6), date(2025, 6, 8), date(2025, 6, 10)]


def test_until_is_the_local_date_of_the_start():
    """A 07:00 Shanghai start is the previous UTC day, but until compares local dates."""
    start = local(SHANGHAI, 2025, 6, 4, 7)
    got = expand(start, start + timedelta(hours=1), freq="daily", tz=SHANGHAI, until=date(2025, 6, 5))
    assert local_dates(got) == [date(2025, 6, 4), date(2025, 6, 5)]


def test_until_equal_to_first_day_gives_one():
    """until on the first day yields just the first booking."""
    assert expand(START, END, freq="daily", tz=SHANGHAI, until=date(2025, 6, 4)) == [Interval(START, END)]


def test_weekly_default_weekday_is_the_first_start():
    """Weekly without weekdays repeats on the first booking's weekday."""
    got = expand(START, END, freq="weekly", tz=SHANGHAI, count=3)
    assert local_dates(got) == [date(2025, 6, 4), date(2025, 6, 11), date(2025, 6, 18)]


def test_weekly_weekdays_skip_days_before_first_start():
    """Mon/Wed/Fri from a Wednesday: this week's Monday is not produced."""
    got = expand(START, END, freq="weekly", tz=SHANGHAI, weekdays=[0, 2, 4], count=4)
    assert local_dates(got) == [date(2025, 6, 4), date(2025, 6, 6), date(2025, 6, 9), date(2025, 6, 11)]


def test_weekly_first_booking_not_an_occurrence_unless_chosen():
    """If the first start's weekday is not chosen, occurrences start at the next chosen day."""
    got = expand(START, END, freq="weekly", tz=SHANGHAI, weekdays=[1, 3], count=3)
    assert local_dates(got) == [date(2025, 6, 5), date(2025, 6, 10), date(2025, 6, 12)]
    assert Interval(START, END) not in got


def test_weekly_interval_counts_weeks_from_first_monday():
    """Every 2 weeks counts from the Monday-based week of the first start."""
    # First start is Wednesday 4 June; its week starts Monday 2 June.
    got = expand(START, END, freq="weekly", tz=SHANGHAI, interval=2, weekdays=[0, 6], until=date(2025, 6, 30))
    assert local_dates(got) == [date(2025, 6, 8), date(2025, 6, 16), date(2025, 6, 22), date(2025, 6, 30)]


def test_weekly_duplicate_weekdays_counted_once():
    """Repeating a weekday does not duplicate occurrences."""
    got = expand(START, END, freq="weekly", tz=SHANGHAI, weekdays=[2, 2, 4], count=2)
    assert local_dates(got) == [date(2025, 6, 4), date(2025, 6, 6)]


def test_wall_clock_kept_across_dst():
    """A 19:00 Berlin session stays at 19:00 local after spring-forward; the UTC time shifts."""
    start = local(BERLIN, 2025, 3, 29, 19)
    got = expand(start, start + timedelta(hours=2), freq="daily", tz=BERLIN, count=2)
    assert [iv.start.astimezone(BERLIN).time() for iv in got] == [time(19), time(19)]
    assert got[1].start - got[0].start == timedelta(hours=23)
    assert all(iv.seconds == 2 * 3600 for iv in got)


def test_duration_is_elapsed_time_for_a_night_session():
    """A session across the DST night keeps its elapsed length on other nights."""
    start = local(BERLIN, 2025, 3, 29, 22)
    end = local(BERLIN, 2025, 3, 30, 4)  # 5 elapsed hours that night
    got = expand(start, end, freq="daily", tz=BERLIN, count=2)
    assert [iv.seconds for iv in got] == [5 * 3600, 5 * 3600]


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"freq": "monthly", "count": 2}, "freq", "freq"),
        ({"freq": "daily", "interval": 0, "count": 2}, "interval", "interval"),
        ({"freq": "daily", "interval": 53, "count": 2}, "interval", "interval"),
        ({"freq": "weekly", "weekdays": [], "count": 2}, "weekdays", "weekdays"),
        ({"freq": "weekly", "weekdays": [7], "count": 2}, "weekdays", "weekdays"),
        ({"freq": "weekly", "weekdays": [-1], "count": 2}, "weekdays", "weekdays"),
        ({"freq": "daily"}, "until_or_count", "until"),
        ({"freq": "daily", "count": 2, "until": date(2025, 6, 9)}, "until_or_count", "until"),
        ({"freq": "daily", "count": 0}, "count", "count"),
        ({"freq": "daily", "until": date(2025, 6, 3)}, "until", "until"),
        ({"freq": "daily", "count": 367}, "too_many", "count"),
        ({"freq": "daily", "until": date(2026, 6, 5)}, "too_many", "until"),
        ({"freq": "weekly", "weekdays": [0, 1, 2, 3, 4, 5, 6], "count": 11, "max_occurrences": 10}, "too_many", "count"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_invalid_rules_raise_coded_errors(kwargs, code, field):
    """Each invalid rule raises RecurrenceError naming the problem and the form field."""
    with pytest.raises(RecurrenceError) as info:
        expand(START, END, tz=SHANGHAI, **kwargs)
    assert (info.value.code, info.value.field) == (code, field)
    assert isinstance(info.value, ValueError)


def test_exactly_max_occurrences_is_allowed():
    """Reaching the limit is fine; only exceeding it raises."""
    assert len(expand(START, END, freq="daily", tz=SHANGHAI, count=366)) == 366
    assert len(expand(START, END, freq="daily", tz=SHANGHAI, until=date(2026, 6, 4))) == 366


def test_inverted_booking_is_refused():
    """A booking that does not end after it starts cannot recur."""
    with pytest.raises(RecurrenceError) as info:
        expand(END, START, freq="daily", tz=SHANGHAI, count=2)
    assert info.value.code == "end_before_start"


# --- properties -------------------------------------------------------------


@st.composite
def rules(draw):
    tz = draw(st.sampled_from([SHANGHAI, BERLIN]))
    day = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)))
    minute = draw(st.integers(0, 24 * 60 - 15).map(lambda m: m - m % 15))
    first = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    # Starting inside a DST gap has no such wall-clock time to keep.
    assume(first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == first.replace(tzinfo=None))
    duration = timedelta(minutes=draw(st.integers(15, 12 * 60)))
    freq = draw(st.sampled_from(["daily", "weekly"]))
    interval = draw(st.integers(1, 4))
    weekdays = draw(st.none() | st.lists(st.integers(0, 6), min_size=1, max_size=7))
    if draw(st.booleans()):
        limit = {"count": draw(st.integers(1, 40))}
    else:
        limit = {"until": day + timedelta(days=draw(st.integers(0, 120)))}
    start = first.astimezone(UTC)
    return dict(starts_at=start, ends_at=start + duration, freq=freq, tz=tz, interval=interval, weekdays=weekdays, **limit)


def exists(day: date, wall: time, tz: ZoneInfo) -> bool:
    naive = datetime.combine(day, wall)
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


@settings(deadline=None)
@given(rules())
def test_occurrences_keep_wall_clock_duration_and_order(rule):
    """Occurrences keep local start time and duration, increase strictly, never precede the first."""
    got = expand(max_occurrences=1000, **rule)
    tz = rule["tz"]
    first = rule["starts_at"]
    wall = first.astimezone(tz).time()
    duration = rule["ends_at"] - first
    for iv in got:
        assert iv.end - iv.start == duration
        assert iv.start >= first
        assert iv.start.tzinfo is UTC
        day = iv.start.astimezone(tz).date()
        if exists(day, wall, tz):  # inside a DST gap the clock cannot show the wall time
            assert iv.start.astimezone(tz).time() == wall
    for a, b in zip(got, got[1:]):
        assert a.start < b.start
    if "count" in rule:
        assert len(got) == rule["count"]
    else:
        if rule["freq"] == "daily":
            assert got, "until is on or after the first day, so the first day occurs"
        assert all(d <= rule["until"] for d in local_dates(got, tz))
    if rule["freq"] == "weekly":
        chosen = rule["weekdays"] if rule["weekdays"] is not None else [first.astimezone(tz).weekday()]
        assert all(d.weekday() in chosen for d in local_dates(got, tz))
        monday = first.astimezone(tz).date() - timedelta(days=first.astimezone(tz).weekday())
        assert all(((d - monday).days // 7) % rule["interval"] == 0 for d in local_dates(got, tz))
    else:
        first_day = first.astimezone(tz).date()
        assert all((d - first_day).days % rule["interval"] == 0 for d in local_dates(got, tz))
