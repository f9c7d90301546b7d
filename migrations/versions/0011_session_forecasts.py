"""Stored session forecasts: the expected load the board and the screen show

One row per booking: its forecast (orders per hour and peak-hour orders, p50 and
p90, the basis and how many sessions it came from) for the room and window it
was computed for (the scheduler's `forecasts` job recomputes a row when they
change or when it is old). Deleted with its booking. And an index of bookings by
tenant and start, for a forecast's read of the tenant's latest sessions.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

from opsroom.db import UTCDateTime


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_forecasts",
        sa.Column("booking_id", sa.Integer, sa.ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("room_id", sa.Integer, nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        sa.Column("orders_per_hour_p50", sa.Float, nullable=False),
        sa.Column("orders_per_hour_p90", sa.Float, nullable=False),
        sa.Column("peak_p50", sa.Float, nullable=False),
        sa.Column("peak_p90", sa.Float, nullable=False),
        sa.Column("basis", sa.String(20), nullable=False),
        sa.Column("sessions", sa.Integer, nullable=False),
        sa.Column("computed_at", UTCDateTime, nullable=False),
    )


    # A tenant's latest sessions, read backwards from a forecast's start (services/sales/forecast.load_history).
    op.create_index("ix_bookings_tenant_starts", "bookings", ["tenant_id", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_bookings_tenant_starts", table_name="bookings")
    op.drop_table("session_forecasts")
