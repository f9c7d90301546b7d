"""Decomposition: the parts of the month that do not interact.

Two occurrences interact when one's choice can change what the other may do:

- a room: some of their candidates in one room have occupied ranges that overlap
  (this is what links a late session to the next morning across midnight);
- an anchor: they share an anchor and their candidates fall in one local day
  (the daily limit) or come closer than the anchor's rest;
- a quota: one tenant with a weekly prime quota wants prime time in one ISO week.

Each connected part is solved on its own; together the parts' optima are the
month's optimum for the terms that are sums over occurrences. The same-room
term is measured against a home room fixed before solving and fairness is
measured within each part, so neither links parts (see ``objective``).
"""

from __future__ import annotations

from collections import defaultdict

from .problem import Problem


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


def parts(problem: Problem) -> list[list[int]]:
    """Independent parts of the month: lists of occurrence indexes, largest first.

    Occurrences without any candidate are left out: nothing can be decided for them.
    """
    occs = [o for o in problem.occs if o.cands]
    uf = _UnionFind(len(problem.occs))
    room_spans: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    anchor_spans: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    quota_groups: dict[tuple, int] = {}
    tl = problem.tl
    for occ in occs:
        per_room: dict[int, list[int]] = {}
        first, last = None, None
        for ci in occ.cands:
            c = problem.cands[ci]
            span = per_room.setdefault(c.room, [c.start, c.busy_end])
            span[0], span[1] = min(span[0], c.start), max(span[1], c.busy_end)
            first = c.start if first is None else min(first, c.start)
            last = c.end if last is None else max(last, c.end)
            for week, _ in c.prime_weeks:
                key = (occ.request.tenant_id, week)
                if key in quota_groups:
                    uf.union(quota_groups[key], occ.idx)
                else:
                    quota_groups[key] = occ.idx
        for r, (a, b) in per_room.items():
            room_spans[r].append((a, b, occ.idx))
        for a, _ in occ.anchors:
            # Whole local days for the daily limit; the rest after the last end reaches
            # any session starting too soon after it (and the other way round).
            day_a = tl.day_starts[tl.day_of(first)]
            day_b = tl.day_starts[min(tl.day_of(last - 1) + 1, len(tl.day_starts) - 1)]
            rest = problem.anchor_rest[a]
            anchor_spans[a].append((day_a, max(day_b, last + rest), occ.idx))
    for spans in (*room_spans.values(), *anchor_spans.values()):
        _link_overlapping(uf, spans)
    groups: dict[int, list[int]] = defaultdict(list)
    for occ in occs:
        groups[uf.find(occ.idx)].append(occ.idx)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))
