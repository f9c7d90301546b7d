"""Integrations: chat-group robots and signed webhooks (the targets), the
durable outbox of events and their deliveries, each robot's send log, and the
抖店 push messages as received.

An event and its deliveries are written in the transaction of the change they
describe (services/integrations/outbox.emit), so a rolled-back change sends
nothing and a committed one is never lost. A delivery's `msg_id` is the
`webhook-id` of every attempt (unique, so a receiver de-duplicates by it).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import Base, BigId, UTCDateTime, sql_in
from opsroom.domain.integrations.robots import FORMATS, ROBOT_KINDS

DELIVERY_STATES = ("pending", "sending", "sent", "failed")
TARGET_KINDS = ("robot", "webhook")


class Robot(Base):
    """A chat group's robot (WeCom, DingTalk, Feishu) and the events it is told.

    `tenant_id` set: the robot of that tenant's group, told only of its own
    tenant's events. `paused_until`: the platform said "too fast"; nothing is
    sent before then.
    """

    __tablename__ = "robots"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    name: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    url: so.Mapped[str] = so.mapped_column(sa.String(500))
    secret: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    events: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    format: so.Mapped[str] = so.mapped_column(sa.String(10), default="markdown")
    mentions: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    tenant_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    paused_until: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (
        sa.CheckConstraint(sql_in("kind", ROBOT_KINDS), name="kind"),
        sa.CheckConstraint(sql_in("format", FORMATS), name="format"),
    )


class Webhook(Base):
    """An integrator's endpoint: events signed per Standard Webhooks with `secret`."""

    __tablename__ = "webhooks"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    url: so.Mapped[str] = so.mapped_column(sa.String(500))
    secret: so.Mapped[str] = so.mapped_column(sa.String(200))
    events: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)


class OutboxEvent(Base):
    """One event as sent: `{type, timestamp, data}`; `key` (optional, unique) makes
    an event that a sweeper may see twice (the morning summary, an alert) once."""

    __tablename__ = "outbox_events"

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    type: so.Mapped[str] = so.mapped_column(sa.String(40))
    key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200), unique=True)
    tenant_id: so.Mapped[Optional[int]] = so.mapped_column()
    data: so.Mapped[dict] = so.mapped_column(sa.JSON)
    occurred_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)


class Delivery(Base):
    """One event to one target, until a 2xx (or the platform's "ok") ends it.

    `state`: pending (due at `next_at`), sending (claimed; the claim lapses at
    `next_at`), sent, failed (permanent refusal or attempts used up; an admin may
    send it again). `send_id` groups robot deliveries merged into one message.
    """

    __tablename__ = "deliveries"

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    event_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("outbox_events.id", ondelete="CASCADE"), index=True)
    robot_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("robots.id", ondelete="CASCADE"))
    webhook_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("webhooks.id", ondelete="CASCADE"))
    msg_id: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    last_status: so.Mapped[Optional[int]] = so.mapped_column()
    last_response: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    last_error: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    last_attempt_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    sent_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    merged: so.Mapped[int] = so.mapped_column(default=1)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)

    event: so.Mapped[OutboxEvent] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint(sql_in("state", DELIVERY_STATES), name="state"),
        sa.CheckConstraint("(robot_id IS NULL) <> (webhook_id IS NULL)", name="one_target"),
        # The sender's sweep: what is due now?
        sa.Index("ix_deliveries_due", "state", "next_at"),
        sa.Index("ix_deliveries_robot", "robot_id", "id"),
        sa.Index("ix_deliveries_webhook", "webhook_id", "id"),
    )


class RobotSend(Base):
    """One message a robot was sent (a digest counts once): the rate limit's log."""

    __tablename__ = "robot_sends"

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    robot_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("robots.id", ondelete="CASCADE"))
    sent_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_robot_sends_robot_time", "robot_id", "sent_at"),)


class DoudianMessage(Base):
    """A 抖店 push message as received, once per `msg_id`, and what applying it did."""

    __tablename__ = "doudian_messages"

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    msg_id: so.Mapped[str] = so.mapped_column(sa.String(128), unique=True)
    tag: so.Mapped[str] = so.mapped_column(sa.String(10))
    raw: so.Mapped[dict] = so.mapped_column(sa.JSON)
    result: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
