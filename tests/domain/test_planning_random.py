"""Random months, every plan checked rule by rule by the functions that guard one booking.

The planner computes in integer minutes; these checks do not: each placement goes
back through ``booking_rules.check_shape`` and ``occupied``, ``anchor_rules``
``clashes`` and ``breaches``, and intervals for blackouts and prime-time quotas,
exactly as a coordinator's single booking would.
"""

from __future__ import annotations

import importlib.util
import threading
import time as _time
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from opsroom.domain import anchor_rules
from opsroom.domain.booking_rules import check_shape, occupied
from opsroom.domain.hours import local_day, open_windows
from opsroom.domain.intervals import Interval, clip, total_seconds
from opsroom.domain.planning import MonthInput, Placement, PlanResult, components, plan_month
from tests.support import ROOT

_spec = importlib.util.spec_from_file_location(
    "bench_plan_month", ROOT / "bench" / "plan_month.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

CODES = {"taken", "open_hours", "blackout", "anchor_daily_limit", "anchor_rest", "anchor_busy",
         "anchor_unverified", "anchor_unknown", "quota", "tenant_status", "no_room", "duration", "granularity",
         "window"}


def prime_minutes_by_week(month: MonthInput, session: Interval) -> dict:
    """Prime minutes of a session per ISO week of the local day they fall in."""
    out: dict = defaultdict(float)
    prime = open_windows(month.prime_start, month.prime_end, session, month.tz)
    day = session.start.astimezone(month.tz).date()
    while local_day(day, month.tz).start < session.end:
        minutes = total_seconds(clip(prime, local_day(day, month.tz))) / 60
        if minutes:
            out[day.isocalendar()[:2]] += minutes
        day += timedelta(days=1)
    return out


def check_alternative(month: MonthInput, result: PlanResult, unplaced, alt) -> None:
    """An offered alternative is a place a coordinator could book as it stands."""
    q = {q.id: q for q in month.requests}[unplaced.request_id]
    room = {r.id: r for r in month.rooms}[alt.room_id]
    assert alt.ends_at - alt.starts_at == timedelta(minutes=q.minutes)
    assert q.room_id in (None, room.id) and q.room_kind in (None, room.kind) and q.zone in (None, room.zone)
    assert check_shape(alt.starts_at, alt.ends_at, open_time=room.open_time, close_time=room.close_time,
                       tz=month.tz, granularity_minutes=month.granularity_minutes,
                       min_minutes=room.min_minutes, max_minutes=room.max_minutes) == []
    mine = occupied(alt.starts_at, alt.ends_at, room.changeover_minutes)
    rooms = {r.id: r for r in month.rooms}
    for b in month.busy:
        if b.room_id == room.id:
            other = Interval(b.starts_at, b.ends_at)
            assert not (mine if b.kind == "booking" else Interval(alt.starts_at, alt.ends_at)).overlaps(other)
    for p in result.placed:
        if p.room_id == room.id:
            assert not mine.overlaps(occupied(p.starts_at, p.ends_at, rooms[p.room_id].changeover_minutes))


def check_plan(month: MonthInput, result: PlanResult) -> None:
    rooms = {r.id: r for r in month.rooms}
    requests = {q.id: q for q in month.requests}
    tenants = {t.id: t for t in month.tenants}
    anchors = {a.id: a for a in month.anchors}

    # Every occurrence is placed or explained, once.
    wanted = {(q.id, d) for q in month.requests for d in q.dates}
    keys = [(p.request_id, p.date) for p in result.placed] + [(u.request_id, u.date) for u in result.unplaced]
    assert sorted(keys) == sorted(wanted)

    by_room: dict = defaultdict(list)
    by_anchor: dict = defaultdict(list)
    for b in month.busy:
        if b.kind == "booking":
            by_room[b.room_id].append((Interval(b.starts_at, b.ends_at), ("booking", b.id)))
    for a in month.anchors:
        by_anchor[a.id] += [(Interval(s, e), ("session", i)) for i, (s, e) in enumerate(a.sessions)]
    for p in result.placed:
        q, room = requests[p.request_id], rooms[p.room_id]
        session = Interval(p.starts_at, p.ends_at)
        assert tenants[q.tenant_id].status == "active"
        # The room: requested, or of the requested kind and zone.
        assert q.room_id in (None, room.id)
        assert q.room_kind in (None, room.kind) and q.zone in (None, room.zone)
        # Shape: granularity, min/max duration, one open window (check_shape), the request's window.
        assert check_shape(p.starts_at, p.ends_at, open_time=room.open_time, close_time=room.close_time,
                           tz=month.tz, granularity_minutes=month.granularity_minutes,
                           min_minutes=room.min_minutes, max_minutes=room.max_minutes) == [], p
        assert session.minutes == q.minutes
        window_start = datetime.combine(p.date, q.window_start, tzinfo=month.tz)
        end_day = p.date if q.window_end > q.window_start else p.date + timedelta(days=1)
        assert window_start <= p.starts_at and p.ends_at <= datetime.combine(end_day, q.window_end, tzinfo=month.tz)
        # Blackouts.
        for b in month.busy:
            if b.kind == "blackout" and b.room_id == room.id:
                assert not session.overlaps(Interval(b.starts_at, b.ends_at)), (p, b)
        by_room[room.id].append((occupied(p.starts_at, p.ends_at, room.changeover_minutes), ("request", p)))
        for want in q.anchors:
            by_anchor[want.anchor_id].append((session, ("placed", p, want.role)))

    # Occupied ranges (changeover included) of one room never overlap.
    for items in by_room.values():
        items.sort(key=lambda item: item[0].start)
        for (a, who_a), (b, who_b) in zip(items, items[1:], strict=False):
            assert not a.overlaps(b), (who_a, who_b)

    # Anchors: no clash, daily limit, rest, verified hosts, each new session
    # judged against all their other sessions.
    for anchor_id, items in by_anchor.items():
        profile = anchors[anchor_id].profile
        for k, (session, who) in enumerate(items):
            if who[0] != "placed":
                continue
            others = [iv for j, (iv, _) in enumerate(items) if j != k]
            assert anchor_rules.clashes(session, others) == [], who
            assert anchor_rules.breaches(session, others, profile=profile, role=who[2], tz=month.tz) == [], who

    # Weekly prime quotas, counting the tenants' existing bookings (their sessions:
    # the occupied range less the room's changeover).
    used: dict = defaultdict(float)
    for b in month.busy:
        if b.kind == "booking" and b.tenant_id is not None:
            session = Interval(b.starts_at, b.ends_at - timedelta(minutes=rooms[b.room_id].changeover_minutes))
            for week, minutes in prime_minutes_by_week(month, session).items():
                used[b.tenant_id, week] += minutes
    planned: dict = defaultdict(float)
    for p in result.placed:
        tenant = requests[p.request_id].tenant_id
        for week, minutes in prime_minutes_by_week(month, Interval(p.starts_at, p.ends_at)).items():
            planned[tenant, week] += minutes
    # Existing bookings alone may be past a quota (facts are facts); a week the
    # plan adds prime time to must stay within it.
    for (t, week), minutes in planned.items():
        quota = tenants[t].prime_quota_hours_per_week
        if quota is not None:
            assert used[t, week] + minutes <= quota * 60 + 1e-9, (t, week, used[t, week], minutes)

    # Every left-out occurrence names a rule, or what holds its time.
    for u in result.unplaced:
        assert u.code in CODES, u
        if u.code == "taken":
            assert u.blocking and {b.kind for b in u.blocking} <= {"request", "booking"}, u
        if u.code == "blackout":
            assert u.blocking and {b.kind for b in u.blocking} == {"blackout"}
        if u.code.startswith("anchor_") and u.code != "anchor_unknown":
            assert "anchor" in {b.kind for b in u.blocking}
        for alt in u.alternatives:
            check_alternative(month, result, u, alt)

    assert result.objective <= result.bound
    assert 0 <= result.gap <= 1


@pytest.mark.parametrize("seed", range(6))
def test_random_months_obey_every_rule(seed):
    month = bench.generate_month(rooms=8, requests=14, days=10, seed=seed, quota_share=0.4)
    result = plan_month(month, time_limit=10)
    check_plan(month, result)
    assert result.unplaced, "the generator asks for more prime time than exists"
    greedy = plan_month(month, solve=False)
    check_plan(month, greedy)
    assert greedy.objective <= result.objective


@pytest.mark.parametrize("seed", range(3))
def test_random_months_with_pins_and_an_accepted_plan(seed):
    month = bench.generate_month(rooms=8, requests=14, days=10, seed=100 + seed)
    first = plan_month(month, time_limit=10)
    pins = tuple(Placement(p.request_id, p.date, p.room_id, p.starts_at, p.ends_at, pinned=True)
                 for p in first.placed[::3])
    pinned_keys = {(p.request_id, p.date) for p in pins}
    accepted = tuple(p for p in first.placed if (p.request_id, p.date) not in pinned_keys)
    again = MonthInput(**{**month.__dict__, "pinned": pins, "accepted": accepted})
    result = plan_month(again, time_limit=10)
    check_plan(month, result)
    assert set(pins) <= set(result.placed)
    # Nothing changed in the month, so nothing moves.
    assert {(p.request_id, p.date, p.room_id, p.starts_at) for p in result.placed} == {
        (p.request_id, p.date, p.room_id, p.starts_at) for p in first.placed}


def test_progress_is_reported_and_a_cancelled_solve_stops_promptly():
    month = bench.generate_month(rooms=100, seed=3)
    cancel = threading.Event()
    seen = []

    def progress(report):
        seen.append(report)
        if report.phase == "solve" and not cancel.is_set():
            cancel.set()
            seen.append(_time.monotonic())

    began = _time.monotonic()
    result = plan_month(month, time_limit=120, progress=progress, cancel=cancel)
    ended = _time.monotonic()
    stamps = [s for s in seen if isinstance(s, float)]
    reports = [s for s in seen if not isinstance(s, float)]
    assert reports[0].phase == "greedy" and reports[-1].phase == "done"
    assert all(r.objective <= r.bound for r in reports)
    assert stamps and ended - stamps[0] < 10, "stopped within seconds of the cancel, explanations included"
    assert ended - began < 60 and result.stats["cancelled"]
    check_plan(month, result)


def test_a_cancel_set_before_the_solve_returns_the_explained_greedy_plan():
    month = bench.generate_month(rooms=8, requests=14, days=10, seed=7)
    cancel = threading.Event()
    cancel.set()
    result = plan_month(month, time_limit=30, cancel=cancel)
    assert result.objective == result.stats["greedy_objective"]
    assert result.stats["parts_by_status"]["optimal"] == 0
    check_plan(month, result)


@pytest.mark.parametrize("seed", range(3))
def test_limits_cut_between_parts_still_hold(seed, monkeypatch):
    """With parts kept tiny, daily limits and quotas link parts that are solved
    apart; reconciling them in time order must still obey every rule."""
    monkeypatch.setattr(components, "MAX_PART_CANDIDATES", 30)
    month = bench.generate_month(rooms=8, requests=30, days=14, seed=200 + seed, quota_share=0.6)
    result = plan_month(month, time_limit=10)
    assert result.stats["cut_links"] > 0
    check_plan(month, result)


def test_the_checks_catch_a_broken_plan():
    """The rule-by-rule check is not vacuous: two sessions in one room at once fail it."""
    month = bench.generate_month(rooms=8, requests=14, days=10, seed=1)
    result = plan_month(month, time_limit=10)
    first, *_ = result.placed
    other = next(u for u in result.unplaced if u.request_id != first.request_id)
    clash = Placement(other.request_id, other.date, first.room_id, first.starts_at, first.ends_at)
    broken = PlanResult(result.placed + (clash,), tuple(u for u in result.unplaced if u is not other),
                        result.objective, result.bound, result.gap)
    with pytest.raises(AssertionError):
        check_plan(month, broken)
