"""The planning problem: occurrences, their candidate places, and fixed time.

A candidate is one occurrence in one room at one start on the granularity inside
its window. Only candidates that the month's fixed facts allow are generated:

- the tenant is active; every host is real-name verified;
- the room is the requested one, or matches the requested kind and zone;
- the duration is a multiple of the granularity and within the room's min/max;
- the session ``[start, end)`` lies in the room's open hours and in no blackout;
- its occupied range ``[start, end + changeover)`` meets no existing booking and
  no pinned placement (docs/domain.md);
- each anchor keeps clear of their existing sessions by their minimum rest and
  stays within their daily limit counting those sessions;
- the tenant's weekly prime-time quota holds counting its existing bookings.

What remains between candidates (room and anchor overlaps, daily limits and
quotas summed over several new sessions) is left to the greedy plan and the
solver. An occurrence with no candidate keeps the fixed rule that stopped it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .objective import KEEP_ACCEPTED, candidate_score, demand
from .shapes import MonthInput, Occurrence, Request, Room
from .timeline import Timeline

ONE = b"\x01"


class Cand:
    """One occurrence at one start in one room; minutes are from the month origin."""

    __slots__ = ("occ", "room", "start", "end", "busy_end", "score", "prime", "prime_weeks", "day_minutes")

    def __init__(self, occ, room, start, end, busy_end, score, prime, prime_weeks, day_minutes):
        self.occ, self.room, self.start, self.end, self.busy_end = occ, room, start, end, busy_end
        self.score, self.prime, self.prime_weeks, self.day_minutes = score, prime, prime_weeks, day_minutes


@dataclass
class Occ:
    idx: int
    request: Request
    key: Occurrence
    priority: int
    minutes: int
    window: tuple[int, int]
    rooms: list[int]
    anchors: list[tuple[int, str]]  # (anchor index, role)
    quota: bool  # the tenant has a weekly prime quota
    accepted: tuple[int, int] | None = None  # (room index, start) in the accepted plan
    home: int | None = None
    prime_wanted: int = 0  # prime minutes at the window's start: what "requested prime" means
    cands: list[int] = field(default_factory=list)
    reject: tuple[str, dict] | None = None  # a rule that forbids every place, before any candidate

    @property
    def value(self) -> int:
        return demand(self.priority, self.minutes)


@dataclass
class Problem:
    month: MonthInput
    tl: Timeline
    rooms: list[Room]
    room_index: dict[int, int]
    occs: list[Occ]
    cands: list[Cand]
    # Fixed time, one byte per minute of the horizon (1 = taken):
    closed: list[bytearray]  # outside open hours or in a blackout (the session may not touch it)
    booked: list[bytearray]  # existing bookings' and pinned occupied ranges (the occupied range may not)
    anchor_ids: list[int]
    anchor_rest: list[int]
    anchor_limit: list[int]
    anchor_busy: list[bytearray]  # existing sessions widened by the rest after them
    anchor_day_used: list[Counter]  # local day → minutes already booked
    quota: dict[int, int]  # tenant → prime minutes per ISO week
    quota_used: Counter  # (tenant, week) → prime minutes already booked
    occ_index: dict[Occurrence, int]


def _mark(buf: bytearray, a: int, b: int) -> None:
    if b > a:
        buf[a:b] = ONE * (b - a)


def _eligible(room: Room, request: Request) -> bool:
    if request.room_id is not None:
        return room.id == request.room_id
    return ((request.room_kind is None or room.kind == request.room_kind)
            and (request.zone is None or room.zone == request.zone))


def build(month: MonthInput) -> Problem:
    tl = Timeline(month.first_day, month.days, month.tz, month.prime_start, month.prime_end,
                  month.granularity_minutes)
    rooms = list(month.rooms)
    room_index = {r.id: i for i, r in enumerate(rooms)}
    tenants = {t.id: t for t in month.tenants}
    requests = {q.id: q for q in month.requests}
    closed, booked = [], []
    for room in rooms:
        shut = bytearray(ONE * tl.horizon)
        for a, b in tl.windows(room.open_time, room.close_time):
            shut[a:b] = bytes(b - a)
        closed.append(shut)
        booked.append(bytearray(tl.horizon))

    quota = {t.id: round(t.prime_quota_hours_per_week * 60) for t in month.tenants
             if t.prime_quota_hours_per_week is not None}
    quota_used: Counter = Counter()
    for busy in month.busy:
        r = room_index.get(busy.room_id)
        if r is None:
            continue
        a, b = tl.range_of(busy.starts_at, busy.ends_at)
        if busy.kind == "blackout":
            _mark(closed[r], a, b)
            continue
        _mark(booked[r], a, b)
        if busy.tenant_id in quota:  # its session is the occupied range less the changeover
            for week, minutes in tl.prime_by_week(a, max(a, b - rooms[r].changeover_minutes)):
                quota_used[busy.tenant_id, week] += minutes

    anchors = list(month.anchors)
    anchor_pos = {a.id: i for i, a in enumerate(anchors)}
    anchor_busy = [bytearray(tl.horizon) for _ in anchors]
    anchor_day_used = [Counter() for _ in anchors]

    def anchor_session(i: int, a: int, b: int) -> None:
        _mark(anchor_busy[i], a, tl.clamp(b + anchors[i].min_rest_minutes))
        for day, minutes in tl.minutes_by_day(a, b):
            anchor_day_used[i][day] += minutes

    for i, anchor in enumerate(anchors):
        for start, end in anchor.sessions:
            anchor_session(i, *tl.range_of(start, end))

    pinned = set()
    for p in month.pinned:
        pinned.add(p.occurrence)
        r = room_index.get(p.room_id)
        a, b = tl.range_of(p.starts_at, p.ends_at)
        if r is not None:
            _mark(booked[r], a, tl.clamp(b + rooms[r].changeover_minutes))
        request = requests.get(p.request_id)
        if request is None:
            continue
        for anchor_id in {want.anchor_id for want in request.anchors}:
            if anchor_id in anchor_pos:
                anchor_session(anchor_pos[anchor_id], a, b)
        if request.tenant_id in quota:
            for week, minutes in tl.prime_by_week(a, b):
                quota_used[request.tenant_id, week] += minutes

    accepted = {}
    for p in month.accepted:
        if p.room_id in room_index:
            accepted[p.occurrence] = (room_index[p.room_id], tl.to_min(p.starts_at))

    problem = Problem(month, tl, rooms, room_index, [], [], closed, booked, [a.id for a in anchors],
                      [a.min_rest_minutes for a in anchors], [a.max_minutes_per_day for a in anchors],
                      anchor_busy, anchor_day_used, quota, quota_used, {})
    for request in sorted(month.requests, key=lambda q: q.id):
        tenant = tenants.get(request.tenant_id)
        for day in sorted(set(request.dates)):
            key = Occurrence(request.id, day)
            if key in pinned:
                continue
            _add_occurrence(problem, request, tenant, key, anchor_pos, accepted.get(key))
    return problem


def _add_occurrence(problem: Problem, request: Request, tenant, key: Occurrence, anchor_pos: dict[int, int],
                    accepted: tuple[int, int] | None) -> None:
    tl = problem.tl
    window = tl.window(key.date, request.window_start, request.window_end)
    occ = Occ(len(problem.occs), request, key, tenant.priority if tenant else 3, request.minutes, window,
              [r for r, room in enumerate(problem.rooms) if _eligible(room, request)],
              _anchor_roles(request, anchor_pos),
              tenant is not None and tenant.id in problem.quota, accepted)
    problem.occs.append(occ)
    problem.occ_index[key] = occ.idx
    starts = tl.starts(key.date, request.window_start, request.window_end, request.minutes)
    if starts:
        occ.prime_wanted = tl.prime_minutes(starts[0], starts[0] + request.minutes)
    occ.reject = _fixed_rule(problem, occ, tenant, starts)
    if occ.reject is not None:
        return
    # What depends on the start only is computed once, not once per room.
    per_start = []
    for s in starts:
        e = s + occ.minutes
        if not _anchors_allow(problem, occ, s, e):
            continue
        prime_weeks = tl.prime_by_week(s, e) if occ.quota else ()
        if prime_weeks and not _quota_allows(problem, request.tenant_id, prime_weeks):
            continue
        per_start.append((s, e, tl.prime_minutes(s, e), prime_weeks, tl.minutes_by_day(s, e) if occ.anchors else ()))
    cands = problem.cands
    for r in occ.rooms:
        room = problem.rooms[r]
        if (room.min_minutes is not None and occ.minutes < room.min_minutes) or (
                room.max_minutes is not None and occ.minutes > room.max_minutes):
            continue
        closed, booked, changeover = problem.closed[r], problem.booked[r], room.changeover_minutes
        score = candidate_score(priority=occ.priority, minutes=occ.minutes, capacity_per_hour=room.capacity_per_hour,
                                p90_peak=request.p90_peak_orders, home=False, kept=False)
        horizon = tl.horizon
        for s, e, prime, prime_weeks, day_minutes in per_start:
            busy_end = min(e + changeover, horizon)
            if closed.find(ONE, s, e) >= 0 or booked.find(ONE, s, busy_end) >= 0:
                continue
            kept = accepted == (r, s)
            occ.cands.append(len(cands))
            cands.append(Cand(occ.idx, r, s, e, busy_end, score + (KEEP_ACCEPTED if kept else 0), prime,
                              prime_weeks, day_minutes))


def _anchor_roles(request: Request, anchor_pos: dict[int, int]) -> list[tuple[int, str]]:
    """Each wanted anchor once (as host if any of their roles is host); an
    unknown anchor id ``n`` becomes ``-n - 1``, so the reason can still name it."""
    roles: dict[int, str] = {}
    for want in request.anchors:
        a = anchor_pos.get(want.anchor_id, -want.anchor_id - 1)
        roles[a] = "host" if "host" in (want.role, roles.get(a)) else want.role
    return list(roles.items())


def _fixed_rule(problem: Problem, occ: Occ, tenant, starts: list[int]) -> tuple[str, dict] | None:
    """The rule that forbids every place of the occurrence, whatever the room or start."""
    request = occ.request
    if tenant is None or tenant.status != "active":
        return "tenant_status", {"status": tenant.status if tenant else "unknown"}
    for a, role in occ.anchors:
        if a < 0:
            return "anchor_unknown", {"anchor_id": -a - 1}
        if role == "host" and not problem.month.anchors[a].verified:
            return "anchor_unverified", {"anchor_id": problem.anchor_ids[a]}
    if not occ.rooms:
        return "no_room", {"room_id": request.room_id, "room_kind": request.room_kind, "zone": request.zone}
    g = problem.tl.granularity
    if occ.minutes <= 0 or occ.minutes % g:
        return "granularity", {"minutes": g}
    if not starts:
        return "window", {"window_start": request.window_start.strftime("%H:%M"),
                          "window_end": request.window_end.strftime("%H:%M"), "minutes": occ.minutes}
    if all((problem.rooms[r].min_minutes or 0) > occ.minutes
           or (problem.rooms[r].max_minutes or occ.minutes) < occ.minutes for r in occ.rooms):
        return "duration", {"minutes": occ.minutes}
    return None


def _anchors_allow(problem: Problem, occ: Occ, s: int, e: int) -> bool:
    for a, _ in occ.anchors:
        if problem.anchor_busy[a].find(ONE, s, problem.tl.clamp(e + problem.anchor_rest[a])) >= 0:
            return False
        used = problem.anchor_day_used[a]
        if any(used[d] + m > problem.anchor_limit[a] for d, m in problem.tl.minutes_by_day(s, e)):
            return False
    return True


def _quota_allows(problem: Problem, tenant_id: int, prime_weeks) -> bool:
    cap = problem.quota[tenant_id]
    return all(problem.quota_used[tenant_id, w] + m <= cap for w, m in prime_weeks)
