"""Reporting: the rollups the reports read, and turned-away demand."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import BigId, Base, UTCDateTime


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
