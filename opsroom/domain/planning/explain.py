"""Why an occurrence was left out, and the nearest places that are still free.

Every place the occurrence could have had (each eligible room, each start on the
granularity in its window) is tested against the final plan, rule by rule in this
order: the room's duration limits, open hours, blackouts, the room's time taken
(by an existing booking, a pinned placement or another placed request), the
anchors (clash, rest, daily limit) and the tenant's weekly prime quota. The place
that got furthest names the reason: a coordinator acts on "anchor 7 is at her
daily limit on 6 June" rather than on "the room is closed at 03:00". Its
``blocking`` lists what holds that time, from every place that stopped there.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from .objective import fit_score
from .problem import ONE, Occ, Problem
from .shapes import Alternative, Blocking, Unplaced
from .state import State

MAX_BLOCKING = 10
ALTERNATIVES = 3
SEARCH_MINUTES = 6 * 60  # how far from the window alternatives are looked for
MAX_PLACES_EXAMINED = 40  # places whose blockers are listed (the reason is the same for all)


class Explainer:
    def __init__(self, problem: Problem, state: State) -> None:
        self.p, self.s = problem, state
        tl, month = problem.tl, problem.month
        self.shut = []  # outside open hours only (the problem's closed map adds blackouts)
        for room in problem.rooms:
            shut = bytearray(ONE * tl.horizon)
            for a, b in tl.windows(room.open_time, room.close_time):
                shut[a:b] = bytes(b - a)
            self.shut.append(shut)
        self.blackouts = defaultdict(list)
        self.holders = defaultdict(list)  # room → [(start, end, Blocking)] of occupied ranges
        for busy in month.busy:
            r = problem.room_index.get(busy.room_id)
            if r is not None:
                a, b = tl.range_of(busy.starts_at, busy.ends_at)
                target = self.blackouts if busy.kind == "blackout" else self.holders
                target[r].append((a, b, Blocking(busy.kind, busy.id)))
        self.sessions = defaultdict(list)  # anchor index → [(start, end, Blocking)]
        anchor_pos = {a: i for i, a in enumerate(problem.anchor_ids)}
        for i, anchor in enumerate(month.anchors):
            for start, end in anchor.sessions:
                self.sessions[i].append((*tl.range_of(start, end), Blocking("anchor", anchor.id)))
        requests = {q.id: q for q in month.requests}
        for p in month.pinned:
            a, b = tl.range_of(p.starts_at, p.ends_at)
            r = problem.room_index.get(p.room_id)
            if r is not None:
                self.holders[r].append((a, b + problem.rooms[r].changeover_minutes, Blocking("request", p.request_id)))
            for anchor_id in {w.anchor_id for w in getattr(requests.get(p.request_id), "anchors", ())}:
                if anchor_id in anchor_pos:
                    self.sessions[anchor_pos[anchor_id]].append((a, b, Blocking("request", p.request_id)))
        for occ in problem.occs:
            ci = state.chosen[occ.idx]
            if ci is None:
                continue
            c = problem.cands[ci]
            self.holders[c.room].append((c.start, c.busy_end, Blocking("request", occ.request.id)))
            for a, _ in occ.anchors:
                self.sessions[a].append((c.start, c.end, Blocking("request", occ.request.id)))

    # -- one place ---------------------------------------------------------
    def _stage(self, occ: Occ, r: int, s: int) -> tuple[int, str]:
        """How far the place ``(room r, start s)`` gets through the rules: byte scans only."""
        p, state = self.p, self.s
        room = p.rooms[r]
        e = s + occ.minutes
        if (room.min_minutes or 0) > occ.minutes or (room.max_minutes or occ.minutes) < occ.minutes:
            return 0, "duration"
        if self.shut[r].find(ONE, s, e) >= 0:
            return 1, "open_hours"
        if p.closed[r].find(ONE, s, e) >= 0:  # open, so a blackout
            return 2, "blackout"
        if state.room[r].find(ONE, s, min(e + room.changeover_minutes, p.tl.horizon)) >= 0:
            return 3, "taken"
        people = self._stage_people(occ, s, e)
        if people:
            return people
        return 6, "free"

    def _stage_people(self, occ: Occ, s: int, e: int) -> tuple[int, str] | None:
        """The anchors' and the quota's verdict on ``[s, e)``, whatever the room."""
        p, state = self.p, self.s
        for a, _ in occ.anchors:
            if state.anchor[a].find(ONE, s, min(e + p.anchor_rest[a], p.tl.horizon)) >= 0:
                return 4, "anchor_rest"
            if any(state.day_used[a][d] + m > p.anchor_limit[a] for d, m in p.tl.minutes_by_day(s, e)):
                return 4, "anchor_daily_limit"
        tenant = occ.request.tenant_id
        if tenant in p.quota and any(state.quota_used[tenant, w] + m > p.quota[tenant]
                                     for w, m in p.tl.prime_by_week(s, e)):
            return 5, "quota"
        return None

    def _why(self, occ: Occ, r: int, s: int, stage: int) -> tuple[str, dict, list[Blocking]]:
        """The code, parameters and blockers of a place stopped at ``stage``."""
        p, tl = self.p, self.p.tl
        room = p.rooms[r]
        e = s + occ.minutes
        if stage == 0:
            return "duration", {"min": room.min_minutes, "max": room.max_minutes}, []
        if stage == 1:
            return "open_hours", {"open": room.open_time.strftime("%H:%M"),
                                  "close": room.close_time.strftime("%H:%M")}, []
        if stage == 2:
            return "blackout", {}, [blk for a, b, blk in self.blackouts[r] if a < e and s < b]
        if stage == 3:
            busy_end = e + room.changeover_minutes
            return "taken", {}, [blk for a, b, blk in self.holders[r] if a < busy_end and s < b]
        if stage == 4:
            for a, _ in occ.anchors:
                anchor_id, rest = p.anchor_ids[a], p.anchor_rest[a]
                near = [(x, y, blk) for x, y, blk in self.sessions[a] if x < e + rest and s < y + rest]
                if near:
                    clash = any(x < e and s < y for x, y, _ in near)
                    return ("anchor_busy" if clash else "anchor_rest", {"anchor_id": anchor_id, "minutes": rest},
                            [Blocking("anchor", anchor_id), *(blk for _, _, blk in near)])
                for d, m in tl.minutes_by_day(s, e):
                    if self.s.day_used[a][d] + m > p.anchor_limit[a]:
                        params = {"anchor_id": anchor_id, "minutes": p.anchor_limit[a],
                                  "date": tl.date_of(d).isoformat()}
                        return "anchor_daily_limit", params, [Blocking("anchor", anchor_id)]
        if stage == 5:
            tenant = occ.request.tenant_id
            for week, m in tl.prime_by_week(s, e):
                if self.s.quota_used[tenant, week] + m > p.quota[tenant]:
                    return "quota", {"tenant_id": tenant, "week": f"{week[0]}-W{week[1]:02d}",
                                     "hours": p.quota[tenant] / 60}, []
        return "free", {}, []

    # -- one occurrence ----------------------------------------------------
    def explain(self, occ: Occ) -> Unplaced:
        request, key = occ.request, occ.key
        if occ.reject is not None:
            code, params = occ.reject
            blocking = (Blocking("anchor", params["anchor_id"]),) if code.startswith("anchor_") else ()
            return Unplaced(request.id, key.date, code, params, blocking, self.alternatives(occ)
                            if code in ("window", "duration") else ())
        starts = self.p.tl.starts(key.date, request.window_start, request.window_end, occ.minutes)
        best, places = -1, []
        for r in occ.rooms:
            for s in starts:
                stage, _ = self._stage(occ, r, s)
                if stage > best:
                    best, places = stage, []
                if stage == best:
                    places.append((r, s))
        codes: Counter = Counter()
        params: dict = {}
        blocking: set[Blocking] = set()
        for r, s in places[:MAX_PLACES_EXAMINED]:
            code, why, hit = self._why(occ, r, s, best)
            if not codes:
                params = why
            codes[code] += 1
            blocking.update(hit)
        code = codes.most_common(1)[0][0] if codes else "window"
        unique = sorted(blocking, key=lambda b: (b.kind, b.id))[:MAX_BLOCKING]
        return Unplaced(request.id, key.date, code, params, tuple(unique), self.alternatives(occ))

    def alternatives(self, occ: Occ) -> tuple[Alternative, ...]:
        """Up to three free places nearest the window: same date and duration, any
        eligible room, starts on the granularity before or after the window."""
        p, tl = self.p, self.p.tl
        if not occ.rooms or occ.minutes <= 0 or occ.reject and occ.reject[0] not in ("window", "duration"):
            return ()
        rooms = [r for r in occ.rooms if (p.rooms[r].min_minutes or 0) <= occ.minutes
                 <= (p.rooms[r].max_minutes or occ.minutes)]
        first, last = occ.window
        g = tl.granularity
        found: list[tuple[int, int, int, int]] = []
        for step in range(1, SEARCH_MINUTES // g + 1):
            for s in (first - step * g, last - occ.minutes + step * g):
                e = s + occ.minutes
                # Anchors and quota depend on the start only: one test, then byte scans per room.
                if s < 0 or e > tl.horizon or self._stage_people(occ, s, e):
                    continue
                for r in rooms:
                    busy_end = min(e + p.rooms[r].changeover_minutes, tl.horizon)
                    if p.closed[r].find(ONE, s, e) < 0 and self.s.room[r].find(ONE, s, busy_end) < 0:
                        fit = fit_score(p.rooms[r].capacity_per_hour, occ.request.p90_peak_orders)
                        found.append((step, -fit, r, s))
            if len(found) >= ALTERNATIVES:
                break
        found.sort()
        return tuple(Alternative(p.rooms[r].id, tl.at(s), tl.at(s + occ.minutes))
                     for _, _, r, s in found[:ALTERNATIVES])
