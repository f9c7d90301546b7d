"""A real `flask --app wsgi scheduler` process sends webhooks to a real receiver
(which takes a while to answer) and is killed (-9) halfway; a second scheduler
takes over. Nothing is lost, and no delivery the database had recorded as
acknowledged is sent again: only the one attempt in flight at the kill may
arrive twice, with the same webhook-id (at least once, never "acknowledged twice")."""
from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from config import TestConfig
from opsroom import create_app
from opsroom.models import Delivery
from opsroom.services.integrations import outbox, targets
from tests.conftest import BACKENDS
from tests.support.factories import Factory
from tests.support.live import SchedulerProcesses, backend_url, provision_database, query, wait_for
from tests.support.receivers import WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EVENTS = 8
BATCH = 3  # claimed per run: a dead sender's claim (3 × 1 s timeout + 2 s) lapses in 5 s


class SlowReceiver(WebhookReceiver):
    """Answers after 0.3 s, so a kill lands while a request is in flight."""

    def check(self, now, path, query, headers, body):
        time.sleep(0.3)
        return super().check(now, path, query, headers, body)



@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    db_url, cleanup = provision_database(backend_url(request.param))
    receiver = SlowReceiver(SECRET).start()
    app = create_app(TestConfig, DATABASE_URL=db_url)
    env = {**os.environ, "OPSROOM_DATABASE_URL": db_url, "OPSROOM_SECRET_KEY": "sender-test",
           "OPSROOM_SCHEDULER_SWEEP_SECONDS": "1", "OPSROOM_INTEGRATIONS_SWEEP_SECONDS": "1",
           "OPSROOM_INTEGRATIONS_TIMEOUT_SECONDS": "1", "OPSROOM_INTEGRATIONS_BATCH": str(BATCH)}
    env.pop("OPSROOM_EMBED_SCHEDULER", None)
    schedulers = SchedulerProcesses(env, tmp_path)

    yield {"app": app, "receiver": receiver, "start": schedulers.start}
    schedulers.stop()
    receiver.stop()
    app.extensions["opsroom.engine"].dispose()
    cleanup()


def test_a_killed_sender_loses_nothing_and_resends_nothing_acknowledged(world):
    app, receiver = world["app"], world["receiver"]

    def arrange(session):
        admin = Factory(session).user("admin")
        targets.create_webhook(session, admin, {"url": receiver.url, "secret": SECRET, "events": ["session.ended"]})
        for n in range(1, EVENTS + 1):
            outbox.emit(session, "session.ended", {"id": n, "starts_at": "2026-11-20T08:00:00+08:00",
                                                  "ends_at": "2026-11-20T10:00:00+08:00"})
        session.commit()
        return dict(session.execute(sa.select(Delivery.msg_id, Delivery.id)).all())

    ids = query(app, arrange)
    first = world["start"]()
    wait_for(lambda: len(receiver.accepted) >= 3, 30, "the first deliveries")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    acknowledged = set(query(app, lambda s: s.scalars(sa.select(Delivery.msg_id).where(Delivery.state == "sent")).all()))
    assert 0 < len(acknowledged) < EVENTS

    world["start"]()
    wait_for(lambda: query(app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(Delivery)
                                                  .where(Delivery.state == "sent"))) == EVENTS, 40, "every delivery")

    received = Counter(receiver.ids())
    assert set(received) == set(ids)  # nothing lost
    assert all(received[m] == 1 for m in acknowledged)  # nothing acknowledged is sent again
    assert sum(received.values()) - len(received) <= 1  # only the attempt in flight at the kill
