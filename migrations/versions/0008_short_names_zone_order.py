"""Tenants' short names (简称) and the zones' order on the board

- `tenants.short_name`: an optional short name (≤ 16 characters) the board's
  blocks and the hall screen show instead of the full company name.
- `zones`: one row per zone name with its `sort_order`; the board lists rooms
  by their zone's order, then by code. A zone without a row sorts as 0.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both engines: a batch copy of `tenants` on SQLite
    # would have to rebuild every table that refers to it.
    op.add_column("tenants", sa.Column("short_name", sa.String(length=16), nullable=True))
    op.create_table(
        "zones",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_zones")),
    )


def downgrade():
    op.drop_table("zones")
    # SQLite ≥ 3.35 drops a column in place, like PostgreSQL.
    op.drop_column("tenants", "short_name")
