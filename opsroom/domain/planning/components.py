"""Decomposition: the parts of the month that do not interact.

Two occurrences interact when one's choice can change what the other may do:

- a room: some of their candidates in one room have occupied ranges that overlap
  (this is what links a late session to the next morning across midnight);
- an anchor: they share an anchor whose candidates come closer than the
  anchor's rest, or whose minutes in one local day could together pass the
  anchor's daily limit;
- a quota: one tenant's prime minutes in one ISO week could together pass its
  weekly prime quota;
- fairness: tenants of one priority want prime time.

Rooms and anchors' clashes and rest always join occurrences into one part. A
daily limit, a quota or fairness joins them only while the part stays below
``MAX_PART_CANDIDATES`` (fairness: ``MAX_FAIR_PART_CANDIDATES``): past that (a month of late sessions crossing midnight,
a tenant's quota over a week) the link is cut. A cut limit is still a
constraint: each part is solved with the whole of the limit (so the sum of the
parts' bounds stays a bound for the month), then its plan is reconciled, in the
parts' time order, with what the parts before it used (see ``planner``).

Without cuts the parts are independent and their optima add up to the month's
optimum. Where fairness is cut it is measured within each part (its weight is
small: see ``objective``). The same-room term is measured against a home room
fixed before solving, so it links no parts.
"""

from __future__ import annotations

from collections import defaultdict

from .problem import Problem

# A part above this many candidates is not grown further by a daily limit or quota:
# CP-SAT on one core closes a day of ~25,000 candidates in seconds.
MAX_PART_CANDIDATES = 40_000
# Fairness (a minimum over tenants) has a weak linear relaxation: a month joined
# by it is much harder than its days, so it joins only small parts.
MAX_FAIR_PART_CANDIDATES = 2_000


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _link_overlapping(uf: _UnionFind, spans: list[tuple[int, int, int]]) -> None:
    """Union the owners of spans ``(start, end, occ)`` that overlap, by one sweep."""
    spans.sort()
    reach, owner = -1, -1
    for start, end, occ in spans:
        if start < reach:
            uf.union(owner, occ)
            reach = max(reach, end)
        else:
            reach, owner = end, occ


def parts(problem: Problem, max_part_candidates: int | None = None) -> tuple[list[list[int]], int]:
    """Parts of the month, in the order of their first start, and how many daily
    limits or quotas were cut between parts (0: the parts are independent).

    Occurrences without any candidate are left out: nothing can be decided for them.
    """
    if max_part_candidates is None:
        max_part_candidates = MAX_PART_CANDIDATES
    occs = [o for o in problem.occs if o.cands]
    uf = _UnionFind(len(problem.occs))
    room_spans: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    anchor_spans: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    # (anchor, day) and (tenant, week) sums: who takes part, and the most they can add up to.
    daily: dict[tuple[int, int], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    weekly: dict[tuple, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for occ in occs:
        per_room: dict[int, list[int]] = {}
        first = last = None
        day_max: dict[int, int] = defaultdict(int)
        week_max: dict[tuple, int] = defaultdict(int)
        for ci in occ.cands:
            c = problem.cands[ci]
            span = per_room.setdefault(c.room, [c.start, c.busy_end])
            span[0], span[1] = min(span[0], c.start), max(span[1], c.busy_end)
            first = c.start if first is None else min(first, c.start)
            last = c.end if last is None else max(last, c.end)
            for d, m in c.day_minutes:
                day_max[d] = max(day_max[d], m)
            for w, m in c.prime_weeks:
                week_max[w] = max(week_max[w], m)
        for r, (a, b) in per_room.items():
            room_spans[r].append((a, b, occ.idx))
        for a, _ in occ.anchors:
            # Clash or rest: the rest after the last end reaches any session that
            # starts too soon after it (and the other way round).
            anchor_spans[a].append((first, last + problem.anchor_rest[a], occ.idx))
            for d, m in day_max.items():
                daily[a, d][0].append(occ.idx)
                daily[a, d][1].append(m)
        for w, m in week_max.items():
            weekly[occ.request.tenant_id, w][0].append(occ.idx)
            weekly[occ.request.tenant_id, w][1].append(m)
    for spans in (*room_spans.values(), *anchor_spans.values()):
        _link_overlapping(uf, spans)
    # A daily limit or a quota links its occurrences only if together they could
    # pass it, and only while the joined part stays small enough to solve whole.
    size: dict[int, int] = defaultdict(int)
    for occ in occs:
        size[uf.find(occ.idx)] += len(occ.cands)
    couplings = [(members, problem.anchor_limit[a] - problem.anchor_day_used[a][d] < sum(most))
                 for (a, d), (members, most) in daily.items()]
    couplings += [(members, problem.quota[t] - problem.quota_used[t, w] < sum(most))
                  for (t, w), (members, most) in weekly.items()]
    # Fairness compares the tenants of one priority within a part: a month small
    # enough to be one part gets it exactly, a big month part by part.
    prime: dict[int, list[int]] = defaultdict(list)
    for occ in occs:
        if occ.prime_wanted:
            prime[occ.priority].append(occ.idx)
    couplings = [(members, binds, max_part_candidates) for members, binds in couplings]
    couplings += [(members, len({problem.occs[i].request.tenant_id for i in members}) > 1,
                   min(max_part_candidates, MAX_FAIR_PART_CANDIDATES)) for members in prime.values()]
    cut = 0
    for members, binds, limit in couplings:
        if not binds:
            continue
        roots = {uf.find(i) for i in members}
        if sum(size[r] for r in roots) > limit:
            cut += 1
            continue
        total = sum(size[r] for r in roots)
        for i in members[1:]:
            uf.union(members[0], i)
        size[uf.find(members[0])] = total
    groups: dict[int, list[int]] = defaultdict(list)
    for occ in occs:
        groups[uf.find(occ.idx)].append(occ.idx)
    first = {root: min(problem.cands[ci].start for i in g for ci in problem.occs[i].cands)
             for root, g in groups.items()}
    return [groups[root] for root in sorted(groups, key=lambda root: (first[root], root))], cut
