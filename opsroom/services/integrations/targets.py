"""Robots and webhooks: who may make, see and remove them; their deliveries;
"send again" and the test button.

Who: an admin manages every robot and webhook. A robot may also belong to a
tenant (its group); `may_manage_robot` is the one place that decides who else
may manage it: a user whose role holds "robots.own" and whose `tenant_id` is
the robot's (the tenant role, when it exists, gets that permission). Such a
maker's robot points only at the platform's own host (domain/integrations/targets).
A robot or webhook not visible to the user is a 404, so ids reveal nothing.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.domain.integrations.messages import EVENT_TYPES
from opsroom.domain.integrations.signing import webhook_key
from opsroom.domain.integrations.targets import url_problem
from opsroom.models import Delivery, OutboxEvent, Robot, RobotSend, Tenant, Webhook
from opsroom.services.errors import Forbidden, NotFound, ValidationFailed
from opsroom.services.integrations import outbox, sender
from opsroom.services.permissions import can, require
from opsroom.services.transaction import transactional
from opsroom.settings import settings_of

RESENDABLE = ("failed", "sent")
URL_MESSAGES = {
    "scheme": _l("Use an http:// or https:// address."),
    "host": _l("This is not a valid address."),
    "platform": _l("A tenant's robot may only point at the platform's own robot address (https)."),
}


def _invalid(field: str, message) -> ValidationFailed:
    return ValidationFailed(_l("Please correct the marked fields."), [{"field": field, "message": message}])


def is_admin(user) -> bool:
    return can(user, "integrations.admin")


def may_manage_robot(user, robot: Robot) -> bool:
    if is_admin(user):
        return True
    own = getattr(user, "tenant_id", None)
    return can(user, "robots.own") and own is not None and robot.tenant_id == own


def _check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise _invalid("events", _l("Unknown event: %(name)s.", name=unknown[0]))
    if not events:
        raise _invalid("events", _l("Choose at least one event."))
    return list(dict.fromkeys(events))


# --- robots ------------------------------------------------------------------------


def list_robots(session: so.Session, user) -> list[Robot]:
    if not is_admin(user):
        require(user, "robots.own")
        own = getattr(user, "tenant_id", None)
        return list(session.scalars(sa.select(Robot).where(Robot.tenant_id == own, Robot.tenant_id.is_not(None))
                                    .order_by(Robot.id)))
    return list(session.scalars(sa.select(Robot).order_by(Robot.id)))


def get_robot(session: so.Session, user, robot_id: int) -> Robot:
    if not (is_admin(user) or can(user, "robots.own")):
        raise Forbidden(_l("Your role may not do this."))
    robot = session.get(Robot, robot_id)
    if robot is None or not may_manage_robot(user, robot):
        raise NotFound(_l("No such robot."))
    return robot


@transactional
def create_robot(session: so.Session, user, data: dict[str, Any]) -> Robot:
    """A robot of `kind` at `url` told of `events`; a non-admin's is its tenant's
    and points at the platform's own host only."""
    admin = is_admin(user)
    if not admin:
        require(user, "robots.own")
    tenant_id = data.get("tenant_id")
    if not admin:
        own = getattr(user, "tenant_id", None)
        if own is None:
            raise Forbidden(_l("Your role may not do this."))
        tenant_id = own
    elif tenant_id is not None and session.get(Tenant, tenant_id) is None:
        raise _invalid("tenant_id", _l("No such tenant."))
    problem = url_problem(data["url"], kind=data["kind"], platform_only=not admin)
    if problem:
        raise _invalid("url", URL_MESSAGES[problem])
    robot = Robot(kind=data["kind"], name=data.get("name") or "", url=data["url"], secret=data.get("secret") or "",
                  events=_check_events(data["events"]), format=data.get("format") or "markdown",
                  mentions=list(data.get("mentions") or []), tenant_id=tenant_id,
                  created_by_id=getattr(user, "id", None), active=True)
    session.add(robot)
    session.flush()
    return robot


@transactional
def delete_robot(session: so.Session, user, robot_id: int) -> None:
    """The robot and its waiting deliveries go; nothing more is sent to it."""
    robot = get_robot(session, user, robot_id)
    session.execute(sa.delete(Delivery).where(Delivery.robot_id == robot.id))
    session.execute(sa.delete(RobotSend).where(RobotSend.robot_id == robot.id))
    session.delete(robot)


# --- webhooks ----------------------------------------------------------------------


def list_webhooks(session: so.Session, user) -> list[Webhook]:
    require(user, "integrations.admin")
    return list(session.scalars(sa.select(Webhook).order_by(Webhook.id)))


def get_webhook(session: so.Session, user, webhook_id: int) -> Webhook:
    require(user, "integrations.admin")
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(_l("No such webhook."))
    return hook


@transactional
def create_webhook(session: so.Session, user, data: dict[str, Any]) -> Webhook:
    require(user, "integrations.admin")
    problem = url_problem(data["url"], kind=None, platform_only=False)
    if problem:
        raise _invalid("url", URL_MESSAGES[problem])
    try:
        webhook_key(data["secret"])
    except ValueError:
        raise _invalid("secret", _l("A whsec_ secret must be valid base64.")) from None
    hook = Webhook(url=data["url"], secret=data["secret"], events=_check_events(data["events"]),
                   created_by_id=getattr(user, "id", None), active=True)
    session.add(hook)
    session.flush()
    return hook


@transactional
def delete_webhook(session: so.Session, user, webhook_id: int) -> None:
    hook = get_webhook(session, user, webhook_id)
    session.execute(sa.delete(Delivery).where(Delivery.webhook_id == hook.id))
    session.delete(hook)


# --- deliveries ----------------------------------------------------------------------


def deliveries(session: so.Session, user, *, webhook_id: int | None = None, robot_id: int | None = None,
               failed_only: bool = False, limit: int = 100) -> list[Delivery]:
    """A target's deliveries (or every failed one), newest first."""
    q = sa.select(Delivery).options(so.joinedload(Delivery.event)).order_by(Delivery.id.desc()).limit(limit)
    if webhook_id is not None:
        get_webhook(session, user, webhook_id)
        q = q.where(Delivery.webhook_id == webhook_id)
    elif robot_id is not None:
        get_robot(session, user, robot_id)
        q = q.where(Delivery.robot_id == robot_id)
    else:
        require(user, "integrations.admin")
    if failed_only:
        q = q.where(Delivery.state == "failed")
    return list(session.scalars(q))


def get_delivery(session: so.Session, user, delivery_id: int) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(_l("No such delivery."))
    if delivery.robot_id is not None:
        get_robot(session, user, delivery.robot_id)
    else:
        get_webhook(session, user, delivery.webhook_id)
    return delivery


@transactional
def resend(session: so.Session, user, delivery_id: int) -> Delivery:
    """"Send again": a failed (or sent) delivery is due now, attempts counted
    afresh, with the same webhook-id (the receiver may de-duplicate by it)."""
    delivery = get_delivery(session, user, delivery_id)
    if delivery.state in RESENDABLE:
        delivery.state, delivery.next_at, delivery.attempts = "pending", clock.now(), 0
    return delivery


def _test_delivery(session: so.Session, event_type: str, data: dict, **target: int) -> Delivery:
    """A test event and its delivery to one robot or webhook (`robot_id=` / `webhook_id=`), sent at once."""
    event = OutboxEvent(type=event_type, data=data, occurred_at=clock.now())
    session.add(event)
    session.flush()
    delivery = Delivery(event_id=event.id, msg_id=outbox.new_msg_id(), state="sending", next_at=clock.now(), **target)
    session.add(delivery)
    session.flush()
    return delivery


@transactional
def test_robot(session: so.Session, user, robot_id: int) -> Delivery:
    """Send a test message now (within the robot's rate limit); logged as a delivery."""
    robot = get_robot(session, user, robot_id)
    delivery = _test_delivery(session, "robot.test", {"robot_id": robot.id}, robot_id=robot.id)
    sender.attempt_robot_now(session, settings_of(session), robot, delivery)
    return delivery


@transactional
def test_webhook(session: so.Session, user, webhook_id: int) -> Delivery:
    """Send a signed `webhook.test` event now; logged as a delivery (not retried)."""
    hook = get_webhook(session, user, webhook_id)
    delivery = _test_delivery(session, "webhook.test", {"webhook_id": hook.id}, webhook_id=hook.id)
    sender.attempt_webhook(session, settings_of(session), delivery, hook, retry=False)
    return delivery


def failure_count(session: so.Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(Delivery.state == "failed")) or 0
