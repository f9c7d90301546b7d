"""The outbox and its sender against real local receivers (tests/support/receivers.py)
that check every signature the way each platform does, on a clock the test moves:

- a cancellation reaches a WeCom, a signed DingTalk and a signed Feishu robot and
  a Standard Webhooks receiver, each exactly once, and a second run sends nothing;
- a rolled-back change sends nothing (the event is written in its transaction);
- 100 events reach one robot at ≤ 20 a minute, all of them (merged digests);
- a receiver answering 500 for a while loses nothing: retried with backoff,
  the same webhook-id on every attempt, delivered once it recovers;
- a platform's "too fast" pauses the robot and loses nothing.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.models import Delivery
from opsroom.services.bookings import lifecycle
from opsroom.services.integrations import outbox, sender, targets
from tests.conftest import at
from tests.support.receivers import DingTalkRobot, FeishuRobot, WebhookReceiver, WeComRobot

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def park_clock() -> float:
    return clock.now().timestamp()


@pytest.fixture
def receivers():
    started = []

    def start(receiver):
        started.append(receiver.start())
        return receiver

    yield start
    for r in started:
        r.stop()


def run_until_quiet(session, *, step: float = 5.0, limit: int = 400) -> int:
    """Run the sender, moving the clock `step` seconds between runs, until nothing waits."""
    runs = 0
    while runs < limit:
        sender.send_due(session)
        runs += 1
        left = session.scalar(sa.select(sa.func.count()).select_from(Delivery)
                              .where(Delivery.state.in_(("pending", "sending"))))
        if not left:
            return runs
        clock.advance(timedelta(seconds=step))
    raise AssertionError("deliveries still waiting")


def test_a_cancellation_reaches_every_robot_and_webhook_once(db_session, make, receivers):
    admin = make.user("admin")
    wecom = receivers(WeComRobot(clock=park_clock))
    ding = receivers(DingTalkRobot(secret="SECding", clock=park_clock))
    feishu = receivers(FeishuRobot(secret="feishu-secret", per_minute=20, clock=park_clock))
    hook = receivers(WebhookReceiver(SECRET, clock=park_clock))
    for kind, receiver, secret in (("wecom", wecom, ""), ("dingtalk", ding, "SECding"),
                                   ("feishu", feishu, "feishu-secret")):
        targets.create_robot(db_session, admin, {"kind": kind, "url": receiver.url, "secret": secret,
                                                 "events": ["booking.cancelled"]})
    targets.create_webhook(db_session, admin, {"url": hook.url, "secret": SECRET, "events": ["booking.cancelled"]})
    booking = make.booking(starts_at=at(1, 20), title="秋冬新品专场")

    lifecycle.cancel_booking(db_session, make.user("coordinator"), booking.id, reason="商家改期")
    sender.send_due(db_session)
    clock.advance(timedelta(minutes=5))
    sender.send_due(db_session)  # nothing left: a second run sends nothing again

    for receiver in (wecom, ding, feishu, hook):
        assert len(receiver.accepted) == 1, [s.reason for s in receiver.seen]
        assert len(receiver.seen) == 1
    body = hook.accepted[0].json()
    assert body["type"] == "booking.cancelled"
    assert body["data"]["id"] == booking.id and body["data"]["reason"] == "商家改期"
    assert body["data"]["starts_at"].endswith("+08:00")
    assert f"/bookings/{booking.id}" in wecom.accepted[0].json()["markdown"]["content"]
    assert "取消" in ding.accepted[0].json()["markdown"]["title"]
    states = db_session.scalars(sa.select(Delivery.state)).all()
    assert states == ["sent"] * 4


def test_a_rolled_back_change_sends_nothing(db_session, make, receivers):
    admin = make.user("admin")
    hook = receivers(WebhookReceiver(SECRET, clock=park_clock))
    targets.create_webhook(db_session, admin, {"url": hook.url, "secret": SECRET, "events": ["booking.cancelled"]})
    booking = make.booking(starts_at=at(1, 20))
    outbox.booking_cancelled(db_session, booking)
    db_session.rollback()
    sender.send_due(db_session)
    assert hook.seen == []
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0


def test_a_hundred_events_reach_a_robot_at_most_twenty_a_minute_all_of_them(db_session, make, receivers):
    admin = make.user("admin")
    wecom = receivers(WeComRobot(clock=park_clock))
    targets.create_robot(db_session, admin, {"kind": "wecom", "url": wecom.url, "events": ["booking.created"]})
    for n in range(1, 101):
        outbox.emit(db_session, "booking.created", {"id": n, "room_code": "A101", "tenant": "商家",
                                                    "starts_at": "2026-11-21T20:00:00+08:00",
                                                    "ends_at": "2026-11-21T22:00:00+08:00"})
    db_session.commit()

    run_until_quiet(db_session)

    assert wecom.most_in_any(60) <= 20
    assert all(s.reason == "accepted" for s in wecom.seen)  # never throttled: we kept the limit ourselves
    told = set()
    for seen in wecom.accepted:
        told.update(int(n) for n in re.findall(r"/bookings/(\d+)", seen.json()["markdown"]["content"]))
    assert told == set(range(1, 101))
    assert len(wecom.accepted) < 100  # merged, not dropped
    assert set(db_session.scalars(sa.select(Delivery.state))) == {"sent"}


def test_a_receiver_answering_500_for_a_while_loses_nothing(db_session, make, receivers):
    admin = make.user("admin")
    hook = receivers(WebhookReceiver(SECRET, clock=park_clock))
    targets.create_webhook(db_session, admin, {"url": hook.url, "secret": SECRET, "events": ["session.started"]})
    hook.fail_for(10 * 60, status=500)
    for n in range(1, 4):
        outbox.emit(db_session, "session.started", {"id": n, "starts_at": "2026-11-20T10:00:00+08:00",
                                                    "ends_at": "2026-11-20T12:00:00+08:00"})
    db_session.commit()

    first = clock.now()
    sender.send_due(db_session)
    retry = db_session.scalars(sa.select(Delivery)).all()
    assert {d.state for d in retry} == {"pending"}
    assert all(timedelta(0) < d.next_at - first <= timedelta(seconds=60) for d in retry)  # first retry ≤ 60 s
    run_until_quiet(db_session, step=30)

    assert len(hook.accepted) == 3
    ids = hook.ids()
    assert len(set(ids)) == 3
    failed_ids = {s.headers["webhook-id"] for s in hook.seen if s.status == 500}
    assert failed_ids == set(ids)  # every retry carried the same webhook-id
    attempts = db_session.scalars(sa.select(Delivery.attempts)).all()
    assert min(attempts) >= 3  # backoff 30 s, 60 s, 120 s … within the 10 minutes of failure


def test_a_throttled_robot_pauses_and_loses_nothing(db_session, make, receivers):
    admin = make.user("admin")
    ding = receivers(DingTalkRobot(clock=park_clock))
    targets.create_robot(db_session, admin, {"kind": "dingtalk", "url": ding.url, "events": ["session.ended"]})
    ding.throttle_next(1)
    for n in range(1, 4):
        outbox.emit(db_session, "session.ended", {"id": n, "starts_at": "2026-11-20T08:00:00+08:00",
                                                  "ends_at": "2026-11-20T10:00:00+08:00"})
    db_session.commit()
    sender.send_due(db_session)
    assert len(ding.seen) == 1 and not ding.accepted
    clock.advance(timedelta(minutes=5))
    sender.send_due(db_session)
    assert len(ding.seen) == 1  # DingTalk's 10-minute penalty is respected
    clock.advance(timedelta(minutes=6))
    run_until_quiet(db_session)
    told = {int(n) for s in ding.accepted for n in re.findall(r"/bookings/(\d+)", s.body.decode())}
    assert told == {1, 2, 3}


def test_an_event_a_robot_cannot_word_fails_alone(db_session, make, receivers):
    admin = make.user("admin")
    wecom = receivers(WeComRobot(clock=park_clock))
    targets.create_robot(db_session, admin, {"kind": "wecom", "url": wecom.url, "events": ["booking.created"]})
    outbox.emit(db_session, "booking.created", {"id": 1})  # no times: no sentence can be made of it
    outbox.emit(db_session, "booking.created", {"id": 2, "starts_at": "2026-11-21T20:00:00+08:00",
                                                "ends_at": "2026-11-21T22:00:00+08:00"})
    db_session.commit()
    sender.send_due(db_session)
    states = dict(db_session.execute(sa.select(Delivery.event_id, Delivery.state).order_by(Delivery.id)).all())
    assert list(states.values()) == ["failed", "sent"]
    assert len(wecom.accepted) == 1
