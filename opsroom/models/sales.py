"""Sales: orders, their import batches and rejects, the screen tokens, review notes,
and the quarter-hour sums the big screen reads."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import BigId, Base, UTCDateTime, sql_in
from opsroom.domain.statuses import ATTRIBUTION_METHODS, IMPORT_SOURCES, IMPORT_STATES, ORDER_STATUSES, SOLD_STATUSES

if TYPE_CHECKING:  # the mappers resolve these names by the class registry at run time
    from opsroom.models.bookings import Booking
    from opsroom.models.park import User
    from opsroom.models.people_goods import Product


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
        sa.CheckConstraint(sql_in("source", IMPORT_SOURCES), name="source"),
        sa.CheckConstraint(sql_in("state", IMPORT_STATES), name="state"),
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
    # On PostgreSQL kept by statement-level triggers instead of this foreign key (migration
    # 0013): the same rule, checked once per statement instead of once per ingested row.
    batch_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("import_batches.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    updated_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    booking: so.Mapped[Optional[Booking]] = so.relationship()
    product: so.Mapped[Optional[Product]] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("platform", "external_id", name="uq_orders_platform_external_id"),
        sa.CheckConstraint(sql_in("status", ORDER_STATUSES), name="status"),
        sa.CheckConstraint(sql_in("attributed_by", ATTRIBUTION_METHODS), name="attributed_by"),
        sa.CheckConstraint("quantity >= 0", name="quantity_nonneg"),
        sa.CheckConstraint("amount_fen >= 0 AND refund_fen >= 0 AND refund_fen <= amount_fen", name="money"),
        # A session's orders in time order (stats, 5-minute buckets, the screen).
        sa.Index("ix_orders_booking_time", "booking_id", "ordered_at"),
        # The park's day (screen totals, reports) and the unattributed list.
        sa.Index("ix_orders_time", "ordered_at"),
        # Sold orders by session and time with their amount: the screen's day
        # and the live loads are read from this index alone.
        sa.Index("ix_orders_sold_booking_time", "booking_id", "ordered_at", "amount_fen",
                 sqlite_where=sa.text(sql_in("status", SOLD_STATUSES)),
                 postgresql_where=sa.text(sql_in("status", SOLD_STATUSES))),
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


# The sold-orders predicate as SQL text, spelled as the partial index's own
# predicate so that SQLite's planner can use that index.
SOLD = sa.text(sql_in("orders.status", SOLD_STATUSES))

# Deleting orders writes to sales_quarters (the triggers): wipes delete orders first.
Order.__table__.add_is_dependent_on(sales_quarters)


class SessionForecast(Base):
    """A booking's forecast as last computed (services/sales/forecast.expected_loads),
    so the board and the screen show the expected load beside the actual without
    recomputing it on every view. Valid for the room and window it was computed
    for; recomputed when they change or when it grows old."""

    __tablename__ = "session_forecasts"

    booking_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    room_id: so.Mapped[int] = so.mapped_column()
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    orders_per_hour_p50: so.Mapped[float] = so.mapped_column(sa.Float)
    orders_per_hour_p90: so.Mapped[float] = so.mapped_column(sa.Float)
    peak_p50: so.Mapped[float] = so.mapped_column(sa.Float)
    peak_p90: so.Mapped[float] = so.mapped_column(sa.Float)
    basis: so.Mapped[str] = so.mapped_column(sa.String(20))
    sessions: so.Mapped[int] = so.mapped_column()
    computed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
