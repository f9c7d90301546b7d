"""Plan runs: started by a coordinator, solved outside the web request.

A run's state lives in its `plans` row, so any process can follow it: `start`
writes the row (`running`, unclaimed); a runner (a worker thread of the web
process, or the CLI in its own process) claims it with a conditional update,
solves the month, and meanwhile a watcher thread beats the heartbeat and writes
the progress every second, and reads the row: a `cancelled` status (or a row
claimed by another runner) stops the search within a second; the best plan so
far is kept. The draft is written when the search ends (`done`), or the error
(`failed`). A run whose runner died stops beating; the scheduler's sweep fails
it once the heartbeat is older than the lease (`fail_stale`).

The runner commits in steps (the claim, each beat, the end) in sessions of its
own: its progress must be visible while it runs.
"""
from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.domain import planning as dp
from opsroom.models import BookingRequest, Plan, Room, Tenant
from opsroom.services import audit
from opsroom.services.errors import Conflict, RuleViolation, ValidationFailed, found
from opsroom.services.permissions import require
from opsroom.domain.hours import month_bounds
from opsroom.services.planning.load import month_input
from opsroom.services.planning.reasons import message
from opsroom.services.transaction import transactional
from opsroom.settings import settings_of

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 60
MIN_YEAR, MAX_YEAR = 2000, 2099  # the board's range: beyond, day arithmetic and offsets get odd
MAX_TIME_LIMIT = 600
MAX_REQUEST_IDS = 1000
HEARTBEAT_SECONDS = 1.0
LEASE_SECONDS = 30  # a running plan whose heartbeat is older has lost its runner
GAP_LIMIT = 0.01  # each part of the month stops once within 1 % of its bound (docs/planner.md)
NOT_RUNNING = _l("This plan is not running.")


def _invalid(field_name: str, message) -> ValidationFailed:
    return ValidationFailed(_l("Please correct the marked fields."), [{"field": field_name, "message": message}])


@transactional
def start(session: so.Session, user, month: date, *, request_ids: Iterable[int] | None = None,
          time_limit_seconds: int | None = None, pins: list[dict[str, Any]] | None = None,
          based_on_id: int | None = None) -> Plan:
    """Record a run for the month (its pending requests, or the chosen ones); a
    runner solves it. `pins` are placements of the draft `based_on_id` kept fixed.
    `user` None: the operator on the host (the CLI), who holds every right."""
    if user is not None:
        require(user, "plans.write")
    if not MIN_YEAR <= month.year <= MAX_YEAR:
        raise _invalid("month", _l("Choose a month between %(lo)s and %(hi)s.", lo=MIN_YEAR, hi=MAX_YEAR))
    limit = DEFAULT_TIME_LIMIT if time_limit_seconds is None else time_limit_seconds
    if not 1 <= limit <= MAX_TIME_LIMIT:
        raise _invalid("time_limit_seconds", _l("Between 1 and %(max)s seconds.", max=MAX_TIME_LIMIT))
    ids = None
    if request_ids is not None:
        ids = sorted(set(request_ids))
        if not ids or len(ids) > MAX_REQUEST_IDS:
            raise _invalid("request_ids", _l("Choose between 1 and %(max)s requests.", max=MAX_REQUEST_IDS))
        known = set(session.scalars(sa.select(BookingRequest.id).where(BookingRequest.id.in_(ids))))
        if known != set(ids):
            raise RuleViolation(_l("The request breaks a rule of the park."), [{
                "rule": "request_unknown", "field": "request_ids",
                "message": _l("No such request: %(ids)s.", ids=", ".join(str(i) for i in ids if i not in known))}])
    first, _ = month_bounds(month)
    plan = Plan(month=first, status="running", request_ids=ids, time_limit_seconds=limit, pins=pins or [],
                based_on_id=based_on_id, progress={"placed": 0, "bound": 0, "gap": None, "phase": "queued"},
                accepted=[], error="", created_at=clock.now(), created_by_id=getattr(user, "id", None))
    session.add(plan)
    session.flush()
    audit.record(session, user, "plan", plan.id, "started",
                 {"month": first.isoformat(), "request_ids": ids, "time_limit_seconds": limit,
                  "pins": len(pins or [])})
    return plan


@transactional
def rerun(session: so.Session, user, plan_id: int, *, pin: Iterable[tuple[int, str]] = (),
          time_limit_seconds: int | None = None) -> Plan:
    """Run the plan's month again, the draft's placements of the occurrences in
    `pin` (`(request_id, "YYYY-MM-DD")`) kept fixed, its other placements
    kept where they still fit (the solver's bonus for the accepted plan)."""
    old = get(session, user, plan_id)
    if old.status == "running" or not old.result:
        raise Conflict(_l("This plan has no draft yet."), [])
    wanted = set(pin)
    pins = [p for p in old.result["placed"] if (p["request_id"], p["date"]) in wanted]
    pins += [p for p in old.pins if (p["request_id"], p["date"]) not in wanted]  # earlier pins stay
    return start(session, user, old.month, request_ids=old.request_ids,
                 time_limit_seconds=time_limit_seconds or old.time_limit_seconds, pins=pins, based_on_id=old.id)


def get(session: so.Session, user, plan_id: int) -> Plan:
    require(user, "plans.read")
    return found(session.get(Plan, plan_id), _l("No such plan."))


def review(session: so.Session, user, plan_id: int) -> dict[str, Any]:
    """The plan's draft as rows to review, read in three queries (the plan, its
    requests with their tenants, the rooms): `placed` rows (request, tenant's
    name, room code, start and end, pinned, accepted), `unplaced` rows (the
    reason in the reader's words, the nearest free places), `accepted` (the
    request ids booked from it) and `board_day` (the draft's first day, else
    the month's first). Needs plans.read."""
    plan = get(session, user, plan_id)
    result = plan.result or {}
    ids = {p["request_id"] for p in result.get("placed", [])} | {u["request_id"] for u in result.get("unplaced", [])}
    tenant_of = dict(session.execute(
        sa.select(BookingRequest.id, Tenant.name).join(Tenant, Tenant.id == BookingRequest.tenant_id)
        .where(BookingRequest.id.in_(ids))).all()) if ids else {}
    codes = dict(session.execute(sa.select(Room.id, Room.code)).all())
    pinned = {(p["request_id"], p["date"]) for p in plan.pins or []}
    accepted = set(plan.accepted or [])

    def when(place: dict[str, Any]) -> dict[str, Any]:
        return {"room_id": place["room_id"], "room_code": codes.get(place["room_id"], str(place["room_id"])),
                "start": datetime.fromisoformat(place["starts_at"]), "end": datetime.fromisoformat(place["ends_at"])}

    placed = [{"request_id": p["request_id"], "date": p["date"], "tenant": tenant_of.get(p["request_id"], ""),
               **when(p), "pinned": bool(p.get("pinned")) or (p["request_id"], p["date"]) in pinned,
               "accepted": p["request_id"] in accepted}
              for p in result.get("placed", [])]
    unplaced = [{"request_id": u["request_id"], "date": u["date"], "tenant": tenant_of.get(u["request_id"], ""),
                 "code": u["code"], "message": message(u["code"], u["params"], u["blocking"]),
                 "alternatives": [when(a) for a in u["alternatives"]]}
                for u in result.get("unplaced", [])]
    board_day = placed[0]["start"].astimezone(settings_of(session).tz).date() if placed else plan.month
    return {"plan": plan, "placed": placed, "unplaced": unplaced, "accepted": accepted, "board_day": board_day}


def list_plans(session: so.Session, user, *, limit: int = 20) -> list[Plan]:
    require(user, "plans.read")
    return list(session.scalars(sa.select(Plan).order_by(Plan.id.desc()).limit(limit)))


@transactional
def cancel(session: so.Session, user, plan_id: int) -> Plan:
    """Stop a running plan: its runner sees the status within a second and keeps
    the best draft so far."""
    require(user, "plans.write")
    plan = get(session, user, plan_id)
    done = session.execute(sa.update(Plan).where(Plan.id == plan_id, Plan.status == "running")
                           .values(status="cancelled", finished_at=clock.now())).rowcount
    if not done:
        raise Conflict(NOT_RUNNING, [])
    audit.record(session, user, "plan", plan_id, "cancelled", {"status": ["running", "cancelled"]})
    session.refresh(plan)
    return plan


@transactional
def fail_stale(session: so.Session) -> dict[str, int]:
    """The sweep: a running plan whose runner stopped beating (or that no runner
    claimed) for longer than the lease is failed."""
    cutoff = clock.now() - timedelta(seconds=LEASE_SECONDS)
    n = session.execute(sa.update(Plan).where(
        Plan.status == "running",
        sa.or_(Plan.heartbeat_at < cutoff, sa.and_(Plan.heartbeat_at.is_(None), Plan.created_at < cutoff)))
        .values(status="failed", error="runner_lost", finished_at=clock.now())).rowcount
    return {"failed_plans": n}


# ---------------------------------------------------------------------------
# The runner


def claim(session: so.Session, plan_id: int, runner: str) -> bool:
    """Take the run (unclaimed, or its runner lost); commits."""
    now = clock.now()
    cutoff = now - timedelta(seconds=LEASE_SECONDS)
    n = session.execute(sa.update(Plan).where(
        Plan.id == plan_id, Plan.status == "running",
        sa.or_(Plan.runner.is_(None), Plan.heartbeat_at.is_(None), Plan.heartbeat_at < cutoff))
        .values(runner=runner, heartbeat_at=now, started_at=now)).rowcount
    session.commit()
    return bool(n)


def _previous_draft(session: so.Session, plan: Plan) -> list[dict[str, Any]]:
    """The draft a re-run keeps as much of as it can: the one it is based on,
    else the month's latest finished draft."""
    prev = session.get(Plan, plan.based_on_id) if plan.based_on_id else session.scalar(
        sa.select(Plan).where(Plan.month == plan.month, Plan.id < plan.id, Plan.result.is_not(None))
        .order_by(Plan.id.desc()).limit(1))
    return list(prev.result["placed"]) if prev is not None and prev.result else []


def result_json(result: dp.PlanResult, tz) -> dict[str, Any]:
    """The draft as stored: instants in the park's time."""
    def _iso(d: datetime | date) -> str:
        return (d.astimezone(tz) if isinstance(d, datetime) else d).isoformat()

    s = result.stats
    return {
        "placed": [{"request_id": p.request_id, "date": _iso(p.date), "room_id": p.room_id,
                    "starts_at": _iso(p.starts_at), "ends_at": _iso(p.ends_at), "pinned": p.pinned}
                   for p in sorted(result.placed, key=lambda p: (p.starts_at, p.room_id))],
        "unplaced": [{"request_id": u.request_id, "date": _iso(u.date), "code": u.code, "params": u.params,
                      "blocking": [{"kind": b.kind, "id": b.id} for b in u.blocking],
                      "alternatives": [{"room_id": a.room_id, "starts_at": _iso(a.starts_at),
                                        "ends_at": _iso(a.ends_at)} for a in u.alternatives]}
                     for u in sorted(result.unplaced, key=lambda u: (u.date, u.request_id))],
        "stats": {k: s.get(k) for k in ("occurrences", "candidates", "parts", "greedy_objective",
                                        "greedy_placed", "placed_demand", "greedy_demand", "seconds", "cancelled")},
        "objective": result.objective, "bound": result.bound, "gap": round(result.gap, 6),
    }


def _progress_json(p: dp.Progress) -> dict[str, Any]:
    return {"placed": p.placed, "objective": p.objective, "bound": p.bound, "gap": round(p.gap, 6),
            "phase": p.phase, "elapsed": round(p.elapsed, 1)}


def execute(open_session: Callable[[], so.Session], plan_id: int, runner: str) -> str | None:
    """Claim and solve the plan; returns its final status (None: not claimed).
    `open_session` gives a new session (the watcher beats in its own)."""
    session = open_session()
    try:
        if not claim(session, plan_id, runner):
            return None
        plan = session.get(Plan, plan_id)
        try:
            month = month_input(session, plan.month, plan.request_ids, pins=plan.pins,
                                accepted=_previous_draft(session, plan))
            limit = plan.time_limit_seconds
            session.rollback()  # nothing held while solving (SQLite: no write lock); no row touched after
            result = _solve(open_session, plan_id, runner, month, limit)
            draft = result_json(result, month.tz)
        except Exception as exc:  # recorded on the row; the page shows it
            log.exception("plan %s failed", plan_id)
            session.rollback()
            _finish(session, plan_id, runner, status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
            return "failed"
        return _finish(session, plan_id, runner, status="done", result=result, draft=draft)
    finally:
        session.close()


def _solve(open_session, plan_id: int, runner: str, month: dp.MonthInput, time_limit: int) -> dp.PlanResult:
    cancel, stop = threading.Event(), threading.Event()
    latest: list[dp.Progress | None] = [None]

    def beat() -> bool:
        s = open_session()
        try:
            values: dict[str, Any] = {"heartbeat_at": clock.now()}
            if latest[0] is not None:
                values["progress"] = _progress_json(latest[0])
            n = s.execute(sa.update(Plan).where(Plan.id == plan_id, Plan.status == "running", Plan.runner == runner)
                          .values(**values)).rowcount
            s.commit()
            return bool(n)
        finally:
            s.close()

    def watch() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                if not beat():  # cancelled, or taken over
                    cancel.set()
                    return
            except Exception:  # a missed beat; the next one retries
                log.exception("plan %s heartbeat", plan_id)

    watcher = threading.Thread(target=watch, name=f"plan-{plan_id}-watch", daemon=True)
    watcher.start()
    try:
        return dp.plan_month(month, time_limit=time_limit, gap_limit=GAP_LIMIT,
                             progress=lambda p: latest.__setitem__(0, p), cancel=cancel)
    finally:
        stop.set()
        watcher.join()


def _finish(session: so.Session, plan_id: int, runner: str, *, status: str, result: dp.PlanResult | None = None,
            draft: dict[str, Any] | None = None, error: str = "") -> str:
    """Write the end of the run: `done` (or stay `cancelled`, the best draft so
    far kept) or `failed`; only the runner that holds the row writes it."""
    values: dict[str, Any] = {"finished_at": clock.now(), "heartbeat_at": clock.now(), "error": error}
    if result is not None:
        values["result"] = draft
        values["progress"] = {"placed": len(result.placed), "objective": result.objective, "bound": result.bound,
                              "gap": round(result.gap, 6), "phase": "done",
                              "elapsed": result.stats.get("seconds")}
    mine = (Plan.id == plan_id, Plan.runner == runner)
    n = session.execute(sa.update(Plan).where(*mine, Plan.status == "running").values(status=status, **values)).rowcount
    if not n:  # cancelled meanwhile: keep the status, store the draft
        session.execute(sa.update(Plan).where(*mine, Plan.status == "cancelled").values(**values))
        status = "cancelled"
    session.commit()
    return status
