"""Integrations: robots, webhooks, the outbox of events and deliveries, robot
send log, 抖店 push messages

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import opsroom.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('doudian_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('msg_id', sa.String(length=128), nullable=False),
    sa.Column('tag', sa.String(length=10), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('result', sa.String(length=200), nullable=False),
    sa.Column('received_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doudian_messages')),
    sa.UniqueConstraint('msg_id', name=op.f('uq_doudian_messages_msg_id'))
    )
    op.create_table('outbox_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('occurred_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_events_key'))
    )
    op.create_table('robots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('mentions', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('paused_until', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("format IN ('text', 'markdown')", name=op.f('ck_robots_format')),
    sa.CheckConstraint("kind IN ('wecom', 'dingtalk', 'feishu')", name=op.f('ck_robots_kind')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_robots_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_robots_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robots'))
    )
    with op.batch_alter_table('robots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_robots_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_webhooks_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('robot_id', sa.Integer(), nullable=True),
    sa.Column('webhook_id', sa.Integer(), nullable=True),
    sa.Column('msg_id', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_response', sa.String(length=500), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('last_attempt_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('merged', sa.Integer(), nullable=False),
    sa.Column('created_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_deliveries_state')),
    sa.CheckConstraint('(robot_id IS NULL) <> (webhook_id IS NULL)', name=op.f('ck_deliveries_one_target')),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id'], name=op.f('fk_deliveries_event_id_outbox_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['robot_id'], ['robots.id'], name=op.f('fk_deliveries_robot_id_robots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_deliveries_webhook_id_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('msg_id', name=op.f('uq_deliveries_msg_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_due', ['state', 'next_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_deliveries_robot', ['robot_id', 'id'], unique=False)
        batch_op.create_index('ix_deliveries_webhook', ['webhook_id', 'id'], unique=False)

    op.create_table('robot_sends',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('robot_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['robot_id'], ['robots.id'], name=op.f('fk_robot_sends_robot_id_robots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robot_sends'))
    )
    with op.batch_alter_table('robot_sends', schema=None) as batch_op:
        batch_op.create_index('ix_robot_sends_robot_time', ['robot_id', 'sent_at'], unique=False)



def downgrade():
    with op.batch_alter_table('robot_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_robot_sends_robot_time')

    op.drop_table('robot_sends')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_webhook')
        batch_op.drop_index('ix_deliveries_robot')
        batch_op.drop_index(batch_op.f('ix_deliveries_event_id'))
        batch_op.drop_index('ix_deliveries_due')

    op.drop_table('deliveries')
    op.drop_table('webhooks')
    with op.batch_alter_table('robots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_robots_tenant_id'))

    op.drop_table('robots')
    op.drop_table('outbox_events')
    op.drop_table('doudian_messages')
