"""The web process's planner: plan runs solved in worker threads, outside the
web request that started them (the run's state is its `plans` row, see
`opsroom/services/planning/runs.py`; the CLI solves in its own process).

`deferred` keeps submitted runs until `drain()` runs them in the calling thread:
tests that share one database connection between the app and themselves use it.
"""
from __future__ import annotations

import logging
import os
import socket
import threading

from opsroom.db import intent
from opsroom.services.planning import runs

log = logging.getLogger(__name__)


def runner_name(plan_id: int) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{plan_id}"[:120]


class Planner:
    def __init__(self, app) -> None:
        self.app = app
        self.deferred = False
        self.pending: list[int] = []
        self.threads: dict[int, threading.Thread] = {}

    def submit(self, plan_id: int) -> None:
        if self.deferred:
            self.pending.append(plan_id)
            return
        thread = threading.Thread(target=self.run, args=(plan_id,), name=f"plan-{plan_id}", daemon=True)
        self.threads[plan_id] = thread
        thread.start()

    def run(self, plan_id: int) -> str | None:
        """Solve one run in this thread, in an app context (Babel) and sessions of its own."""
        with self.app.app_context(), intent(write=True):
            try:
                return runs.execute(self.app.extensions["opsroom.sessionmaker"], plan_id, runner_name(plan_id))
            except Exception:  # the row is failed by the sweep once its heartbeat stops
                log.exception("plan %s runner", plan_id)
                return None

    def drain(self) -> list[str | None]:
        out = []
        while self.pending:
            out.append(self.run(self.pending.pop(0)))
        return out

    def join(self, plan_id: int, timeout: float | None = None) -> None:
        thread = self.threads.get(plan_id)
        if thread is not None:
            thread.join(timeout)


def init_app(app) -> None:
    app.extensions["opsroom.planner"] = Planner(app)
