"""The park: its users and their logins, rooms, tenants and blackouts."""
from __future__ import annotations

from datetime import datetime, time
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import Base, UTCDateTime, sql_in
from opsroom.domain.statuses import DEFAULT_TENANT_PRIORITY, ROLES, TENANT_PRIORITIES, TENANT_STATUSES


class User(Base):
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    locale: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    # Notices also by email when the park has SMTP settings.
    email_notifications: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    # A tenant's account (role "tenant") is bound to exactly one tenant; staff and anchors to none.
    tenant_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("tenants.id"), index=True)

    tenant: so.Mapped[Optional["Tenant"]] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint(sql_in("role", ROLES), name="role"),
        sa.CheckConstraint("(role = 'tenant') = (tenant_id IS NOT NULL)", name="tenant_bound"),
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # "id:key" once logged in: the key names the server-side LoginSession
        # row, so cookies die with it.
        key = getattr(self, "login_key", None)
        return f"{self.id}:{key}" if key else str(self.id)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    revoked_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()


class LoginFailure(Base):
    """One failed login, keyed by account and by client address.

    Kept in the database so that the limit holds across worker processes.
    """

    __tablename__ = "login_failures"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(300))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (sa.Index("ix_login_failures_key_at", "key", "at"),)


class LoginSession(Base):
    """One login (a browser's session and remember cookies point at it).

    The cookie carries a random key; only its SHA-256 is stored here. The user
    loader accepts a cookie only while its row exists, so logging out (which
    deletes the row) or changing the password (which deletes all of the user's
    rows) ends every copy of the cookie, a stolen one included. `authenticated_at`
    is the last time the password was typed in this session (admin pages want it recent).
    """

    __tablename__ = "login_sessions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    authenticated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)


class Room(Base):
    __tablename__ = "rooms"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    zone: so.Mapped[str] = so.mapped_column(sa.String(50), default="", index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(50), default="", index=True)
    area_m2: so.Mapped[Optional[float]] = so.mapped_column(sa.Float)
    equipment: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    open_time: so.Mapped[time] = so.mapped_column(sa.Time, default=time(0, 0))
    close_time: so.Mapped[time] = so.mapped_column(sa.Time, default=time(0, 0))
    changeover_minutes: so.Mapped[int] = so.mapped_column(default=0)
    min_minutes: so.Mapped[int] = so.mapped_column(default=30)
    max_minutes: so.Mapped[int] = so.mapped_column(default=720)
    order_capacity_per_hour: so.Mapped[int] = so.mapped_column(default=0)
    active: so.Mapped[bool] = so.mapped_column(default=True)

    __table_args__ = (
        sa.CheckConstraint("changeover_minutes >= 0", name="changeover_nonneg"),
        sa.CheckConstraint("min_minutes > 0 AND max_minutes >= min_minutes", name="duration_range"),
        sa.CheckConstraint("order_capacity_per_hour >= 0", name="capacity_nonneg"),
    )


class Zone(Base):
    """A zone's place on the board: rooms are listed by zone order, then code.

    Rooms name their zone as text; a zone without a row here sorts as 0."""

    __tablename__ = "zones"

    name: so.Mapped[str] = so.mapped_column(sa.String(50), primary_key=True)
    sort_order: so.Mapped[int] = so.mapped_column(default=0, server_default="0")


class Tenant(Base):
    __tablename__ = "tenants"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100), unique=True)
    # 简称: what the board's blocks and the hall screen show (≤ 16 characters).
    short_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
    contact: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    credit_code: so.Mapped[str] = so.mapped_column(sa.String(18), default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="active")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    # 1 = highest … 3; the waitlist and the coordinators' queue order by it.
    priority: so.Mapped[int] = so.mapped_column(default=DEFAULT_TENANT_PRIORITY,
                                                server_default=str(DEFAULT_TENANT_PRIORITY))
    # Hours per week inside the park's prime hours it may hold by request; None = no quota.
    prime_quota_hours_per_week: so.Mapped[Optional[int]] = so.mapped_column()

    __table_args__ = (
        sa.CheckConstraint(sql_in("status", TENANT_STATUSES), name="status"),
        sa.CheckConstraint(f"priority BETWEEN {min(TENANT_PRIORITIES)} AND {max(TENANT_PRIORITIES)}",
                           name="priority"),
        sa.CheckConstraint("prime_quota_hours_per_week IS NULL OR prime_quota_hours_per_week >= 0",
                           name="prime_quota"),
    )


class Blackout(Base):
    __tablename__ = "blackouts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    room_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    reason: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)

    room: so.Mapped[Room] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="positive"),
        sa.Index("ix_blackouts_room_time", "room_id", "starts_at", "ends_at"),
    )
