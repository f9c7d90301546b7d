"""The month planner: plans (a run's draft, progress, heartbeat, pins, acceptance)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import opsroom.db


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('request_ids', sa.JSON(), nullable=True),
    sa.Column('time_limit_seconds', sa.Integer(), nullable=False),
    sa.Column('pins', sa.JSON(), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('progress', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('accepted', sa.JSON(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('runner', sa.String(length=120), nullable=True),
    sa.Column('heartbeat_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('running', 'done', 'failed', 'cancelled')", name=op.f('ck_plans_status')),
    sa.CheckConstraint('time_limit_seconds > 0', name=op.f('ck_plans_time_limit_positive')),
    sa.ForeignKeyConstraint(['based_on_id'], ['plans.id'], name=op.f('fk_plans_based_on_id_plans'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_plans_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    op.create_index(op.f('ix_plans_month'), 'plans', ['month'], unique=False)
    op.create_index('ix_plans_status', 'plans', ['status'], unique=False)


def downgrade():
    op.drop_index('ix_plans_status', table_name='plans')
    op.drop_index(op.f('ix_plans_month'), table_name='plans')
    op.drop_table('plans')
