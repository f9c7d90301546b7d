"""The background scheduler: idempotent sweepers over the database.

Any number of `flask --app wsgi scheduler` processes may run, on any hosts:
each is a node that ticks every sweep interval; the one that holds the leader
lock (opsroom/leader.py) runs the jobs, the others stand by and try again on
their next tick, so a dead node is replaced within two sweep intervals.
`make run` embeds a node in the development server (same election).

The acting node writes a heartbeat row each tick, and every job run leaves its
last run, last error and next run in `job_records` (health, the admin page).
Jobs never trust the election alone: each is a sweeper whose writes are
conditional or keyed, so even two acting nodes would neither repeat nor lose
work.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import datetime, timezone
from typing import Callable

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from opsroom import clock, leader
from opsroom.db import intent
from opsroom.services.reporting.refresh import refresh_job

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# The jobs: each takes (app, session) and commits its own work.


def _sweep(app, session):
    from opsroom.services.bookings import lifecycle

    return lifecycle.sweep(session, grace_minutes=app.config["NO_SHOW_GRACE_MINUTES"])


def _anchor_reminders(app, session):
    from opsroom.services.operations import reminders

    return reminders.remind_anchors(session)


def _hold_warnings(app, session):
    from opsroom.services.operations import reminders

    return reminders.warn_expiring_holds(session)


def _daily_summary(app, session):
    from opsroom.services.operations import reminders

    return reminders.send_daily_summary(session)


def _email(app, session):
    from opsroom.services.operations import mailer

    return mailer.send_due_emails(session, app.config)


def _report_rollups(app, session):

    return refresh_job(session)


def _sales_quarters(app, session):
    from opsroom.services.sales import screen

    return {"folded": screen.compact_quarters(session)}


# id → function; every job runs each sweep interval (they are all "what is due now?").
JOBS: dict[str, Callable] = {
    "sweep": _sweep,
    "anchor_reminders": _anchor_reminders,
    "hold_warnings": _hold_warnings,
    "daily_summary": _daily_summary,
    "email": _email,
    "report_rollups": _report_rollups,
    "sales_quarters": _sales_quarters,
}


def run_job(app, job_id: str, next_run: datetime | None = None) -> bool:
    """Run one job in its own app context and session, and record the outcome.
    A failure is logged, recorded and retried on the next tick. Returns success."""
    with app.app_context(), intent(write=True):
        session = app.extensions["opsroom.sessionmaker"]()
        error = None
        try:
            result = JOBS[job_id](app, session)
            if result and (not isinstance(result, dict) or any(result.values())):
                log.info("%s: %s", job_id, result)
        except Exception as exc:  # recorded, retried next tick
            session.rollback()
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed", job_id)
        finally:
            session.close()
        try:
            record_run(app, job_id, error, next_run)
        except Exception:
            log.exception("could not record the run of %s", job_id)
        return error is None


# ---------------------------------------------------------------------------
# Records: upserts on both engines


def _upsert(session, table, values: dict, key: str, update: dict) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=update))


def record_run(app, job_id: str, error: str | None, next_run: datetime | None) -> None:
    from opsroom.models import JobRecord

    now = clock.now()
    t = JobRecord.__table__
    with app.app_context(), intent(write=True):
        session = app.extensions["opsroom.sessionmaker"]()
        try:
            values = {"job_id": job_id, "node": node_name(), "last_run": now, "next_run": next_run, "runs": 1,
                      "failures": 1 if error else 0, "last_error": error and error[:2000],
                      "last_error_at": now if error else None}
            update = {"node": values["node"], "last_run": now, "next_run": next_run, "runs": t.c.runs + 1}
            if error:
                update.update(last_error=values["last_error"], last_error_at=now, failures=t.c.failures + 1)
            else:
                update.update(failures=0)
            _upsert(session, t, values, "job_id", update)
            session.commit()
        finally:
            session.close()


def beat(app, acting_since: datetime) -> None:
    from opsroom.models import SchedulerHeartbeat

    now = clock.now()
    with app.app_context(), intent(write=True):
        session = app.extensions["opsroom.sessionmaker"]()
        try:
            values = {"id": 1, "node": node_name(), "acting_since": acting_since, "beat_at": now}
            _upsert(session, SchedulerHeartbeat.__table__, values, "id",
                    {"node": values["node"], "acting_since": acting_since, "beat_at": now})
            session.commit()
        finally:
            session.close()


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------------
# A node: stands by, or acts while it holds the leader lock


class Node:
    def __init__(self, app):
        self.app = app
        self.interval = app.config["SCHEDULER_SWEEP_SECONDS"]
        self.leadership = leader.for_engine(app.extensions["opsroom.engine"], app.instance_path)
        self.scheduler: BackgroundScheduler | None = None
        self.acting_since: datetime | None = None
        self.stopped = threading.Event()

    @property
    def acting(self) -> bool:
        return self.scheduler is not None

    def tick(self) -> None:
        """Once per sweep interval: keep or take the lead, and beat while acting."""
        if self.acting and not self.leadership.still_held():
            log.warning("scheduler %s: lost the lead; standing by", node_name())
            self._stop_jobs()
        if not self.acting and self.leadership.acquire():
            log.warning("scheduler %s: acting", node_name())
            self._start_jobs()
        if self.acting:
            try:
                beat(self.app, self.acting_since)
            except Exception:
                log.exception("heartbeat failed")

    def _start_jobs(self) -> None:
        self.acting_since = clock.now()
        scheduler = BackgroundScheduler(timezone=self.app.config["TIMEZONE"], daemon=True)
        first = datetime.now(timezone.utc)
        for job_id in JOBS:
            scheduler.add_job(self._run, "interval", args=[job_id], seconds=self.interval, id=job_id,
                              max_instances=1, coalesce=True, replace_existing=True, next_run_time=first)
        scheduler.start()
        self.scheduler = scheduler

    def _run(self, job_id: str) -> None:
        job = self.scheduler.get_job(job_id) if self.scheduler else None
        run_job(self.app, job_id, job.next_run_time if job else None)

    def _stop_jobs(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        self.leadership.release()

    def run(self) -> None:
        """Tick until stopped (the foreground command, or the embedded thread)."""
        try:
            while not self.stopped.is_set():
                try:
                    self.tick()
                except Exception:
                    log.exception("scheduler tick failed")
                self.stopped.wait(self.interval)
        finally:
            self._stop_jobs()

    def stop(self) -> None:
        self.stopped.set()


def run_forever(app) -> None:
    """`flask --app wsgi scheduler`: a node in the foreground until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    node = Node(app)
    # A service manager's SIGTERM stops the jobs and hands the lead over at once.
    signal.signal(signal.SIGTERM, lambda *_: node.stop())
    node.run()


def start_embedded(app) -> bool:
    """A node in a daemon thread of the development server (not in the
    reloader's watcher process). It acts only if it wins the election."""
    if os.environ.get("WERKZEUG_RUN_MAIN") == "false":
        return False
    node = Node(app)
    thread = threading.Thread(target=node.run, name="opsroom-scheduler", daemon=True)
    thread.start()
    app.extensions["opsroom.scheduler"] = node
    return True


def stale_after(config) -> int:
    """Seconds after which a heartbeat is stale: two sweep intervals unless set."""
    return config.get("SCHEDULER_STALE_SECONDS") or 2 * config["SCHEDULER_SWEEP_SECONDS"]


def heartbeat_state(session, config) -> dict:
    """The heartbeat row and each job's record, with what is wrong."""
    from opsroom.models import JobRecord, SchedulerHeartbeat

    now = clock.now()
    limit = stale_after(config)
    hb = session.get(SchedulerHeartbeat, 1)
    stale = hb is None or (now - hb.beat_at).total_seconds() > limit
    jobs = []
    records = {r.job_id: r for r in session.scalars(sa.select(JobRecord))}
    for job_id in list(JOBS) + sorted(set(records) - set(JOBS)):
        r = records.get(job_id)
        overdue = bool(r and r.next_run and (now - r.next_run).total_seconds() > limit)
        jobs.append({"id": job_id, "last_run": r.last_run if r else None, "last_error": r.last_error if r else None,
                     "last_error_at": r.last_error_at if r else None, "next_run": r.next_run if r else None,
                     "failing": bool(r and r.failures), "overdue": overdue, "node": r.node if r else None})
    return {"last_heartbeat": hb.beat_at if hb else None, "node": hb.node if hb else None,
            "acting_since": hb.acting_since if hb else None, "stale": stale, "jobs": jobs}
