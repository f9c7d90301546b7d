"""Bookings (场次) and what each holds (its anchors' assignments and its lineup), the
series that create them together, and the audit log."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import Base, UTCDateTime, sql_in
from opsroom.domain.statuses import ACTIVE_STATUSES, ANCHOR_ROLES, BOOKING_STATUSES

if TYPE_CHECKING:  # the mappers resolve these names by the class registry at run time
    from opsroom.models.park import Room, Tenant, User
    from opsroom.models.people_goods import Anchor, Product


class Series(Base):
    """Bookings created together by one recurrence rule."""

    __tablename__ = "series"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    rule: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))


class Booking(Base):
    """One room, one window, one tenant: the live session itself.

    `occupied_until` = ends_at + the room's changeover at booking time; the
    overlap constraint is over [starts_at, occupied_until).
    """

    __tablename__ = "bookings"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    room_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rooms.id"))
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    occupied_until: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="confirmed")
    hold_expires_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    series_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("series.id"), index=True)
    checked_in_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    cancelled_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    cancel_reason: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    # Set on every ORM update; calendar feeds derive SEQUENCE from it.
    updated_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime, onupdate=clock.now)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))

    room: so.Mapped[Room] = so.relationship()
    tenant: so.Mapped[Tenant] = so.relationship()
    series: so.Mapped[Optional[Series]] = so.relationship()
    assignments: so.Mapped[list["Assignment"]] = so.relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="Assignment.id"
    )
    lineup: so.Mapped[list["LineupItem"]] = so.relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="LineupItem.position"
    )

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="positive"),
        sa.CheckConstraint("occupied_until >= ends_at", name="occupied"),
        sa.CheckConstraint(sql_in("status", BOOKING_STATUSES), name="status"),
        sa.Index("ix_bookings_room_time", "room_id", "starts_at", "occupied_until"),
        sa.Index("ix_bookings_time", "starts_at"),
        sa.Index("ix_bookings_status_hold", "status", "hold_expires_at"),
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class AuditEntry(Base):
    """Who did what to which object, with old → new values."""

    __tablename__ = "audit_log"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    user_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    entity: so.Mapped[str] = so.mapped_column(sa.String(30))
    entity_id: so.Mapped[int] = so.mapped_column()
    action: so.Mapped[str] = so.mapped_column(sa.String(30))
    changes: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)

    user: so.Mapped[Optional[User]] = so.relationship()

    __table_args__ = (sa.Index("ix_audit_entity", "entity", "entity_id"),)


class Assignment(Base):
    """An anchor in a booking, with a role. Carries the booking's times and
    whether it is active, kept in step by database triggers, so the anchor
    overlap constraint needs no join."""

    __tablename__ = "assignments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    booking_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    anchor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("anchors.id"))
    role: so.Mapped[str] = so.mapped_column(sa.String(20), default="host")
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    active: so.Mapped[bool] = so.mapped_column(default=True)

    booking: so.Mapped[Booking] = so.relationship(back_populates="assignments")
    anchor: so.Mapped[Anchor] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("booking_id", "anchor_id", name="uq_assignments_booking_anchor"),
        sa.CheckConstraint(sql_in("role", ANCHOR_ROLES), name="role"),
        sa.CheckConstraint("ends_at > starts_at", name="positive"),
        sa.Index("ix_assignments_anchor_time", "anchor_id", "starts_at", "ends_at"),
    )


class LineupItem(Base):
    """One product in a booking's ordered lineup (排品)."""

    __tablename__ = "lineup_items"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    booking_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    product_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("products.id"))
    position: so.Mapped[int] = so.mapped_column()
    planned_start: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    planned_end: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    planned_quantity: so.Mapped[Optional[int]] = so.mapped_column()

    booking: so.Mapped[Booking] = so.relationship(back_populates="lineup")
    product: so.Mapped[Product] = so.relationship()

    __table_args__ = (sa.UniqueConstraint("booking_id", "position", name="uq_lineup_booking_position"),)
