"""The month planner's solver core: pure functions over plain data, no Flask, no SQLAlchemy.

``plan_month(MonthInput) -> PlanResult`` places each request occurrence in a room
at a start, or explains why not; the weights of what "best" means are in
``objective``. The DB-loading service builds the ``MonthInput`` from rows and
stores the result as a draft plan.
"""

from __future__ import annotations

from .objective import DEMAND_PER_MINUTE, FAIRNESS, FIT_MAX, KEEP_ACCEPTED, SAME_ROOM, fit_score
from .planner import first_plan, plan_month
from .shapes import (
    Alternative,
    Anchor,
    AnchorWant,
    Blocking,
    Busy,
    MonthInput,
    Occurrence,
    Placement,
    PlanResult,
    Progress,
    Request,
    Room,
    Tenant,
    Unplaced,
)

__all__ = [
    "DEMAND_PER_MINUTE", "FAIRNESS", "FIT_MAX", "KEEP_ACCEPTED", "SAME_ROOM", "fit_score",
    "first_plan", "plan_month",
    "Alternative", "Anchor", "AnchorWant", "Blocking", "Busy", "MonthInput", "Occurrence", "Placement",
    "PlanResult", "Progress", "Request", "Room", "Tenant", "Unplaced",
]
