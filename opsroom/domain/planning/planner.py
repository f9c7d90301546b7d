"""The month planner: a greedy first plan, improved part by part with CP-SAT.

1. Candidates are generated against the month's fixed facts (``problem``).
2. Home rooms are chosen and the greedy plan is built (``state``): a full,
   feasible plan within seconds, reported as the first progress.
3. The month is split into parts (``components``). Each part the greedy plan
   did not already solve to its trivial bound gets a CP-SAT search hinted with
   the greedy plan (``cpsat``) and a share of the time left, in proportion to
   its candidates; ``num_workers`` is spread over parts solved side by side
   (two workers: two parts at a time, one worker each). A part keeps whichever
   plan is better. Then, in time order, each part's plan is reconciled with the
   parts before it (a daily limit or quota cut between parts may refuse a
   place) and a fill pass places whatever of the part still fits (a search
   stopped early may leave some).
4. Every left-out occurrence is explained (``explain``).

Progress reports the whole month: solved parts at their result, parts being
solved at their incumbent, the rest at the greedy plan; the bound likewise sums
each part's best bound (a part not yet solved counts at its trivial bound).
Cancelling (``cancel.set()``) stops the running search within ~0.1 s and skips
the remaining parts; the result is then the best plan so far, never worse than
the greedy one.
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from .components import parts as split_parts
from .cpsat import solve_part
from .explain import Explainer
from .problem import Problem, build
from .shapes import MonthInput, Placement, PlanResult, Progress
from .state import State, choose_homes, greedy, part_objective, part_upper_bound

ProgressCallback = Callable[[Progress], None]
EXPLAIN_SECONDS_PER_OCCURRENCE = 0.0005


def _gap(objective: int, bound: int) -> float:
    return 0.0 if bound <= 0 else max(0.0, (bound - objective) / bound)


def first_plan(month: MonthInput) -> tuple[Problem, State]:
    """The problem and its greedy plan, nothing solved."""
    problem = build(month)
    choose_homes(problem)
    state = State(problem)
    greedy(state)
    return problem, state


def plan_month(month: MonthInput, *, time_limit: float = 60.0, num_workers: int = 2, seed: int = 0,
               gap_limit: float = 0.0, solve: bool = True, progress: ProgressCallback | None = None,
               cancel: threading.Event | None = None) -> PlanResult:
    """Plan the month's requests: places for as much weighted demand as fits, then
    same rooms, forecast fit and fairness (weights in ``objective``), pinned
    placements fixed and the accepted plan changed as little as possible.

    ``time_limit`` counts from the call, candidate generation and explanations
    included (the search stops early by about 0.5 ms per occurrence, at most a
    tenth of the limit, to leave time to explain). ``gap_limit`` lets a part stop
    once within that relative gap of its bound (0: prove each part optimal).
    ``solve=False`` returns the greedy plan, explained.
    """
    began = _time.monotonic()
    problem, state = first_plan(month)
    # Explaining the left-out occurrences comes after the search (~0.5 ms each):
    # keep time for it so the whole call fits the limit.
    deadline = began + time_limit - min(0.1 * time_limit, EXPLAIN_SECONDS_PER_OCCURRENCE * len(problem.occs))
    greedy_chosen = list(state.chosen)
    parts, cut = split_parts(problem)
    part_obj = [part_objective(problem, part, greedy_chosen) for part in parts]
    part_bound = [part_upper_bound(problem, part) for part in parts]
    greedy_objective = sum(part_obj)
    greedy_seconds = _time.monotonic() - began
    placed_in = [sum(1 for i in part if greedy_chosen[i] is not None) for part in parts]
    timeline: list[tuple[float, int, int, int]] = []
    lock = threading.RLock()  # parts are solved on several threads; their reports meet here

    def emit(phase: str, k: int | None = None, objective: int = 0, bound: int = 0, placed: int = 0) -> None:
        with lock:
            obj = sum(part_obj) if k is None else sum(part_obj) - part_obj[k] + max(objective, part_obj[k])
            bnd = sum(part_bound) if k is None else sum(part_bound) - part_bound[k] + min(bound, part_bound[k])
            plc = sum(placed_in) if k is None else sum(placed_in) - placed_in[k] + placed
            elapsed = _time.monotonic() - began
            timeline.append((round(elapsed, 3), obj, bnd, plc))
            if progress is not None:
                progress(Progress(plc, obj, bnd, _gap(obj, bnd), elapsed, phase))

    emit("greedy")
    solved = {"optimal": 0, "feasible": 0, "unknown": 0, "greedy_at_bound": 0, "not_reached": 0}
    sizes = [sum(len(problem.occs[i].cands) for i in part) for part in parts]
    choices = [{i: greedy_chosen[i] for i in part} for part in parts]
    todo = []
    for k in range(len(parts)):
        if part_obj[k] >= part_bound[k]:
            solved["greedy_at_bound"] += 1
            part_bound[k] = part_obj[k]
        else:
            todo.append(k)
    # CP-SAT's presolve runs on one thread, so two parts at a time with one worker
    # each keep two cores busier than one part with two workers.
    lanes = max(1, min(num_workers, len(todo)))
    left = [sum(sizes[k] for k in todo)]

    def run(k: int) -> None:
        with lock:
            size_left = left[0]
            left[0] -= sizes[k]
        now = _time.monotonic()
        if not solve or (cancel is not None and cancel.is_set()) or now >= deadline:
            with lock:
                solved["not_reached"] += 1
            return
        # Each lane's share of the time left, in proportion to the part's candidates.
        share = min(deadline - now, lanes * (deadline - now) * sizes[k] / max(1, size_left))
        result = solve_part(problem, parts[k], greedy_chosen, time_limit=share,
                            num_workers=max(1, num_workers // lanes), seed=seed, gap_limit=gap_limit,
                            cancel=cancel, report=lambda o, b, n: emit("solve", k, o, b, n))
        with lock:
            solved[result.status] += 1
            part_bound[k] = max(part_obj[k], min(part_bound[k], result.bound))
            if result.objective > part_obj[k]:
                choices[k] = result.chosen
                part_obj[k] = result.objective
                placed_in[k] = sum(1 for ci in result.chosen.values() if ci is not None)
        emit("solve")

    # The biggest parts first, so that no long solve starts last.
    with ThreadPoolExecutor(lanes, thread_name_prefix="plan-part") as pool:
        list(pool.map(run, sorted(todo, key=lambda k: -sizes[k])))

    final = State(problem)  # the month's plan, part after part in time order
    for k, part in enumerate(parts):
        # Reconcile with the parts before: only a daily limit or quota cut between
        # parts can refuse a place here; the fill pass then uses what is left.
        for ci in sorted((ci for ci in choices[k].values() if ci is not None), key=lambda ci: -problem.cands[ci].score):
            if final.fits(problem.cands[ci]):
                final.place(ci)
        greedy(final, part)

    objective = sum(part_objective(problem, part, final.chosen) for part in parts)
    if objective < greedy_objective:
        # Reconciling limits cut between parts can, in principle, lose more than
        # the solver gained; the greedy plan obeys every limit across the month.
        final = State(problem)
        for ci in greedy_chosen:
            if ci is not None:
                final.place(ci)
        objective = greedy_objective
    bound = max(objective, sum(part_bound))
    explainer = Explainer(problem, final)
    tl = problem.tl
    placed = [Placement(occ.request.id, occ.key.date, problem.rooms[problem.cands[ci].room].id,
                        tl.at(problem.cands[ci].start), tl.at(problem.cands[ci].end))
              for occ in problem.occs if (ci := final.chosen[occ.idx]) is not None]
    placed += list(month.pinned)
    unplaced = [explainer.explain(occ) for occ in problem.occs if final.chosen[occ.idx] is None]
    elapsed = _time.monotonic() - began
    placed_demand = sum(problem.occs[i].value for i, ci in enumerate(final.chosen) if ci is not None)
    stats = {
        "occurrences": len(problem.occs), "candidates": len(problem.cands), "parts": len(parts),
        "largest_part": max(map(len, parts), default=0), "cut_links": cut, "parts_by_status": solved,
        "lanes": lanes,
        "greedy_objective": greedy_objective, "greedy_seconds": round(greedy_seconds, 3),
        "greedy_placed": sum(1 for ci in greedy_chosen if ci is not None),
        "greedy_demand": sum(problem.occs[i].value for i, ci in enumerate(greedy_chosen) if ci is not None),
        "placed_demand": placed_demand, "seconds": round(elapsed, 3),
        "cancelled": bool(cancel is not None and cancel.is_set()), "timeline": timeline,
    }
    result = PlanResult(tuple(placed), tuple(unplaced), objective, bound, _gap(objective, bound), stats)
    if progress is not None:
        progress(Progress(len(placed) - len(month.pinned), objective, bound, result.gap, elapsed, "done"))
    return result
