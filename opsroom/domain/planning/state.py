"""A plan being built: who holds which minutes, and the greedy first plan.

``State`` keeps, on top of the problem's fixed time, the rooms' occupied ranges,
the anchors' sessions widened by their rest, their minutes per local day and the
tenants' prime minutes per week, so "does this candidate still fit?" is a few
byte scans and dictionary look-ups. The same test serves the greedy plan, the
final fill pass and the explanations, so they cannot disagree.
"""

from __future__ import annotations

from collections import Counter

from .objective import FAIRNESS, SAME_ROOM, fit_score
from .problem import ONE, Cand, Problem


class State:
    def __init__(self, problem: Problem) -> None:
        self.p = problem
        self.room = [bytearray(b) for b in problem.booked]
        self.anchor = [bytearray(b) for b in problem.anchor_busy]
        self.day_used = [Counter(c) for c in problem.anchor_day_used]
        self.quota_used = Counter(problem.quota_used)
        self.chosen: list[int | None] = [None] * len(problem.occs)

    def fits(self, c: Cand) -> bool:
        p = self.p
        if self.room[c.room].find(ONE, c.start, c.busy_end) >= 0:
            return False
        for a, _ in p.occs[c.occ].anchors:
            if self.anchor[a].find(ONE, c.start, p.tl.clamp(c.end + p.anchor_rest[a])) >= 0:
                return False
            used, limit = self.day_used[a], p.anchor_limit[a]
            if any(used[d] + m > limit for d, m in c.day_minutes):
                return False
        if c.prime_weeks:
            tenant = p.occs[c.occ].request.tenant_id
            cap = p.quota[tenant]
            if any(self.quota_used[tenant, w] + m > cap for w, m in c.prime_weeks):
                return False
        return True

    def place(self, ci: int) -> None:
        p = self.p
        c = p.cands[ci]
        occ = p.occs[c.occ]
        assert self.chosen[c.occ] is None, "an occurrence is placed once"
        self.chosen[c.occ] = ci
        self.room[c.room][c.start:c.busy_end] = ONE * (c.busy_end - c.start)
        for a, _ in occ.anchors:
            end = p.tl.clamp(c.end + p.anchor_rest[a])
            self.anchor[a][c.start:end] = ONE * (end - c.start)
            for d, m in c.day_minutes:
                self.day_used[a][d] += m
        for w, m in c.prime_weeks:
            self.quota_used[occ.request.tenant_id, w] += m


def choose_homes(problem: Problem) -> None:
    """Give each request its home room and add ``SAME_ROOM`` to candidates there.

    The requested room, else the room the accepted plan used most for it, else the
    eligible room where most of its occurrences have a candidate (best fit first).
    """
    by_request: dict[int, list] = {}
    for occ in problem.occs:
        by_request.setdefault(occ.request.id, []).append(occ)
    for occs in by_request.values():
        request = occs[0].request
        if request.room_id is not None:
            home = problem.room_index.get(request.room_id)
        else:
            kept = Counter(o.accepted[0] for o in occs if o.accepted)
            if kept:
                home = kept.most_common(1)[0][0]
            else:
                reach = Counter()
                for o in occs:
                    reach.update({problem.cands[ci].room for ci in o.cands})
                home = max(reach, default=None, key=lambda r: (
                    reach[r], fit_score(problem.rooms[r].capacity_per_hour, request.p90_peak_orders), -r))
        for o in occs:
            o.home = home
            for ci in o.cands:
                if problem.cands[ci].room == home:
                    problem.cands[ci].score += SAME_ROOM


def greedy(state: State, occ_ids: list[int] | None = None) -> None:
    """The first plan: occurrences by (accepted first, priority weight × minutes
    descending, fewest candidates), each at its best-scoring candidate that still
    fits, ties to the earliest start."""
    p = state.p
    occs = [p.occs[i] for i in (occ_ids if occ_ids is not None else range(len(p.occs)))]
    order = sorted((o for o in occs if o.cands and state.chosen[o.idx] is None),
                   key=lambda o: (o.accepted is None, -o.value, len(o.cands), o.request.id, o.key.date))
    cands = p.cands
    for occ in order:
        for ci in sorted(occ.cands, key=lambda ci: (-cands[ci].score, cands[ci].start, cands[ci].room)):
            if state.fits(cands[ci]):
                state.place(ci)
                break


def fairness_groups(problem: Problem, occ_ids) -> dict[int, dict[int, int]]:
    """priority → {tenant: requested prime minutes}, for priorities where at least two
    tenants of the part want prime time (fairness needs someone to be fair between)."""
    groups: dict[int, dict[int, int]] = {}
    for i in occ_ids:
        occ = problem.occs[i]
        if occ.cands and occ.prime_wanted:
            group = groups.setdefault(occ.priority, {})
            group[occ.request.tenant_id] = group.get(occ.request.tenant_id, 0) + occ.prime_wanted
    return {prio: g for prio, g in groups.items() if len(g) > 1}


def part_objective(problem: Problem, occ_ids, chosen: list[int | None]) -> int:
    """The objective of the given occurrences under ``chosen``, fairness included."""
    total = 0
    placed_prime: Counter = Counter()
    for i in occ_ids:
        ci = chosen[i]
        if ci is not None:
            c = problem.cands[ci]
            total += c.score
            placed_prime[problem.occs[i].request.tenant_id] += c.prime
    for group in fairness_groups(problem, occ_ids).values():
        total += FAIRNESS * min(min(100, 100 * placed_prime[t] // wanted) for t, wanted in group.items())
    return total


def part_upper_bound(problem: Problem, occ_ids) -> int:
    """Every occurrence at its best candidate and everyone's full share: no plan does better."""
    best = sum(max((problem.cands[ci].score for ci in problem.occs[i].cands), default=0) for i in occ_ids)
    return best + FAIRNESS * 100 * len(fairness_groups(problem, occ_ids))
