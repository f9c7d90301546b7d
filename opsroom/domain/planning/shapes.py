"""Data shapes of the month planner: what goes in, what comes out.

Plain frozen dataclasses, so the DB-loading service can build them from rows and
the API can serialise the result without knowing the solver. Instants are aware
datetimes (normalised to UTC); local dates and wall-clock times are the park's.
Reasons are machine codes with parameters; the UI owns the wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from ..anchor_rules import AnchorProfile

PRIORITIES = (1, 2, 3)  # 1 = highest


@dataclass(frozen=True)
class Room:
    id: int
    code: str
    kind: str
    zone: str
    capacity_per_hour: int
    open_time: time
    close_time: time  # earlier than open_time: the opening crosses midnight; equal: 24 h
    changeover_minutes: int = 0
    min_minutes: int | None = None
    max_minutes: int | None = None


@dataclass(frozen=True)
class Busy:
    """Fixed time in a room: an existing booking's occupied range (changeover
    included) or a blackout. A booking's tenant, when given, counts its prime
    time against that tenant's weekly quota."""

    room_id: int
    starts_at: datetime
    ends_at: datetime
    id: int
    kind: str = "booking"  # "booking" | "blackout"
    tenant_id: int | None = None


@dataclass(frozen=True)
class Anchor:
    id: int
    verified: bool
    max_minutes_per_day: int
    min_rest_minutes: int
    sessions: tuple[tuple[datetime, datetime], ...] = ()  # existing [starts_at, ends_at)

    @property
    def profile(self) -> AnchorProfile:
        return AnchorProfile(self.verified, self.max_minutes_per_day, self.min_rest_minutes)


@dataclass(frozen=True)
class Tenant:
    id: int
    priority: int = 2
    status: str = "active"  # "active" | "suspended" | "blacklisted"
    prime_quota_hours_per_week: float | None = None


@dataclass(frozen=True)
class AnchorWant:
    anchor_id: int
    role: str = "host"  # "host" | "assistant" | "controller"


@dataclass(frozen=True)
class Request:
    """A tenant's request, its recurrence already expanded into local ``dates``.

    Each occurrence is ``minutes`` long inside ``[window_start, window_end)`` of
    its date (a window whose end is not after its start runs into the next day;
    equal times mean 24 h). Rooms: ``room_id``, else any room of ``room_kind``
    and/or ``zone`` (neither: any room).
    """

    id: int
    tenant_id: int
    dates: tuple[date, ...]
    window_start: time
    window_end: time
    minutes: int
    room_id: int | None = None
    room_kind: str | None = None
    zone: str | None = None
    anchors: tuple[AnchorWant, ...] = ()
    p90_peak_orders: float | None = None  # forecast peak orders per hour


@dataclass(frozen=True, order=True)
class Occurrence:
    request_id: int
    date: date


@dataclass(frozen=True)
class Placement:
    request_id: int
    date: date
    room_id: int
    starts_at: datetime
    ends_at: datetime
    pinned: bool = False

    @property
    def occurrence(self) -> Occurrence:
        return Occurrence(self.request_id, self.date)


@dataclass(frozen=True)
class Blocking:
    kind: str  # "request" | "booking" | "blackout" | "anchor"
    id: int


@dataclass(frozen=True)
class Alternative:
    room_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Unplaced:
    """An occurrence left out and why: ``code`` names the rule (open_hours,
    blackout, anchor_daily_limit, anchor_rest, anchor_busy, anchor_unverified,
    quota, tenant_status, no_room, duration, granularity) or ``taken`` when
    requests or bookings hold its time; ``blocking`` names them."""

    request_id: int
    date: date
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    blocking: tuple[Blocking, ...] = ()
    alternatives: tuple[Alternative, ...] = ()

    @property
    def occurrence(self) -> Occurrence:
        return Occurrence(self.request_id, self.date)


@dataclass(frozen=True)
class MonthInput:
    """The month as it is. ``pinned`` placements are fixed; ``accepted`` is the
    previously accepted plan, which a re-run changes as little as it can."""

    first_day: date
    days: int
    rooms: tuple[Room, ...]
    requests: tuple[Request, ...]
    tenants: tuple[Tenant, ...]
    anchors: tuple[Anchor, ...] = ()
    busy: tuple[Busy, ...] = ()
    pinned: tuple[Placement, ...] = ()
    accepted: tuple[Placement, ...] = ()
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")
    granularity_minutes: int = 15
    prime_start: time = time(19, 0)
    prime_end: time = time(0, 0)


@dataclass(frozen=True)
class Progress:
    """Reported while solving: the best whole-month plan so far and the bound."""

    placed: int
    objective: int
    bound: int
    gap: float
    elapsed: float
    phase: str  # "greedy" | "solve" | "done"


@dataclass(frozen=True)
class PlanResult:
    placed: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]
    objective: int
    bound: int
    gap: float
    stats: dict[str, Any] = field(default_factory=dict)
