"""The background scheduler: idempotent sweepers over the database.

Run it in exactly one process (`flask --app wsgi scheduler`). The development
server may embed it (OPSROOM_EMBED_SCHEDULER=1) behind a file lock so a
reloader or a second process does not start another.
"""
from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from opsroom.db import intent

log = logging.getLogger(__name__)


def sweep_job(app) -> None:
    from opsroom.services import lifecycle

    with app.app_context(), intent(write=True):
        session = app.extensions["opsroom.sessionmaker"]()
        try:
            counts = lifecycle.sweep(session, grace_minutes=app.config["NO_SHOW_GRACE_MINUTES"])
            if any(counts.values()):
                log.info("sweep: %s", counts)
        except Exception:  # a failed sweep is retried on the next tick
            session.rollback()
            log.exception("sweep failed")
        finally:
            session.close()


def _add_jobs(scheduler, app) -> None:
    scheduler.add_job(
        sweep_job, "interval", args=[app], seconds=app.config["SCHEDULER_SWEEP_SECONDS"],
        id="sweep", max_instances=1, coalesce=True, replace_existing=True,
    )


def run_forever(app) -> None:
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"])
    _add_jobs(scheduler, app)
    sweep_job(app)
    scheduler.start()


_lock_file = None


def start_embedded(app) -> bool:
    """Start a background scheduler unless another process holds the lock."""
    global _lock_file
    if os.environ.get("WERKZEUG_RUN_MAIN") == "false":
        return False
    path = Path(app.instance_path) / "scheduler.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False
    _lock_file = handle
    scheduler = BackgroundScheduler(timezone=app.config["TIMEZONE"], daemon=True)
    _add_jobs(scheduler, app)
    scheduler.start()
    app.extensions["opsroom.scheduler"] = scheduler
    return True
