"""Mapped classes. Column constraints only; rules live in domain/ and services/.

The database is the last line of defence: the overlap of active bookings is
refused by an exclusion constraint (PostgreSQL) or triggers (SQLite) created in
the migrations, not here.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import Base, UTCDateTime

ROLES = ("admin", "manager", "coordinator", "anchor")
TENANT_STATUSES = ("active", "suspended", "blacklisted")
BOOKING_STATUSES = ("hold", "confirmed", "live", "ended", "cancelled", "no_show")
# Statuses that occupy a room. An expired hold is swept to "cancelled".
ACTIVE_STATUSES = ("hold", "confirmed", "live")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


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
    # Notices also by email when the park has SMTP settings (issue 9).
    email_notifications: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())

    __table_args__ = (sa.CheckConstraint(_in("role", ROLES), name="role"),)

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
        # (issue 11), so cookies die with it.
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


class Tenant(Base):
    __tablename__ = "tenants"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100), unique=True)
    contact: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    credit_code: so.Mapped[str] = so.mapped_column(sa.String(18), default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="active")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (sa.CheckConstraint(_in("status", TENANT_STATUSES), name="status"),)


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
        sa.CheckConstraint(_in("status", BOOKING_STATUSES), name="status"),
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


ANCHOR_ROLES = ("host", "assistant", "controller")


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
        sa.CheckConstraint(_in("role", ANCHOR_ROLES), name="role"),
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


# --- Orders, import batches, screen tokens, reviews (issue 7) ---------------

ORDER_STATUSES = ("paid", "refunded", "cancelled")
# Statuses that count in GMV and in `orders` (DESIGN.md §4): a refunded order was paid.
SOLD_STATUSES = ("paid", "refunded")
ATTRIBUTION_METHODS = ("booking", "room", "anchor", "manual")
IMPORT_SOURCES = ("json", "csv")
IMPORT_STATES = ("running", "done", "failed")

# A year of a big park is ~150M order rows: 64-bit keys on PostgreSQL (SQLite's
# INTEGER PRIMARY KEY is already 64-bit and must stay INTEGER to alias rowid).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class ImportBatch(Base):
    """One ingestion (a JSON batch or a shop-export file): who, when, what came of it."""

    __tablename__ = "import_batches"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    source: so.Mapped[str] = so.mapped_column(sa.String(10))
    platform: so.Mapped[str] = so.mapped_column(sa.String(20), default="")
    filename: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="running")
    # Progress of a large file: bytes read of bytes_total, rows seen so far.
    bytes_total: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    bytes_done: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    rows_seen: so.Mapped[int] = so.mapped_column(default=0)
    # A random key the upload page sends with the file, so that it can follow
    # the batch's progress before the upload's answer arrives.
    upload_key: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    created: so.Mapped[int] = so.mapped_column(default=0)
    updated: so.Mapped[int] = so.mapped_column(default=0)
    unchanged: so.Mapped[int] = so.mapped_column(default=0)
    unattributed: so.Mapped[int] = so.mapped_column(default=0)
    rejected: so.Mapped[int] = so.mapped_column(default=0)
    message: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    finished_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    user: so.Mapped[Optional[User]] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("source", IMPORT_SOURCES), name="source"),
        sa.CheckConstraint(_in("state", IMPORT_STATES), name="state"),
        sa.Index("ix_import_batches_user_upload_key", "user_id", "upload_key"),
    )


class ImportReject(Base):
    """A row an import could not take, with its line (CSV, 1-based incl. header) or
    index (JSON, 0-based) and why. Kept so the report can be downloaded later."""

    __tablename__ = "import_rejects"

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    batch_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("import_batches.id", ondelete="CASCADE"))
    position: so.Mapped[int] = so.mapped_column()
    external_id: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))

    __table_args__ = (sa.Index("ix_import_rejects_batch_position", "batch_id", "position"),)


class Order(Base):
    """One platform sub-order (子订单), attributed to a booking or not (yet).

    Unique on (platform, external_id): re-importing updates status and amounts
    in place. Money in integer fen; `refund_fen` is what was refunded of it.
    """

    __tablename__ = "orders"

    id: so.Mapped[int] = so.mapped_column(BigId, primary_key=True)
    platform: so.Mapped[str] = so.mapped_column(sa.String(20))
    external_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    parent_id: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    booking_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("bookings.id", ondelete="SET NULL"))
    attributed_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))
    room_code: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    anchor_account: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    sku: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    product_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("products.id", ondelete="SET NULL"))
    product_name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    buyer: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    quantity: so.Mapped[int] = so.mapped_column(default=1)
    amount_fen: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    refund_fen: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    status: so.Mapped[str] = so.mapped_column(sa.String(10))
    ordered_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    batch_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("import_batches.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    updated_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    booking: so.Mapped[Optional[Booking]] = so.relationship()
    product: so.Mapped[Optional[Product]] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("platform", "external_id", name="uq_orders_platform_external_id"),
        sa.CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        sa.CheckConstraint(_in("attributed_by", ATTRIBUTION_METHODS), name="attributed_by"),
        sa.CheckConstraint("quantity >= 0", name="quantity_nonneg"),
        sa.CheckConstraint("amount_fen >= 0 AND refund_fen >= 0 AND refund_fen <= amount_fen", name="money"),
        # A session's orders in time order (stats, 5-minute buckets, the screen).
        sa.Index("ix_orders_booking_time", "booking_id", "ordered_at"),
        # The park's day (screen totals, reports) and the unattributed list.
        sa.Index("ix_orders_time", "ordered_at"),
        # Sold orders by session and time with their amount (issue 7): the screen's day
        # and the live loads are read from this index alone.
        sa.Index("ix_orders_sold_booking_time", "booking_id", "ordered_at", "amount_fen",
                 sqlite_where=sa.text("status IN ('paid', 'refunded')"),
                 postgresql_where=sa.text("status IN ('paid', 'refunded')")),
    )


class ScreenToken(Base):
    """A read-only token for a hall PC: opens /screen and its data, nothing else.
    Only its SHA-256 is stored; admins revoke it."""

    __tablename__ = "screen_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    last_used_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)


class ReviewNote(Base):
    """A note of the post-live review (复盘) of one session."""

    __tablename__ = "review_notes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    booking_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)

    user: so.Mapped[Optional[User]] = so.relationship()



# --- Reports: turned-away demand, rollups (issue 8) -------------------------


def _hour_columns(prefix: str) -> list[sa.Column]:
    return [sa.Column(f"{prefix}_h{h:02d}", sa.Integer, nullable=False, default=0) for h in range(24)]


def _session_figures() -> list[sa.Column]:
    """The session counts and sales each grouped rollup holds (fresh Column
    objects: a column belongs to one table)."""
    return [sa.Column(name, type_, nullable=False) for name, type_ in (
        ("sessions", sa.Integer), ("no_shows", sa.Integer), ("cancellations", sa.Integer),
        ("late_cancellations", sa.Integer), ("orders", sa.Integer), ("gmv_fen", sa.BigInteger),
        ("capacity", sa.Float))]


# Rollups: figures per room and park-local day (seconds), and each booking's
# share per day, computed by domain/utilization.py and kept in step through
# `report_dirty`, which database triggers fill on every change of bookings,
# blackouts, rooms and orders (migration 0004). services/reports.py reads them.
report_room_days = sa.Table(
    "report_room_days", Base.metadata,
    sa.Column("room_id", sa.ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("weekday", sa.SmallInteger, nullable=False),
    sa.Column("bookable", sa.Integer, nullable=False),
    sa.Column("booked", sa.Integer, nullable=False),
    sa.Column("prime_bookable", sa.Integer, nullable=False),
    sa.Column("prime_booked", sa.Integer, nullable=False),
    sa.Column("used", sa.Integer, nullable=False),
    # Sessions starting that day: counts, sales and capacity (as on report_booking_days).
    *_session_figures(),
    *_hour_columns("bookable"),
    *_hour_columns("booked"),
    sa.Index("ix_report_room_days_day", "day"),
)

report_booking_days = sa.Table(
    "report_booking_days", Base.metadata,
    sa.Column("booking_id", sa.ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("room_id", sa.Integer, nullable=False),
    sa.Column("tenant_id", sa.Integer, nullable=False),
    sa.Column("weekday", sa.SmallInteger, nullable=False),
    # Counts, sales and capacity sit on the row of the day the booking starts.
    sa.Column("starts_here", sa.SmallInteger, nullable=False),  # 1 on the day the booking starts
    sa.Column("start_hour", sa.SmallInteger, nullable=False),
    sa.Column("sessions", sa.SmallInteger, nullable=False),  # 1 when counted (confirmed, live, ended, no_show)
    sa.Column("no_shows", sa.SmallInteger, nullable=False),
    sa.Column("cancellations", sa.SmallInteger, nullable=False),
    sa.Column("late_cancellations", sa.SmallInteger, nullable=False),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("gmv_fen", sa.BigInteger, nullable=False),
    sa.Column("capacity", sa.Float, nullable=False),  # orders the room can take in the session's hours
    sa.Column("booked", sa.Integer, nullable=False),
    sa.Column("prime_booked", sa.Integer, nullable=False),
    sa.Column("used", sa.Integer, nullable=False),
    *_hour_columns("booked"),
    sa.Index("ix_report_booking_days_room_day", "room_id", "day"),
    sa.Index("ix_report_booking_days_day", "day"),
    sa.Index("ix_report_booking_days_tenant_day", "tenant_id", "day"),
)

# Sessions by the park-local day and hour they start, per zone and kind (from
# the start rows of report_booking_days): the hour-of-day report reads a few
# thousand rows here instead of every session.
report_start_hours = sa.Table(
    "report_start_hours", Base.metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("hour", sa.SmallInteger, primary_key=True),
    sa.Column("zone", sa.String(50), primary_key=True),
    sa.Column("kind", sa.String(50), primary_key=True),
    *_session_figures(),
)

# Each tenant's figures per park-local day, zone and kind (sums of
# report_booking_days): the tenant ranking reads these instead of every session.
report_tenant_days = sa.Table(
    "report_tenant_days", Base.metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("zone", sa.String(50), primary_key=True),
    sa.Column("kind", sa.String(50), primary_key=True),
    *_session_figures(),
    sa.Column("booked", sa.BigInteger, nullable=False),
    sa.Column("prime_booked", sa.BigInteger, nullable=False),
    sa.Column("used", sa.BigInteger, nullable=False),
)

# What changed since the rollups were computed: a room over [starts_at, ends_at)
# (both NULL: the whole room), or a booking's sales. Filled by triggers (and put
# back by a bounded refresh for what it leaves to the scheduler).
report_dirty = sa.Table(
    "report_dirty", Base.metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("room_id", sa.Integer),
    sa.Column("booking_id", sa.Integer),
    sa.Column("starts_at", UTCDateTime),
    sa.Column("ends_at", UTCDateTime),
)

# The park-local days the rollups cover (every room).
report_days = sa.Table(
    "report_days", Base.metadata,
    sa.Column("day", sa.Date, primary_key=True),
)

# Sold orders (count, GMV) per session and UTC quarter hour (`quarter` =
# epoch seconds // 900; booking_id 0: no session), kept by triggers on orders
# (migration 0007): the big screen sums a day's rows instead of its orders.
# PostgreSQL appends one row of changes per statement and session-quarter,
# SQLite keeps one row per pair: read them with SUM.
sales_quarters = sa.Table(
    "sales_quarters", Base.metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("booking_id", sa.Integer, nullable=False),
    sa.Column("quarter", sa.BigInteger, nullable=False),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("gmv_fen", sa.BigInteger, nullable=False),
)
# Deleting orders writes here (the triggers): wipes delete orders first.
Order.__table__.add_is_dependent_on(sales_quarters)


class TurnedAway(Base):
    """A booking attempt refused because the room was taken (turned-away
    demand). One row per user and wanted window however often they retried."""

    __tablename__ = "turned_away"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    room_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    tenant_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="SET NULL"))
    zone: so.Mapped[str] = so.mapped_column(sa.String(50), default="")
    kind: so.Mapped[str] = so.mapped_column(sa.String(50), default="")
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    day: so.Mapped[date] = so.mapped_column(sa.Date)  # park-local day, weekday and hour of the start
    weekday: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    hour: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    minutes: so.Mapped[int] = so.mapped_column()
    attempts: so.Mapped[int] = so.mapped_column(default=1)
    first_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    last_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "starts_at", "ends_at", name="uq_turned_away_user_window"),
        sa.Index("ix_turned_away_day", "day"),
    )


# --- Operations: notifications, outbox, scheduler health (issue 9) ----------

NOTIFICATION_KINDS = ("reminder", "hold_expiring", "daily_summary", "booking_moved", "booking_cancelled")
# Email of a notice: NULL = inbox only; "sending" is a claim that lapses at email_next_at.
EMAIL_STATES = ("pending", "sending", "sent", "failed")


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
        sa.CheckConstraint(_in("kind", NOTIFICATION_KINDS), name="kind"),
        sa.CheckConstraint(_in("email_status", EMAIL_STATES), name="email_status"),
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


# --- Hardening: server-side login sessions (issue 11) -----------------------


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
