"""The background scheduler's process: which node acts, and when each job runs.

What the jobs are, and the records they leave, is
`opsroom/services/operations/scheduler.py`.

Any number of `flask --app wsgi scheduler` processes may run, on any hosts:
each is a node that ticks every sweep interval; the one that holds the leader
lock (opsroom/leader.py) runs the jobs, the others stand by and try again on
their next tick, so a dead node is replaced within two sweep intervals.
`make run` embeds a node in the development server (same election).

The acting node writes a heartbeat row each tick. Jobs never trust the
election alone: each is a sweeper whose writes are conditional or keyed, so
even two acting nodes would neither repeat nor lose work.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import datetime, timezone
from apscheduler.schedulers.background import BackgroundScheduler

from opsroom import clock, leader
from opsroom.db import intent
from opsroom.services.operations import scheduler

log = logging.getLogger(__name__)


def _with_session(app, call):
    """Run `call(session)` in an app context (Babel for the notices) and a session of its own."""
    with app.app_context(), intent(write=True):
        session = app.extensions["opsroom.sessionmaker"]()
        try:
            return call(session)
        finally:
            session.close()


def run_job(app, job_id: str, next_run: datetime | None = None) -> bool:
    """Run one job in its own app context and session, and record the outcome.
    A failure is logged, recorded and retried on the next tick. Returns success."""
    error = None

    def run(session):
        nonlocal error
        try:
            result = scheduler.JOBS[job_id](session)
            if result and (not isinstance(result, dict) or any(result.values())):
                log.info("%s: %s", job_id, result)
        except Exception as exc:  # recorded, retried next tick
            session.rollback()
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed", job_id)

    _with_session(app, run)
    try:
        _with_session(app, lambda session: scheduler.record_run(session, job_id, node_name(), error, next_run))
    except Exception:
        log.exception("could not record the run of %s", job_id)
    return error is None


def beat(app, acting_since: datetime) -> None:
    _with_session(app, lambda session: scheduler.beat(session, node_name(), acting_since))


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------------
# A node: stands by, or acts while it holds the leader lock


class Node:
    def __init__(self, app):
        self.app = app
        self.interval = app.extensions["opsroom.settings"].scheduler_sweep_seconds
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
        background = BackgroundScheduler(timezone=self.app.extensions["opsroom.settings"].timezone, daemon=True)
        first = datetime.now(timezone.utc)
        settings = self.app.extensions["opsroom.settings"]
        for job_id in scheduler.JOBS:
            background.add_job(self._run, "interval", args=[job_id], seconds=scheduler.interval_of(job_id, settings),
                               id=job_id,
                               max_instances=1, coalesce=True, replace_existing=True, next_run_time=first)
        background.start()
        self.scheduler = background

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
