"""What the background scheduler runs, and what it leaves behind.

Every job is a sweeper over the database ("what is due now?") whose writes are
conditional or keyed, so running it twice, or on two schedulers at once,
neither repeats nor loses work. Each runs once per sweep interval in a session
of its own and commits its own work. The acting scheduler node writes a
heartbeat row each tick, and every run leaves its last run, last error and
next run in `job_records` (health, the admins' operations page). The process
that runs them (election, timing) is `opsroom/jobs.py`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import is_postgres
from opsroom.models import JobRecord, SchedulerHeartbeat
from opsroom.services.bookings import lifecycle
from opsroom.services.integrations import alerts, sender
from opsroom.services.operations import mailer, reminders
from opsroom.services.planning.runs import fail_stale as fail_stale_plans
from opsroom.services.reporting.refresh import refresh_job
from opsroom.services.requests import waitlist  # noqa: F401  (the sweep's expired holds go to the waitlist)
from opsroom.services.sales.forecast import refresh_forecasts
from opsroom.services.sales.screen import compact_quarters
from opsroom.settings import settings_of
from opsroom.services.transaction import transactional

# id → the sweeper it runs.
JOBS: dict[str, Callable[[so.Session], Any]] = {
    "sweep": lifecycle.sweep,
    "anchor_reminders": reminders.remind_anchors,
    "hold_warnings": reminders.warn_expiring_holds,
    "daily_summary": reminders.send_daily_summary,
    "email": mailer.send_due_emails,
    "report_rollups": refresh_job,
    "sales_quarters": lambda session: {"folded": compact_quarters(session)},
    "forecasts": refresh_forecasts,
    "capacity_alerts": lambda session: {"announced": alerts.announce_capacity_alerts(session)},
    "integrations": sender.send_due,
    "stale_plans": fail_stale_plans,
}
# Jobs that run more often than the sweep interval: the outbox sender's first
# attempt must come within 30 s of the event (docs/api.md, Integrations).
FAST_JOBS = {"integrations": "integrations_sweep_seconds"}


def interval_of(job_id: str, settings) -> int:
    """Seconds between two runs of `job_id`."""
    field = FAST_JOBS.get(job_id)
    own = getattr(settings, field) if field else None
    return min(own, settings.scheduler_sweep_seconds) if own else settings.scheduler_sweep_seconds


def _upsert(session: so.Session, table, values: dict, key: str, update: dict) -> None:
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=update))


@transactional
def record_run(session: so.Session, job_id: str, node: str, error: str | None, next_run: datetime | None) -> None:
    """Count a run of `job_id` (and its error, if any) in its record."""
    now = clock.now()
    t = JobRecord.__table__
    values = {"job_id": job_id, "node": node, "last_run": now, "next_run": next_run, "runs": 1,
              "failures": 1 if error else 0, "last_error": error and error[:2000],
              "last_error_at": now if error else None}
    update = {"node": node, "last_run": now, "next_run": next_run, "runs": t.c.runs + 1}
    if error:
        update.update(last_error=values["last_error"], last_error_at=now, failures=t.c.failures + 1)
    else:
        update.update(failures=0)
    _upsert(session, t, values, "job_id", update)


@transactional
def beat(session: so.Session, node: str, acting_since: datetime) -> None:
    """The acting node's heartbeat: the single row, rewritten."""
    now = clock.now()
    values = {"id": 1, "node": node, "acting_since": acting_since, "beat_at": now}
    _upsert(session, SchedulerHeartbeat.__table__, values, "id",
            {"node": node, "acting_since": acting_since, "beat_at": now})


def _next_run(session: so.Session, job_id: str, record, now: datetime) -> datetime | None:
    """A job's own next run: the next sweep, or, for a job that acts at a set
    time of day, that time (the sweep only checks whether it is due)."""
    sweep_next = record.next_run if record else None
    if job_id == "daily_summary":
        due = reminders.next_summary_at(settings_of(session), now)
        return max(due, sweep_next) if sweep_next else due
    return sweep_next


def heartbeat_state(session: so.Session) -> dict:
    """The heartbeat row and each job's record, with what is wrong: a heartbeat
    older than the stale limit, a job whose last run failed or is overdue."""
    now = clock.now()
    limit = settings_of(session).stale_after_seconds
    hb = session.get(SchedulerHeartbeat, 1)
    stale = hb is None or (now - hb.beat_at).total_seconds() > limit
    jobs = []
    records = {r.job_id: r for r in session.scalars(sa.select(JobRecord))}
    for job_id in list(JOBS) + sorted(set(records) - set(JOBS)):
        r = records.get(job_id)
        overdue = bool(r and r.next_run and (now - r.next_run).total_seconds() > limit)
        jobs.append({"id": job_id, "last_run": r.last_run if r else None, "last_error": r.last_error if r else None,
                     "last_error_at": r.last_error_at if r else None, "next_run": _next_run(session, job_id, r, now),
                     "failing": bool(r and r.failures), "overdue": overdue, "node": r.node if r else None})
    return {"last_heartbeat": hb.beat_at if hb else None, "node": hb.node if hb else None,
            "acting_since": hb.acting_since if hb else None, "stale": stale, "jobs": jobs}
