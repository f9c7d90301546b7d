"""The sender waits on receivers outside any transaction: while a receiver takes
its time, the rest of the park keeps writing (on SQLite an open write
transaction over the network would hold the one write lock for the whole wait).
Here the receiver itself writes to the database while it answers; real commits."""
from __future__ import annotations

import time

import pytest

from opsroom import clock
from opsroom.models import Tenant
from opsroom.services.integrations import outbox, sender, targets
from tests.support.factories import Factory
from tests.support.live import query
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.live
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_a_receiver_can_write_while_the_sender_waits_for_it(committed_app):
    app = committed_app
    waits: list[float] = []

    class WritingReceiver(WebhookReceiver):
        def check(self, now, path, query_, headers, body):
            started = time.monotonic()
            query(app, lambda s: (s.add(Tenant(name=f"写入 {len(waits)}")), s.commit()))
            waits.append(time.monotonic() - started)
            return super().check(now, path, query_, headers, body)

    receiver = WritingReceiver(SECRET, clock=lambda: clock.now().timestamp()).start()
    try:
        def arrange(session):
            admin = Factory(session).user("admin")
            targets.create_webhook(session, admin, {"url": receiver.url, "secret": SECRET,
                                                    "events": ["session.started"]})
            for n in (1, 2):
                outbox.emit(session, "session.started", {"id": n, "starts_at": "2026-11-20T10:00:00+08:00",
                                                        "ends_at": "2026-11-20T12:00:00+08:00"})
            session.commit()

        query(app, arrange)
        counts = query(app, sender.send_due)
    finally:
        receiver.stop()
    assert counts["sent"] == 2 and len(receiver.accepted) == 2, (counts, waits, receiver.seen)
    assert max(waits) < 1.0, waits  # the sender's attempt timeout is 5 s: a held lock would show
