"""People and goods of a session: anchors and their assignments, products and lineups."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import Base, UTCDateTime, sql_in
from opsroom.domain.statuses import ANCHOR_ROLES

if TYPE_CHECKING:  # the mappers resolve these names by the class registry at run time
    from opsroom.models.bookings import Booking
    from opsroom.models.park import Tenant, User


class Anchor(Base):
    """A streamer (主播): a tenant's own or the park's MCN (tenant_id NULL)."""

    __tablename__ = "anchors"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    tenant_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("tenants.id"), index=True)
    user_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"), unique=True)
    verified: so.Mapped[bool] = so.mapped_column(default=False)
    max_minutes_per_day: so.Mapped[int] = so.mapped_column(default=480)
    min_rest_minutes: so.Mapped[int] = so.mapped_column(default=30)
    platform_accounts: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Bumped to reset the calendar feed URL (the token is derived, never stored).
    feed_version: so.Mapped[int] = so.mapped_column(default=1)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)

    tenant: so.Mapped[Optional[Tenant]] = so.relationship()
    user: so.Mapped[Optional[User]] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint("max_minutes_per_day > 0 AND max_minutes_per_day <= 1440", name="daily_limit"),
        sa.CheckConstraint("min_rest_minutes >= 0", name="rest_nonneg"),
    )


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


class Product(Base):
    """A tenant's SKU (商品). Price in integer fen."""

    __tablename__ = "products"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id"))
    sku: so.Mapped[str] = so.mapped_column(sa.String(64))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    category: so.Mapped[str] = so.mapped_column(sa.String(50), default="")
    price_fen: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    stock: so.Mapped[int] = so.mapped_column(default=0)
    certifications: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)

    tenant: so.Mapped[Tenant] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "sku", name="uq_products_tenant_sku"),
        sa.CheckConstraint("price_fen >= 0", name="price_nonneg"),
        sa.CheckConstraint("stock >= 0", name="stock_nonneg"),
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
