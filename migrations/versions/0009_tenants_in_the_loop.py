"""Tenants in the loop: tenant accounts, priority and prime-time quota, requests and offers

- users.tenant_id and the role `tenant` (a tenant's account is bound to one tenant,
  and only a tenant's account is: CHECK ck_users_tenant_bound);
- tenants.priority (1–3, default 2) and tenants.prime_quota_hours_per_week (NULL = none);
- booking_requests (预约申请) with their offer (a hold booking, unique: one freed
  slot is never offered to two requests) and request_bookings (the bookings a
  request became);
- notification kinds for requests and offers.

On SQLite a CHECK constraint can only change by recreating the table, and
recreating `users` (a parent of api tokens, login sessions and notices, which
cascade on delete) would delete those rows while foreign keys are on, which they
are in every connection. So on SQLite the CHECK texts are rewritten in place in
the schema, the documented procedure for changes that leave the stored rows
valid (https://www.sqlite.org/lang_altertable.html, "writable_schema"); the rows
already there keep every new constraint (no tenant users, default priority).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import opsroom.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('admin', 'manager', 'coordinator', 'anchor')"
NEW_ROLES = "role IN ('admin', 'manager', 'coordinator', 'anchor', 'tenant')"
TENANT_BOUND = "(role = 'tenant') = (tenant_id IS NOT NULL)"

KINDS_BEFORE = ('reminder', 'hold_expiring', 'daily_summary', 'booking_moved', 'booking_cancelled')
KINDS_ADDED = ('request_created', 'request_approved', 'request_rejected', 'request_withdrawn', 'request_waiting',
               'request_offered', 'offer_lapsed', 'offer_accepted')
OLD_KINDS = opsroom.db.sql_in("kind", KINDS_BEFORE)
NEW_KINDS = opsroom.db.sql_in("kind", KINDS_BEFORE + KINDS_ADDED)
TENANT_ID_COLUMN = "tenant_id INTEGER CONSTRAINT fk_users_tenant_id_tenants REFERENCES tenants (id)"

PRIORITY = "priority BETWEEN 1 AND 3"
PRIME_QUOTA = "prime_quota_hours_per_week IS NULL OR prime_quota_hours_per_week >= 0"


def _sqlite_rewrite(table: str, replacements: list[tuple[str, str]]) -> None:
    """Replace texts in a SQLite table's CREATE statement (each must occur once)."""
    conn = op.get_bind()
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).scalar_one()
    for old, new in replacements:
        if sql.count(old) != 1:
            raise RuntimeError(f"{table}: expected the schema text {old!r} once")
        sql = sql.replace(old, new)
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
    conn.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"{table}: integrity check after the schema rewrite: {problems}")


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"

    # Tenants: priority and quota (constant defaults: a plain ADD COLUMN on SQLite).
    op.add_column('tenants', sa.Column('priority', sa.Integer(), nullable=False, server_default='2'))
    op.add_column('tenants', sa.Column('prime_quota_hours_per_week', sa.Integer(), nullable=True))

    # Users: the tenant a tenant's account belongs to.
    if sqlite:
        op.execute(f"ALTER TABLE users ADD COLUMN {TENANT_ID_COLUMN}")
        _sqlite_rewrite('users', [(
            f"CONSTRAINT ck_users_role CHECK ({OLD_ROLES})",
            f"CONSTRAINT ck_users_role CHECK ({NEW_ROLES}), \n\t"
            f"CONSTRAINT ck_users_tenant_bound CHECK ({TENANT_BOUND})",
        )])
        _sqlite_rewrite('tenants', [(
            "CONSTRAINT ck_tenants_status CHECK (status IN ('active', 'suspended', 'blacklisted'))",
            "CONSTRAINT ck_tenants_status CHECK (status IN ('active', 'suspended', 'blacklisted')), \n\t"
            f"CONSTRAINT ck_tenants_priority CHECK ({PRIORITY}), \n\t"
            f"CONSTRAINT ck_tenants_prime_quota CHECK ({PRIME_QUOTA})",
        )])
        _sqlite_rewrite('notifications', [(
            f"CONSTRAINT ck_notifications_kind CHECK ({OLD_KINDS})",
            f"CONSTRAINT ck_notifications_kind CHECK ({NEW_KINDS})",
        )])
    else:
        op.add_column('users', sa.Column('tenant_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_users_tenant_id_tenants'), 'users', 'tenants', ['tenant_id'], ['id'])
        op.drop_constraint(op.f('ck_users_role'), 'users', type_='check')
        op.create_check_constraint(op.f('ck_users_role'), 'users', sa.text(NEW_ROLES))
        op.create_check_constraint(op.f('ck_users_tenant_bound'), 'users', sa.text(TENANT_BOUND))
        op.create_check_constraint(op.f('ck_tenants_priority'), 'tenants', sa.text(PRIORITY))
        op.create_check_constraint(op.f('ck_tenants_prime_quota'), 'tenants', sa.text(PRIME_QUOTA))
        op.drop_constraint(op.f('ck_notifications_kind'), 'notifications', type_='check')
        op.create_check_constraint(op.f('ck_notifications_kind'), 'notifications', sa.text(NEW_KINDS))
    op.create_index(op.f('ix_users_tenant_id'), 'users', ['tenant_id'], unique=False)

    op.create_table('booking_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('room_kind', sa.String(length=50), nullable=True),
    sa.Column('zone', sa.String(length=50), nullable=True),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('recurrence', sa.JSON(), nullable=True),
    sa.Column('window_start', sa.Time(), nullable=False),
    sa.Column('window_end', sa.Time(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('anchors', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', opsroom.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('no_room', sa.Boolean(), nullable=False),
    sa.Column('offer_booking_id', sa.Integer(), nullable=True),
    sa.Column('offered_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('offer_expires_at', opsroom.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn', 'waiting', 'offered', 'lapsed')",
                       name=op.f('ck_booking_requests_status')),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_booking_requests_minutes_positive')),
    sa.CheckConstraint("status <> 'offered' OR (offer_booking_id IS NOT NULL AND offer_expires_at IS NOT NULL)",
                       name=op.f('ck_booking_requests_offer_complete')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_booking_requests_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_booking_requests_room_id_rooms')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_booking_requests_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_booking_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['offer_booking_id'], ['bookings.id'],
                            name=op.f('fk_booking_requests_offer_booking_id_bookings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_requests')),
    sa.UniqueConstraint('offer_booking_id', name=op.f('uq_booking_requests_offer_booking_id'))
    )
    op.create_index(op.f('ix_booking_requests_tenant_id'), 'booking_requests', ['tenant_id'], unique=False)
    op.create_index('ix_booking_requests_status_created', 'booking_requests', ['status', 'created_at'], unique=False)
    op.create_index('ix_booking_requests_date', 'booking_requests', ['date'], unique=False)
    op.create_index('ix_booking_requests_offer_due', 'booking_requests', ['offer_expires_at'], unique=False,
                    sqlite_where=sa.text("status = 'offered'"), postgresql_where=sa.text("status = 'offered'"))

    op.create_table('request_bookings',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_request_bookings_booking_id_bookings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['booking_requests.id'],
                            name=op.f('fk_request_bookings_request_id_booking_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'booking_id', name=op.f('pk_request_bookings')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_request_bookings_booking_id'))
    )


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_table('request_bookings')
    op.drop_index('ix_booking_requests_offer_due', table_name='booking_requests')
    op.drop_index('ix_booking_requests_date', table_name='booking_requests')
    op.drop_index('ix_booking_requests_status_created', table_name='booking_requests')
    op.drop_index(op.f('ix_booking_requests_tenant_id'), table_name='booking_requests')
    op.drop_table('booking_requests')

    # Notices of the new kinds and tenant accounts cannot stay under the old constraints.
    op.execute(f"DELETE FROM notifications WHERE {opsroom.db.sql_in('kind', KINDS_ADDED)}")
    op.execute("DELETE FROM users WHERE role = 'tenant'")
    op.drop_index(op.f('ix_users_tenant_id'), table_name='users')
    if sqlite:
        _sqlite_rewrite('notifications', [(
            f"CONSTRAINT ck_notifications_kind CHECK ({NEW_KINDS})",
            f"CONSTRAINT ck_notifications_kind CHECK ({OLD_KINDS})",
        )])
        _sqlite_rewrite('tenants', [
            (f", \n\tCONSTRAINT ck_tenants_priority CHECK ({PRIORITY})", ""),
            (f", \n\tCONSTRAINT ck_tenants_prime_quota CHECK ({PRIME_QUOTA})", ""),
        ])
        _sqlite_rewrite('users', [(
            f"CONSTRAINT ck_users_role CHECK ({NEW_ROLES}), \n\t"
            f"CONSTRAINT ck_users_tenant_bound CHECK ({TENANT_BOUND})",
            f"CONSTRAINT ck_users_role CHECK ({OLD_ROLES})",
        ), (TENANT_ID_COLUMN, "tenant_id INTEGER")])
        # SQLite ≥ 3.35 drops a column that no constraint or index names any more.
        op.execute("ALTER TABLE users DROP COLUMN tenant_id")
        op.execute("ALTER TABLE tenants DROP COLUMN prime_quota_hours_per_week")
        op.execute("ALTER TABLE tenants DROP COLUMN priority")
    else:
        op.drop_constraint(op.f('ck_notifications_kind'), 'notifications', type_='check')
        op.create_check_constraint(op.f('ck_notifications_kind'), 'notifications', sa.text(OLD_KINDS))
        op.drop_constraint(op.f('ck_tenants_prime_quota'), 'tenants', type_='check')
        op.drop_constraint(op.f('ck_tenants_priority'), 'tenants', type_='check')
        op.drop_constraint(op.f('ck_users_tenant_bound'), 'users', type_='check')
        op.drop_constraint(op.f('ck_users_role'), 'users', type_='check')
        op.create_check_constraint(op.f('ck_users_role'), 'users', sa.text(OLD_ROLES))
        op.drop_constraint(op.f('fk_users_tenant_id_tenants'), 'users', type_='foreignkey')
        op.drop_column('users', 'tenant_id')
        op.drop_column('tenants', 'prime_quota_hours_per_week')
        op.drop_column('tenants', 'priority')
