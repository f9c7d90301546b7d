"""Operations: notifications (inbox and email outbox) and the scheduler's heartbeat and job records."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import Base, UTCDateTime, sql_in
from opsroom.domain.statuses import EMAIL_STATES, NOTIFICATION_KINDS

if TYPE_CHECKING:  # the mappers resolve these names by the class registry at run time
    from opsroom.models.park import User


class Notification(Base):
    """One notice in a user's inbox, and its email if one is due.

    `key` is the sent-log: unique, so a job that runs twice (or on two
    schedulers at once) inserts it once (insert-or-ignore). Title and body are
    stored rendered in the recipient's language at the time of sending, as an
    email would be: the inbox shows what was sent.
    """

    __tablename__ = "notifications"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    booking_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("bookings.id", ondelete="SET NULL"))
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    body: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    locale: so.Mapped[str] = so.mapped_column(sa.String(10), default="zh_CN")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    read_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    email_status: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))
    email_attempts: so.Mapped[int] = so.mapped_column(default=0)
    email_next_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    email_sent_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    email_error: so.Mapped[str] = so.mapped_column(sa.String(500), default="")

    user: so.Mapped[User] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint(sql_in("kind", NOTIFICATION_KINDS), name="kind"),
        sa.CheckConstraint(sql_in("email_status", EMAIL_STATES), name="email_status"),
        # The inbox (newest first) and the header's unread count.
        sa.Index("ix_notifications_user_read", "user_id", "read_at"),
        sa.Index("ix_notifications_user_created", "user_id", "created_at"),
        # The email outbox sweep: what is due now?
        sa.Index("ix_notifications_email_due", "email_status", "email_next_at"),
    )


class SchedulerHeartbeat(Base):
    """The acting scheduler's heartbeat: a single row (id 1), rewritten every tick."""

    __tablename__ = "scheduler_heartbeat"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    node: so.Mapped[str] = so.mapped_column(sa.String(200))
    acting_since: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    beat_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)


class JobRecord(Base):
    """Each scheduler job's last run, last error and next run."""

    __tablename__ = "job_records"

    job_id: so.Mapped[str] = so.mapped_column(sa.String(50), primary_key=True)
    node: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    last_run: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2000))
    last_error_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    next_run: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    runs: so.Mapped[int] = so.mapped_column(default=0)
    failures: so.Mapped[int] = so.mapped_column(default=0)
