"""Orders, import batches, screen tokens, booking reviews

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa
import opsroom.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('bytes_total', sa.BigInteger(), nullable=False),
    sa.Column('bytes_done', sa.BigInteger(), nullable=False),
    sa.Column('rows_seen', sa.Integer(), nullable=False),
    sa.Column('upload_key', sa.String(length=64), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('unattributed', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('started_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("source IN ('json', 'csv')", name=op.f('ck_import_batches_source')),
    sa.CheckConstraint("state IN ('running', 'done', 'failed')", name=op.f('ck_import_batches_state')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_batches_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batches_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_import_batches_user_upload_key', ['user_id', 'upload_key'], unique=False)

    op.create_table('screen_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_screen_tokens_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screen_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_screen_tokens_token_hash'))
    )
    op.create_table('import_rejects',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_import_rejects_batch_id_import_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_rejects'))
    )
    with op.batch_alter_table('import_rejects', schema=None) as batch_op:
        batch_op.create_index('ix_import_rejects_batch_position', ['batch_id', 'position'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('attributed_by', sa.String(length=10), nullable=True),
    sa.Column('room_code', sa.String(length=32), nullable=False),
    sa.Column('anchor_account', sa.String(length=100), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('product_name', sa.String(length=200), nullable=False),
    sa.Column('buyer', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('refund_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('ordered_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("attributed_by IN ('booking', 'room', 'anchor', 'manual')", name=op.f('ck_orders_attributed_by')),
    sa.CheckConstraint("status IN ('paid', 'refunded', 'cancelled')", name=op.f('ck_orders_status')),
    sa.CheckConstraint('amount_fen >= 0 AND refund_fen >= 0 AND refund_fen <= amount_fen', name=op.f('ck_orders_money')),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_orders_quantity_nonneg')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_orders_batch_id_import_batches'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_orders_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_orders_product_id_products'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('platform', 'external_id', name='uq_orders_platform_external_id')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_booking_time', ['booking_id', 'ordered_at'], unique=False)
        batch_op.create_index('ix_orders_time', ['ordered_at'], unique=False)
        # Sold orders by session and time with their amount: the big screen's day and
        # the live loads read this index alone (SQLite and PostgreSQL partial index).
        sold = sa.text("status IN ('paid', 'refunded')")
        batch_op.create_index('ix_orders_sold_booking_time', ['booking_id', 'ordered_at', 'amount_fen'], unique=False,
                              sqlite_where=sold, postgresql_where=sold)

    op.create_table('review_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_review_notes_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_review_notes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_notes'))
    )
    with op.batch_alter_table('review_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_notes_booking_id'), ['booking_id'], unique=False)


def downgrade():
    with op.batch_alter_table('review_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_notes_booking_id'))

    op.drop_table('review_notes')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_sold_booking_time')
        batch_op.drop_index('ix_orders_time')
        batch_op.drop_index('ix_orders_booking_time')

    op.drop_table('orders')
    with op.batch_alter_table('import_rejects', schema=None) as batch_op:
        batch_op.drop_index('ix_import_rejects_batch_position')

    op.drop_table('import_rejects')
    op.drop_table('screen_tokens')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index('ix_import_batches_user_upload_key')
        batch_op.drop_index(batch_op.f('ix_import_batches_user_id'))

    op.drop_table('import_batches')
