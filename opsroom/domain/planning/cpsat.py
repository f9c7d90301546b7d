"""CP-SAT model of one independent part of the month, warm-started from the greedy plan.

One Boolean per candidate (occurrence, room, start) says "placed here":

- each occurrence is placed at most once;
- rooms: candidates whose occupied ranges ``[start, end + changeover)`` overlap
  are pairwise exclusive, stated as at-most-one over each maximal clique of the
  interval graph (the time-indexed form: its linear relaxation gives the bound);
- anchors: likewise over ``[start, end + rest)``, which forbids clashes and keeps
  the rest between consecutive sessions;
- anchor daily limits: sums of each candidate's minutes in the local day;
- weekly prime quotas: sums of prime minutes per tenant and ISO week;
- fairness: per priority, an integer ``m ≤ 100 × placed ÷ requested prime`` for
  each tenant, rewarded in the objective.

Fixed time (bookings, blackouts, pinned placements, anchors' existing sessions)
was removed from the candidates already; the greedy plan is the hint, so the
search starts from a full feasible plan and can only improve on it.
"""

from __future__ import annotations

import threading
import time as _time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .objective import FAIRNESS
from .problem import Problem
from .state import fairness_groups

SolutionReport = Callable[[int, int, int], None]  # (objective, bound, placed) of the part


@dataclass
class PartSolution:
    chosen: dict[int, int | None]  # occurrence index → candidate index
    objective: int
    bound: int
    status: str  # "optimal" | "feasible" | "unknown"
    seconds: float


def _cliques(items: list[tuple[int, int, object]]) -> list[list[object]]:
    """Maximal sets of pairwise-overlapping half-open ranges ``(start, end, var)``."""
    events = []
    for start, end, var in items:
        events.append((start, 1, var))
        events.append((end, 0, var))
    # Ends sort before starts at one instant: touching ranges do not overlap.
    events.sort(key=lambda e: (e[0], e[1]))
    active: dict[int, object] = {}
    out, grew = [], False
    for _, is_start, var in events:
        if is_start:
            active[id(var)] = var
            grew = True
        else:
            if grew and len(active) > 1:
                out.append(list(active.values()))
            grew = False
            del active[id(var)]
    return out


class _Watch(cp_model.CpSolverSolutionCallback):
    def __init__(self, report: SolutionReport | None, cancel: threading.Event | None, xs: list) -> None:
        super().__init__()
        self.report, self.cancel, self.xs = report, cancel, xs
        self.last = 0.0

    def on_solution_callback(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            self.stop_search()
            return
        now = _time.monotonic()
        if self.report is not None and now - self.last >= 0.5:
            self.last = now
            placed = sum(1 for x in self.xs if self.boolean_value(x))
            self.report(int(self.objective_value), int(self.best_objective_bound), placed)


def solve_part(problem: Problem, occ_ids: list[int], hint: list[int | None], *, time_limit: float,
               num_workers: int = 2, seed: int = 0, gap_limit: float = 0.0,
               report: SolutionReport | None = None, cancel: threading.Event | None = None) -> PartSolution:
    """Best placement of the part's occurrences found within ``time_limit`` seconds.

    ``hint`` is the greedy plan (occurrence index → candidate index). A cancelled or
    timed-out search returns its incumbent, never less than the hint.
    """
    began = _time.monotonic()
    cands, occs, tl = problem.cands, problem.occs, problem.tl
    model = cp_model.CpModel()
    x: dict[int, cp_model.IntVar] = {}
    room_items: dict[int, list] = defaultdict(list)
    anchor_items: dict[int, list] = defaultdict(list)
    daily: dict[tuple[int, int], list] = defaultdict(list)
    quota: dict[tuple, list] = defaultdict(list)
    prime_of: dict[int, list] = defaultdict(list)
    for i in occ_ids:
        occ = occs[i]
        own = []
        for ci in occ.cands:
            c = cands[ci]
            var = x[ci] = model.new_bool_var(f"x{ci}")
            own.append(var)
            room_items[c.room].append((c.start, c.busy_end, var))
            for a, _ in occ.anchors:
                anchor_items[a].append((c.start, tl.clamp(c.end + problem.anchor_rest[a]), var))
                for d, m in c.day_minutes:
                    daily[a, d].append((m, var))
            for w, m in c.prime_weeks:
                quota[occ.request.tenant_id, w].append((m, var))
            if c.prime:
                prime_of[occ.request.tenant_id].append((c.prime, var))
        if len(own) > 1:
            model.add_at_most_one(own)
    for items in (*room_items.values(), *anchor_items.values()):
        for clique in _cliques(items):
            model.add_at_most_one(clique)
    for (a, d), terms in daily.items():
        cap = problem.anchor_limit[a] - problem.anchor_day_used[a][d]
        if sum(m for m, _ in terms) > cap:
            model.add(sum(m * v for m, v in terms) <= cap)
    for (t, w), terms in quota.items():
        cap = problem.quota[t] - problem.quota_used[t, w]
        if sum(m for m, _ in terms) > cap:
            model.add(sum(m * v for m, v in terms) <= cap)

    order = list(x)
    variables = [x[ci] for ci in order]
    coeffs = [cands[ci].score for ci in order]
    chosen_hint = {hint[i] for i in occ_ids if hint[i] is not None}
    placed_prime: dict[int, int] = defaultdict(int)
    for ci in chosen_hint:
        placed_prime[occs[cands[ci].occ].request.tenant_id] += cands[ci].prime
    for group in fairness_groups(problem, occ_ids).values():
        share = model.new_int_var(0, 100, "fair")
        for tenant, wanted in group.items():
            model.add(wanted * share <= 100 * sum(m * v for m, v in prime_of[tenant]))
        model.add_hint(share, min(min(100, 100 * placed_prime[t] // w) for t, w in group.items()))
        variables.append(share)
        coeffs.append(FAIRNESS)
    model.maximize(cp_model.LinearExpr.weighted_sum(variables, coeffs))
    for ci in order:
        model.add_hint(x[ci], ci in chosen_hint)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit - (_time.monotonic() - began))
    solver.parameters.num_workers = num_workers
    solver.parameters.random_seed = seed
    solver.parameters.relative_gap_limit = gap_limit
    watch = _Watch(report, cancel, [x[ci] for ci in order])
    done = threading.Event()
    if cancel is not None:
        # A solution callback only runs when a solution is found; a stalled search
        # is stopped from this thread instead.
        def poll() -> None:
            while not done.wait(0.05):
                if cancel.is_set():
                    solver.stop_search()
                    return

        watcher = threading.Thread(target=poll, name="plan-cancel", daemon=True)
        watcher.start()
    try:
        status = solver.solve(model, watch)
    finally:
        done.set()
    seconds = _time.monotonic() - began
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = {i: None for i in occ_ids}
        for ci in order:
            if solver.boolean_value(x[ci]):
                chosen[cands[ci].occ] = ci
        return PartSolution(chosen, round(solver.objective_value), int(solver.best_objective_bound + 1e-6),
                            "optimal" if status == cp_model.OPTIMAL else "feasible", seconds)
    return PartSolution({i: hint[i] for i in occ_ids}, -1, int(solver.best_objective_bound + 1e-6), "unknown",
                        seconds)
