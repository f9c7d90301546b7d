"""What a good month plan is: the objective's terms and their weights.

The planner maximises one integer sum; the weights make it lexicographic for
any single occurrence, in this order:

1. **Placed demand** — ``DEMAND_PER_MINUTE[priority]`` for each placed minute:
   priority 1 → 400, priority 2 → 200, priority 3 → 100 (an hour of a priority-1
   tenant is worth two of priority 2 and four of priority 3). Durations are
   multiples of the granularity, so the smallest unit of demand is one
   quarter-hour of priority 3: ``MIN_DEMAND_UNIT`` = 1,500.
2. **Minimal change** on a re-run — ``KEEP_ACCEPTED`` = 1,000 for an occurrence
   left at the room and start of the previously accepted plan. Below one
   quarter-hour of demand, so a new request's time still wins over keeping one
   placement, but one quarter-hour does not move two.
3. **Same room** across the month — ``SAME_ROOM`` = 300 for an occurrence in its
   request's home room: the requested room, else the room the accepted plan gave
   most of its occurrences, else the one the greedy plan did. Measuring against
   a home room keeps days independent, so the month can be decomposed; the price
   is that the solver does not reconsider a home room the greedy plan chose.
4. **Forecast fit** — ``fit_score`` 0–100 per occurrence: 100 in the smallest
   room whose hourly order capacity covers the p90 peak, down to 50 for a room
   far too big; a room too small scores below 50 (by capacity ÷ peak), so any
   sufficient room beats every insufficient one. No forecast: 0 everywhere.
5. **Fairness of prime time** — ``FAIRNESS`` = 1 per percentage point of the
   lowest share (placed ÷ requested prime minutes) among the tenants of one
   priority (≤ 100 per priority), measured over the whole month when it is
   small enough to be solved as one part, else within each part (``components``).

``KEEP_ACCEPTED + SAME_ROOM + FIT_MAX`` = 1,400 < ``MIN_DEMAND_UNIT``, so no
occurrence's lower terms ever buy a quarter-hour of demand; and each term
outweighs everything below it for one occurrence. Summed over many occurrences
the order is weighted, not strictly lexicographic.
"""

from __future__ import annotations

DEMAND_PER_MINUTE = {1: 400, 2: 200, 3: 100}
KEEP_ACCEPTED = 1_000
SAME_ROOM = 300
FIT_MAX = 100
FAIRNESS = 1
MIN_DEMAND_UNIT = 15 * DEMAND_PER_MINUTE[3]

assert KEEP_ACCEPTED + SAME_ROOM + FIT_MAX < MIN_DEMAND_UNIT
assert SAME_ROOM + FIT_MAX < KEEP_ACCEPTED and FIT_MAX < SAME_ROOM


def demand(priority: int, minutes: int) -> int:
    """Weighted placed demand of a session of ``minutes`` for a tenant of ``priority``."""
    return DEMAND_PER_MINUTE[priority] * minutes


def fit_score(capacity_per_hour: int, p90_peak: float | None) -> int:
    """How well a room's hourly order capacity fits a forecast p90 peak (0–100).

    The smallest sufficient room scores highest, so big sellers go to big rooms
    and small ones leave them free.
    """
    if p90_peak is None or p90_peak <= 0:
        return 0
    if capacity_per_hour >= p90_peak:
        surplus = (capacity_per_hour - p90_peak) / p90_peak
        return FIT_MAX - min(FIT_MAX // 2, round(FIT_MAX // 2 * surplus))
    return min(FIT_MAX // 2 - 1, round((FIT_MAX // 2 - 1) * capacity_per_hour / p90_peak))


def candidate_score(*, priority: int, minutes: int, capacity_per_hour: int, p90_peak: float | None,
                    home: bool, kept: bool) -> int:
    """Terms 1–4 for one occurrence placed in one room at one start."""
    return (demand(priority, minutes) + (KEEP_ACCEPTED if kept else 0) + (SAME_ROOM if home else 0)
            + fit_score(capacity_per_hour, p90_peak))


def fairness_term(min_share_percent: int) -> int:
    return FAIRNESS * min_share_percent
