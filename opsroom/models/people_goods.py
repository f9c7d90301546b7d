"""People and goods: anchors (主播) and products (商品)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import Base, UTCDateTime

if TYPE_CHECKING:  # the mappers resolve these names by the class registry at run time
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


