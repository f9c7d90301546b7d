"""The outbox sender: due deliveries out over HTTP, each outcome kept at once.

Run by the scheduler's acting node every `integrations_sweep_seconds` (job
"integrations"). Rules (docs/integrations.md):

- Claim before sending: the due rows are selected `FOR UPDATE SKIP LOCKED` on
  PostgreSQL (a second sender skips them) and marked "sending" with a lease;
  SQLite serializes writers, so the claim is the same statement there. A claim
  whose sender died lapses at the lease's end and the row is due again.
- Each outcome is committed as soon as the answer is in: a delivery that was
  acknowledged (2xx, or the platform's "ok") stays "sent" and is never sent
  again. Only an attempt whose answer never reached the database (the process
  killed in between) may be repeated: at least once, with the same webhook-id.
- Webhooks: retried with exponential backoff (30 s, 60 s … 1 h, a receiver's
  Retry-After if longer) until a 2xx, a permanent refusal (410) or
  `integrations_max_attempts`; then "failed", shown to admins, sendable again.
- Robots: at most 20 messages a minute each (domain/integrations/throttle):
  what does not fit waits, and the minute's last message merges waiting
  notices into one digest, so nothing is dropped. A platform's "too fast"
  (WeCom 45009, DingTalk 130101, Feishu 11232/9499/99991400, HTTP 429) pauses
  the robot (10 min on DingTalk) without counting as a failed attempt.
"""
from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.domain.integrations import robots as robot_rules
from opsroom.domain.integrations import throttle
from opsroom.domain.integrations.messages import Notice, notice_for
from opsroom.models import Delivery, OutboxEvent, Robot, RobotSend, Webhook
from opsroom.settings import Settings, settings_of

DUE = ("pending", "sending")
MAX_ANSWER_BYTES = 64 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A target is the URL as configured: a redirect could lead a tenant's robot
    # into the park's network, so it is an answer like any other, not followed.
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(request: robot_rules.HttpRequest, timeout: float) -> tuple[int | None, bytes, dict[str, str]]:
    """(status, body, headers) of one POST; status None when no answer came."""
    outgoing = urllib.request.Request(request.url, data=request.body, headers=dict(request.headers), method="POST")
    try:
        with _OPENER.open(outgoing, timeout=timeout) as response:
            return response.status, response.read(MAX_ANSWER_BYTES), dict(response.headers.items())
    except urllib.error.HTTPError as error:
        try:
            body = error.read(MAX_ANSWER_BYTES)
        except OSError:
            body = b""
        return error.code, body, dict(error.headers.items()) if error.headers else {}
    except (OSError, ValueError, http.client.HTTPException) as error:  # refused, timed out, unreachable, malformed
        return None, f"{type(error).__name__}: {error}".encode()[:500], {}


def _between_transactions(session: so.Session) -> None:
    """End the unit of work before waiting on a receiver: no transaction stays open
    over the network (on SQLite it would hold the write lock, stalling every booking).
    Loaded rows stay usable (sessions do not expire on commit)."""
    session.commit()


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")[:500]


def _claim(session: so.Session, settings: Settings) -> list[int]:
    now = clock.now()
    ids = session.scalars(
        sa.select(Delivery.id).where(Delivery.state.in_(DUE), Delivery.next_at <= now)
        .order_by(Delivery.next_at, Delivery.id).limit(settings.integrations_batch)
        .with_for_update(skip_locked=True)).all()
    if ids:
        # Long enough for every claimed attempt to time out once (a robot's waits
        # are not slept through: what must wait is released at once).
        lease = timedelta(seconds=settings.integrations_timeout_seconds * (len(ids) + 2))
        session.execute(sa.update(Delivery).where(Delivery.id.in_(ids)).values(state="sending", next_at=now + lease),
                        execution_options={"synchronize_session": False})
    session.commit()
    return list(ids)


def send_due(session: so.Session) -> dict[str, int]:
    """Send what is due now; returns counts (sent, retried, failed, waiting).
    Commits in steps: the claim, then every outcome as it comes."""
    settings = settings_of(session)
    counts = {"sent": 0, "retried": 0, "failed": 0, "waiting": 0}
    claimed = _claim(session, settings)
    if not claimed:
        return counts
    rows = session.scalars(sa.select(Delivery).options(so.joinedload(Delivery.event))
                           .where(Delivery.id.in_(claimed)).order_by(Delivery.id)).all()
    hooks = {w.id: w for w in session.scalars(
        sa.select(Webhook).where(Webhook.id.in_({d.webhook_id for d in rows if d.webhook_id is not None})))}
    by_robot: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in rows:
        if delivery.robot_id is not None:
            by_robot[delivery.robot_id].append(delivery)
        else:
            counts[attempt_webhook(session, settings, delivery, hooks.get(delivery.webhook_id))] += 1
            session.commit()
    for robot_id, queue in by_robot.items():
        for outcome, n in _send_robot(session, settings, session.get(Robot, robot_id), queue).items():
            counts[outcome] += n
    return counts


# --- webhooks --------------------------------------------------------------------


def webhook_body(session: so.Session, event: OutboxEvent) -> bytes:
    stamp = event.occurred_at.astimezone(settings_of(session).tz).isoformat()
    return robot_rules.webhook_body(event.type, stamp, event.data)


def attempt_webhook(session: so.Session, settings: Settings, delivery: Delivery, hook: Webhook | None,
                    *, retry: bool = True) -> str:
    """One signed attempt; the delivery's state follows the answer. Returns
    "sent", "retried" or "failed". Does not commit."""
    if hook is None or not hook.active:
        return _finish(delivery, "failed", None, b"", "the webhook was removed")
    now = clock.now()
    request = robot_rules.build_webhook_request(hook.url, hook.secret, msg_id=delivery.msg_id,
                                                body=webhook_body(session, delivery.event), now=_epoch(now))
    _between_transactions(session)
    status, answer, headers = post(request, settings.integrations_timeout_seconds)
    outcome = robot_rules.classify_response("webhook", status, answer, headers)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    if outcome.ok:
        return _finish(delivery, "sent", status, answer, "")
    if outcome.retry and retry and delivery.attempts < settings.integrations_max_attempts:
        next_at = throttle.next_attempt_at(outcome, delivery.attempts, _epoch(now), key=delivery.msg_id)
        _record(delivery, status, answer, outcome.message)
        delivery.state, delivery.next_at = "pending", _at(next_at)
        return "retried"
    return _finish(delivery, "failed", status, answer, outcome.message)


def _record(delivery: Delivery, status: int | None, answer: bytes, error: str) -> None:
    delivery.last_status = status
    delivery.last_response = _text(answer) if status is not None else ""
    delivery.last_error = error[:500] if error else ("" if status is not None else _text(answer))


def _finish(delivery: Delivery, state: str, status: int | None, answer: bytes, error: str) -> str:
    _record(delivery, status, answer, error)
    delivery.state, delivery.next_at = state, None
    if state == "sent":
        delivery.sent_at = clock.now()
    return state


# --- robots ----------------------------------------------------------------------


def notice_of(session: so.Session, settings: Settings, event: OutboxEvent) -> Notice:
    """The chat notice of an event (a test message has its own words)."""
    if event.type == "robot.test":
        return Notice("测试消息", "opsroom 机器人连接正常。", settings.public_url.rstrip("/") + "/admin/integrations")
    return notice_for(event.type, event.data, base_url=settings.public_url, tz=settings.tz)


def robot_request(robot: Robot, notice: Notice, now: float) -> robot_rules.HttpRequest:
    return robot_rules.build_robot_request(robot.kind, robot.url, notice, now=now, secret=robot.secret or None,
                                           fmt=robot.format, mentions=tuple(robot.mentions or ()))


def sent_log(session: so.Session, robot_id: int, now: datetime) -> list[float]:
    """The robot's sends of the last minute (epoch seconds)."""
    since = now - timedelta(seconds=max(w.seconds for ws in throttle.WINDOWS.values() for w in ws))
    return [_epoch(t) for t in session.scalars(
        sa.select(RobotSend.sent_at).where(RobotSend.robot_id == robot_id, RobotSend.sent_at > since))]


def _release(deliveries: list[Delivery], next_at: float | None, error: str = "") -> None:
    for d in deliveries:
        d.state, d.next_at = "pending", _at(next_at) if next_at is not None else clock.now()
        if error:
            d.last_error = error[:500]


def _send_robot(session: so.Session, settings: Settings, robot: Robot | None,
                queue: list[Delivery]) -> dict[str, int]:
    counts = {"sent": 0, "retried": 0, "failed": 0, "waiting": 0}
    if robot is None or not robot.active:
        for d in queue:
            counts[_finish(d, "failed", None, b"", "the robot was removed")] += 1
        session.commit()
        return counts
    notices, ready = [], []
    for d in queue:
        try:
            notices.append(notice_of(session, settings, d.event))
            ready.append(d)
        except ValueError as exc:  # an event without what its notice needs: fail it, not the queue
            counts[_finish(d, "failed", None, b"", f"cannot word this event: {exc}")] += 1
    queue = ready
    now = clock.now()
    sent_at = sent_log(session, robot.id, now)
    paused = _epoch(robot.paused_until) if robot.paused_until else None
    while queue:
        ts = _epoch(clock.now())
        plan = throttle.plan(robot.kind, sent_at, notices, now=ts, paused_until=paused, fmt=robot.format,
                             mentions=tuple(robot.mentions or ()))
        if plan.take == 0:
            _release(queue, plan.next_at)
            counts["waiting"] += len(queue)
            session.commit()
            break
        taken, queue, notices = queue[:plan.take], queue[plan.take:], notices[plan.take:]
        _between_transactions(session)
        status, answer, headers = post(robot_request(robot, plan.notice, ts), settings.integrations_timeout_seconds)
        outcome = robot_rules.classify_response(robot.kind, status, answer, headers)
        moment = clock.now()
        for d in taken:
            d.last_attempt_at = moment
        if outcome.ok:
            session.add(RobotSend(robot_id=robot.id, sent_at=_at(ts)))
            sent_at.append(ts)
            for d in taken:
                d.attempts += 1
                d.merged = len(taken)
                counts[_finish(d, "sent", status, answer, "")] += 1
        elif outcome.throttled:
            # The platform counts sends we cannot see: stop here and wait out its pause.
            paused = throttle.pause_after_throttled(robot.kind, ts, outcome)
            robot.paused_until = _at(paused)
            for d in taken:
                _record(d, status, answer, outcome.message)
            _release(taken + queue, paused)
            counts["waiting"] += len(taken) + len(queue)
            queue = []
        elif outcome.retry:
            for d in taken:
                d.attempts += 1
                if d.attempts >= settings.integrations_max_attempts:
                    counts[_finish(d, "failed", status, answer, outcome.message)] += 1
                    continue
                _record(d, status, answer, outcome.message)
                d.state = "pending"
                d.next_at = _at(throttle.next_attempt_at(outcome, d.attempts, ts, key=d.msg_id))
                counts["retried"] += 1
            # The robot is unwell: the rest wait for the same time rather than hammer it.
            later = min(d.next_at for d in taken if d.state == "pending") if any(
                d.state == "pending" for d in taken) else None
            _release(queue, _epoch(later) if later else None)
            counts["waiting"] += len(queue)
            queue = []
        else:
            for d in taken:
                d.attempts += 1
                counts[_finish(d, "failed", status, answer, outcome.message)] += 1
        session.commit()
    return counts


def attempt_robot_now(session: so.Session, settings: Settings, robot: Robot, delivery: Delivery) -> str:
    """One immediate attempt of a single delivery (the test button), within the
    robot's rate limit: over it, the delivery waits in the outbox instead."""
    now = clock.now()
    ts = _epoch(now)
    plan = throttle.plan(robot.kind, sent_log(session, robot.id, now), [notice_of(session, settings, delivery.event)],
                         now=ts, paused_until=_epoch(robot.paused_until) if robot.paused_until else None,
                         fmt=robot.format, mentions=tuple(robot.mentions or ()))
    if plan.take == 0:
        _release([delivery], plan.next_at)
        return "waiting"
    _between_transactions(session)
    status, answer, headers = post(robot_request(robot, plan.notice, ts), settings.integrations_timeout_seconds)
    outcome = robot_rules.classify_response(robot.kind, status, answer, headers)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    if outcome.ok:
        session.add(RobotSend(robot_id=robot.id, sent_at=now))
        return _finish(delivery, "sent", status, answer, "")
    if outcome.throttled:
        robot.paused_until = _at(throttle.pause_after_throttled(robot.kind, ts, outcome))
    return _finish(delivery, "failed", status, answer, outcome.message)

