"""Notifications, email outbox, scheduler heartbeat and job runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa
import opsroom.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ADD COLUMN (SQLite takes it with a constant default), not
    # batch: recreating `users` on SQLite would drop and re-add the parent of
    # every foreign key (api tokens cascade on delete).
    op.add_column('users', sa.Column('email_notifications', sa.Boolean(), nullable=False,
                                     server_default=sa.true()))

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('created_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email_status', sa.String(length=10), nullable=True),
    sa.Column('email_attempts', sa.Integer(), nullable=False),
    sa.Column('email_next_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email_sent_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email_error', sa.String(length=500), nullable=False),
    sa.CheckConstraint("kind IN ('reminder', 'hold_expiring', 'daily_summary', 'booking_moved', 'booking_cancelled')",
                       name=op.f('ck_notifications_kind')),
    sa.CheckConstraint("email_status IN ('pending', 'sending', 'sent', 'failed')",
                       name=op.f('ck_notifications_email_status')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_notifications_booking_id_bookings'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('key', name=op.f('uq_notifications_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_read', ['user_id', 'read_at'], unique=False)
        batch_op.create_index('ix_notifications_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('ix_notifications_email_due', ['email_status', 'email_next_at'], unique=False)

    op.create_table('scheduler_heartbeat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node', sa.String(length=200), nullable=False),
    sa.Column('acting_since', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_heartbeat'))
    )
    op.create_table('job_records',
    sa.Column('job_id', sa.String(length=50), nullable=False),
    sa.Column('node', sa.String(length=200), nullable=False),
    sa.Column('last_run', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=2000), nullable=True),
    sa.Column('last_error_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_run', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_records'))
    )


def downgrade():
    op.drop_table('job_records')
    op.drop_table('scheduler_heartbeat')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_email_due')
        batch_op.drop_index('ix_notifications_user_created')
        batch_op.drop_index('ix_notifications_user_read')
    op.drop_table('notifications')
    op.drop_column('users', 'email_notifications')
