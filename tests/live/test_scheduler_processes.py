"""Real `flask --app wsgi scheduler` processes (two at once) against a real
database and a real SMTP server: exactly one acts; when it is killed (-9),
the other takes over within two sweep intervals, and every reminder is
emailed exactly once. On PostgreSQL the election is an advisory lock, on
SQLite a file lock beside the database file."""
from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from config import TestConfig
from opsroom import create_app
from opsroom.models import JobRecord, Notification, SchedulerHeartbeat
from tests.conftest import BACKENDS
from tests.support.factories import Factory
from tests.support.live import SchedulerProcesses, backend_url, provision_database, query, wait_for
from tests.support.mail import SmtpServer

INTERVAL = 1  # seconds between sweeps (and between a standby's tries)



@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    """A fresh database, an SMTP server, and an app to arrange data with (real commits)."""
    db_url, cleanup = provision_database(backend_url(request.param))
    smtp = SmtpServer().start()
    app = create_app(TestConfig, DATABASE_URL=db_url)
    env = {**os.environ, "OPSROOM_DATABASE_URL": db_url, "OPSROOM_SECRET_KEY": "scheduler-test",
           "OPSROOM_SCHEDULER_SWEEP_SECONDS": str(INTERVAL), "OPSROOM_SMTP_HOST": "127.0.0.1",
           "OPSROOM_SMTP_PORT": str(smtp.port), "OPSROOM_SMTP_SECURITY": "none", "OPSROOM_REMINDER_MINUTES_BEFORE": "60"}
    env.pop("OPSROOM_EMBED_SCHEDULER", None)
    schedulers = SchedulerProcesses(env, tmp_path)

    yield {"app": app, "smtp": smtp.inbox, "start": schedulers.start, "backend": request.param, "logs": tmp_path}
    schedulers.stop()
    smtp.stop()
    app.extensions["opsroom.engine"].dispose()
    cleanup()


def acting_pid(app) -> int | None:
    hb = query(app, lambda s: s.get(SchedulerHeartbeat, 1))
    return int(hb.node.rsplit(":", 1)[1]) if hb else None


def session_soon(app, name: str) -> int:
    """A confirmed session starting in 20 real minutes, with an anchor who logs in."""
    def arrange(session):
        make = Factory(session)
        user = make.user("anchor", email=f"{name}@park.example")
        anchor = make.anchor(user_id=user.id)
        start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=20)
        booking = make.booking(starts_at=start, ends_at=start + timedelta(hours=1))
        make.assign(booking, anchor)
        return booking.id

    return query(app, arrange)


def emails_for(smtp, booking_id: int) -> int:
    return sum(1 for m in smtp.messages if f":{booking_id}:" in str(m["X-Opsroom-Notice"]))


def test_two_schedulers_one_acts_and_the_other_takes_over(world):
    app, smtp = world["app"], world["smtp"]
    a, b = world["start"](), world["start"]()
    first = wait_for(lambda: acting_pid(app), 30, "a scheduler to act")
    assert first in (a.pid, b.pid)
    acting, standby = (a, b) if first == a.pid else (b, a)

    one = session_soon(app, "first")
    wait_for(lambda: emails_for(smtp, one), 20, "the first reminder's email")
    # Every job ran on the acting node only.
    nodes = query(app, lambda s: set(s.scalars(sa.select(JobRecord.node))))
    assert {int(n.rsplit(":", 1)[1]) for n in nodes} == {acting.pid}

    acting.send_signal(signal.SIGKILL)
    acting.wait(10)
    killed_at = time.monotonic()
    two = session_soon(app, "second")
    wait_for(lambda: acting_pid(app) == standby.pid, 4 * INTERVAL + 10, "the standby to take over")
    took = time.monotonic() - killed_at
    wait_for(lambda: emails_for(smtp, two), 20, "the second reminder's email")
    time.sleep(2 * INTERVAL)  # more sweeps: nothing is sent again

    assert emails_for(smtp, one) == 1 and emails_for(smtp, two) == 1, [m["X-Opsroom-Notice"] for m in smtp.messages]
    keys = query(app, lambda s: Counter(s.scalars(sa.select(Notification.booking_id))))
    assert keys == {one: 1, two: 1}
    assert standby.poll() is None
    # Two sweep intervals, plus a little for a loaded CI machine.
    assert took <= 2 * INTERVAL + 2, f"takeover took {took:.1f} s"
