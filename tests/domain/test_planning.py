"""The month planner on small hand-built months whose best plan is known exactly.

Each month is a few rooms and requests on a few days; the expected objective is
computed from the documented weights (``planning.objective``), so a change of
weight shows up here as a failing sum, not as a silent change of plans.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from opsroom.domain.planning import (
    Anchor, AnchorWant, Busy, MonthInput, Placement, Request, Room, Tenant, first_plan, fit_score, plan_month,
)
from opsroom.domain.planning import components
from opsroom.domain.planning.objective import SAME_ROOM, demand

TZ = ZoneInfo("Asia/Shanghai")
MON = date(2025, 6, 2)  # a Monday


def at(day: date, hour: int, minute: int = 0) -> datetime:
    if hour >= 24:
        day, hour = day + timedelta(days=1), hour - 24
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def room(id: int, capacity: int = 1000, kind: str = "apparel", **kw) -> Room:
    defaults = dict(zone="A", open_time=time(9), close_time=time(1), changeover_minutes=0, min_minutes=30,
                    max_minutes=360)
    return Room(id, f"R{id}", kind, capacity_per_hour=capacity, **{**defaults, **kw})


def request(id: int, tenant: int, start: int, end: int, minutes: int | None = None, days=(MON,), **kw) -> Request:
    return Request(id, tenant, tuple(days), time(start % 24), time(end % 24),
                   minutes if minutes is not None else (end - start) * 60, **kw)


def month(rooms, requests, tenants=None, **kw) -> MonthInput:
    tenants = tenants or tuple(Tenant(t, 2) for t in sorted({q.tenant_id for q in requests}))
    return MonthInput(date(2025, 6, 1), 30, tuple(rooms), tuple(requests), tuple(tenants), **kw)


def where(result) -> dict:
    return {(p.request_id, p.date): (p.room_id, p.starts_at.astimezone(TZ).strftime("%H:%M")) for p in result.placed}


def reasons(result) -> dict:
    return {(u.request_id, u.date): u for u in result.unplaced}


# -- exact optima ------------------------------------------------------------

def test_one_request_lands_in_its_window_with_the_documented_objective():
    result = plan_month(month([room(1)], [request(1, 1, 19, 22, room_id=1, p90_peak_orders=800)]), time_limit=5)
    assert where(result) == {(1, MON): (1, "19:00")}
    assert result.objective == demand(2, 180) + SAME_ROOM + fit_score(1000, 800)
    assert result.bound == result.objective and result.gap == 0
    assert result.unplaced == ()


def test_the_greedy_choice_is_wrong_and_the_solver_fixes_it():
    """A (priority 1) fits best in the small room 1, which is the only room B may
    use. The greedy plan serves A first and leaves B out; the optimum moves A."""
    rooms = [room(1, capacity=1000), room(2, capacity=3000)]
    tenants = [Tenant(1, 1), Tenant(2, 3)]
    a = request(1, 1, 19, 22, room_kind="apparel", p90_peak_orders=900)
    b = request(2, 2, 19, 22, room_id=1)
    m = month(rooms, [a, b], tenants)

    problem, greedy = first_plan(m)
    assert [problem.cands[ci].room if ci is not None else None for ci in greedy.chosen] == [0, None]
    first = plan_month(m, solve=False)
    assert reasons(first)[2, MON].code == "taken"
    assert [(x.kind, x.id) for x in reasons(first)[2, MON].blocking] == [("request", 1)]

    best = plan_month(m, time_limit=10)
    assert where(best) == {(1, MON): (2, "19:00"), (2, MON): (1, "19:00")}
    assert best.objective == demand(1, 180) + demand(3, 180) + fit_score(3000, 900) + SAME_ROOM
    assert best.stats["greedy_objective"] < best.objective == best.bound


def test_a_recurring_request_keeps_one_room_across_the_month():
    """Room 1 is booked on Wednesday, so only room 2 can hold all five evenings."""
    days = [MON + timedelta(days=d) for d in range(5)]
    busy = [Busy(1, at(days[2], 18), at(days[2], 23), 900)]
    m = month([room(1), room(2)], [request(1, 1, 19, 22, days=days, room_kind="apparel")], busy=tuple(busy))
    result = plan_month(m, time_limit=5)
    assert {r for r, _ in where(result).values()} == {2}
    assert len(result.placed) == 5


def test_big_sellers_go_to_big_rooms_and_small_ones_to_the_smallest_sufficient_room():
    rooms = [room(1, capacity=500), room(2, capacity=2500), room(3, capacity=5000)]
    big = request(1, 1, 19, 22, room_kind="apparel", p90_peak_orders=2000)
    small = request(2, 2, 19, 22, room_kind="apparel", p90_peak_orders=300)
    result = plan_month(month(rooms, [big, small]), time_limit=5)
    assert where(result) == {(1, MON): (2, "19:00"), (2, MON): (1, "19:00")}


def test_prime_time_is_shared_fairly_between_tenants_of_one_priority():
    """One room, two prime slots, four equal sessions from two tenants: one each."""
    reqs = [request(1, 1, 19, 21, room_id=1), request(2, 1, 21, 23, room_id=1),
            request(3, 2, 19, 21, room_id=1), request(4, 2, 21, 23, room_id=1)]
    result = plan_month(month([room(1)], reqs), time_limit=5)
    tenants = sorted({1: 1, 2: 1, 3: 2, 4: 2}[p.request_id] for p in result.placed)
    assert tenants == [1, 2]
    assert result.gap == 0


def test_days_that_do_not_interact_are_solved_apart_and_a_late_session_joins_two_days():
    days = (MON, MON + timedelta(days=1))
    reqs = [request(1, 1, 19, 22, days=days, room_id=1), request(2, 2, 19, 22, days=days, room_id=1)]
    apart = month([room(1)], reqs, (Tenant(1, 1), Tenant(2, 3)))  # one priority each: no fairness to weigh
    problem, _ = first_plan(apart)
    assert len(components.parts(problem)[0]) == 2
    late = request(3, 3, 23, 26, 120, days=days[:1], room_id=1)  # 23:00-02:00 reaches Tuesday's 00:00-03:00
    early = request(4, 4, 0, 3, 120, days=days[1:], room_id=1)
    r = room(1, open_time=time(0), close_time=time(0))
    problem, _ = first_plan(month([r], [late, early]))
    assert len(components.parts(problem)[0]) == 1


# -- rules and their explanations -----------------------------------------------

def test_every_left_out_occurrence_names_its_rule_or_what_holds_its_time():
    anchors = (Anchor(1, True, 120, 0, sessions=((at(MON, 10), at(MON, 11)),)),
               Anchor(2, True, 600, 60, sessions=((at(MON, 17), at(MON, 18, 30)),)),
               Anchor(3, False, 600, 0))
    tenants = (Tenant(1, 2), Tenant(2, 2, "suspended"), Tenant(3, 2, prime_quota_hours_per_week=2), Tenant(4, 1),
               Tenant(5, 3))
    busy = (Busy(1, at(MON, 19), at(MON, 22), 501, tenant_id=3),  # also 3 prime hours of tenant 3
            Busy(2, at(MON, 12), at(MON, 16), 502, kind="blackout"))
    reqs = [
        request(1, 1, 19, 22, room_id=1),                    # the booking holds it
        request(2, 1, 13, 15, room_id=2),                    # blackout
        request(3, 1, 26, 28, room_id=3),                    # 02:00-04:00: closed
        request(4, 1, 12, 14, room_id=3, anchors=(AnchorWant(1),)),   # 60 + 120 > 120 a day
        request(5, 1, 19, 21, room_id=3, anchors=(AnchorWant(2),)),   # 18:30 + 60 min rest > 19:00
        request(6, 1, 14, 16, room_id=3, anchors=(AnchorWant(3),)),   # unverified host
        request(7, 2, 10, 12, room_id=3),                    # suspended tenant
        request(8, 3, 19, 21, room_id=4),                    # quota used by the booking
        request(9, 4, 22, 24, room_id=4, p90_peak_orders=100),   # priority 1 takes 22:00-24:00 ...
        request(10, 5, 22, 24, room_id=4),                   # ... from priority 3
    ]
    result = plan_month(month([room(i) for i in (1, 2, 3, 4)], reqs, tenants, anchors=anchors, busy=busy),
                        time_limit=5)
    why = reasons(result)
    assert set(where(result)) == {(9, MON)}
    expected = {1: ("taken", [("booking", 501)]), 2: ("blackout", [("blackout", 502)]), 3: ("open_hours", []),
                4: ("anchor_daily_limit", [("anchor", 1)]), 5: ("anchor_rest", [("anchor", 2)]),
                6: ("anchor_unverified", [("anchor", 3)]), 7: ("tenant_status", []), 8: ("quota", []),
                10: ("taken", [("request", 9)])}
    for rid, (code, blocking) in expected.items():
        u = why[rid, MON]
        assert (u.code, [(b.kind, b.id) for b in u.blocking]) == (code, blocking), rid
    assert why[4, MON].params == {"anchor_id": 1, "minutes": 120, "date": "2025-06-02"}
    assert why[8, MON].params["hours"] == 2
    # The nearest free places: the same room just before or just after the booking.
    assert {(1, at(MON, 16)), (1, at(MON, 22))} <= {(a.room_id, a.starts_at) for a in why[1, MON].alternatives}
    # Priority 3 is offered 20:00-22:00 in room 4 (before), the nearest free two hours.
    assert (4, at(MON, 20)) in [(a.room_id, a.starts_at) for a in why[10, MON].alternatives]


def test_an_anchor_named_twice_counts_once_and_an_unknown_one_is_named():
    anchors = (Anchor(1, True, 600, 0),)
    reqs = [request(1, 1, 19, 22, room_id=1, anchors=(AnchorWant(1, "assistant"), AnchorWant(1, "host"))),
            request(2, 1, 19, 22, room_id=2, anchors=(AnchorWant(99),))]
    result = plan_month(month([room(1), room(2)], reqs, anchors=anchors), time_limit=5)
    assert where(result) == {(1, MON): (1, "19:00")}
    u = reasons(result)[2, MON]
    assert (u.code, u.params, [(b.kind, b.id) for b in u.blocking]) == (
        "anchor_unknown", {"anchor_id": 99}, [("anchor", 99)])


def test_anchor_daily_limit_and_rest_hold_between_new_sessions():
    anchors = (Anchor(1, True, 240, 90),)
    reqs = [request(1, 1, 14, 17, room_id=1, anchors=(AnchorWant(1),)),
            request(2, 2, 19, 22, room_id=2, anchors=(AnchorWant(1, "assistant"),))]
    result = plan_month(month([room(1), room(2)], reqs, anchors=anchors), time_limit=5)
    assert len(result.placed) == 1
    assert result.unplaced[0].code == "anchor_daily_limit"
    assert ("anchor", 1) in [(b.kind, b.id) for b in result.unplaced[0].blocking]


def test_weekly_prime_quota_counts_across_days():
    days = [MON + timedelta(days=d) for d in range(3)]
    tenants = (Tenant(1, 2, prime_quota_hours_per_week=3),)
    result = plan_month(month([room(1)], [request(1, 1, 19, 21, days=days, room_id=1)], tenants), time_limit=5)
    assert len(result.placed) == 1
    assert [u.code for u in result.unplaced] == ["quota", "quota"]
    # One prime hour is left of the quota: 18:00-20:00 is the nearest place that fits it.
    assert result.unplaced[0].alternatives[0].starts_at == at(result.unplaced[0].date, 18)


def test_a_quota_cut_between_parts_is_still_obeyed_and_the_bound_stays_a_bound(monkeypatch):
    days = [MON + timedelta(days=d) for d in range(3)]
    m = month([room(1)], [request(1, 1, 19, 21, days=days, room_id=1)], (Tenant(1, 2, prime_quota_hours_per_week=3),))
    exact = plan_month(m, time_limit=5)
    monkeypatch.setattr(components, "MAX_PART_CANDIDATES", 1)
    cut = plan_month(m, time_limit=5)
    assert (cut.stats["parts"], cut.stats["cut_links"]) == (3, 1)
    assert len(cut.placed) == 1 and [u.code for u in cut.unplaced] == ["quota", "quota"]
    # Each day was solved with the whole quota: the bound is loose, but a bound.
    assert cut.objective == exact.objective < cut.bound


# -- pinning and re-planning -------------------------------------------------------

def test_pinned_placements_stay_and_hold_their_time():
    pin = Placement(1, MON, 1, at(MON, 19), at(MON, 22), pinned=True)
    reqs = [request(1, 1, 19, 24, 180, room_kind="apparel"), request(2, 2, 19, 22, room_id=1)]
    result = plan_month(month([room(1), room(2)], reqs, (Tenant(1, 3), Tenant(2, 1)), pinned=(pin,)), time_limit=5)
    assert pin in result.placed
    assert [(p.request_id, p.room_id) for p in result.placed if not p.pinned] == []
    u = reasons(result)[2, MON]
    assert (u.code, [(b.kind, b.id) for b in u.blocking]) == ("taken", [("request", 1)])


def test_a_rerun_after_one_new_request_moves_as_little_as_it_can():
    rooms = [room(1), room(2)]
    old = [request(1, 1, 19, 24, 120, room_kind="apparel"), request(2, 2, 19, 24, 120, room_kind="apparel"),
           request(3, 3, 19, 24, 120, room_kind="apparel")]
    accepted = (Placement(1, MON, 1, at(MON, 19), at(MON, 21)), Placement(2, MON, 2, at(MON, 19), at(MON, 21)),
                Placement(3, MON, 1, at(MON, 21), at(MON, 23)))
    new = request(4, 4, 19, 21, room_id=1)
    tenants = (Tenant(1), Tenant(2), Tenant(3), Tenant(4, 1))
    result = plan_month(month(rooms, [*old, new], tenants, accepted=accepted), time_limit=10)
    placed = {(p.request_id, p.room_id, p.starts_at) for p in result.placed}
    kept = {(p.request_id, p.room_id, p.starts_at) for p in accepted} & placed
    assert len(result.placed) == 4
    assert (4, 1, at(MON, 19)) in placed
    assert kept == {(2, 2, at(MON, 19)), (3, 1, at(MON, 21))}  # only request 1 moved
    assert result.gap == 0


def test_granularity_and_duration_limits_are_reasons_too():
    reqs = [request(1, 1, 19, 22, 100, room_id=1), request(2, 1, 19, 22, 15, room_id=1)]
    why = reasons(plan_month(month([room(1)], reqs), time_limit=5))
    assert why[1, MON].code == "granularity"
    assert why[2, MON].code == "duration"


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "Europe/Berlin"])
def test_windows_crossing_midnight_in_a_room_open_round_the_clock(tz):
    zone, day = ZoneInfo(tz), date(2025, 3, 29)  # Berlin moves its clocks the next night
    r = room(1, open_time=time(0), close_time=time(0), changeover_minutes=30)
    reqs = (Request(1, 1, (day,), time(23), time(2), 120, room_id=1),
            Request(2, 2, (day,), time(22), time(1), 180, room_id=1))
    result = plan_month(MonthInput(day, 3, (r,), reqs, (Tenant(1, 1), Tenant(2, 3)), tz=zone), time_limit=5)
    [placed] = result.placed
    assert placed.request_id == 1 and placed.ends_at - placed.starts_at == timedelta(hours=2)
    assert datetime.combine(day, time(23), tzinfo=zone) <= placed.starts_at
    assert placed.ends_at <= datetime.combine(day + timedelta(days=1), time(2), tzinfo=zone)
    assert reasons(result)[2, day].code == "taken"
