"""Turned-away demand and report rollups

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

The rollups (report_room_days, report_booking_days) are computed by the app;
what keeps them in step is `report_dirty`, which triggers fill on every insert,
update and delete of bookings, blackouts and orders and on changes of a room's
open hours or capacity, whatever code path makes the change. The report first
recomputes what is dirty, so it always agrees with a computation from scratch.
"""
from alembic import op
import sqlalchemy as sa
import opsroom.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _hours(prefix):
    return [sa.Column(f"{prefix}_h{h:02d}", sa.Integer(), nullable=False) for h in range(24)]


def upgrade():
    op.create_table(
        "report_room_days",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("bookable", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("prime_bookable", sa.Integer(), nullable=False),
        sa.Column("prime_booked", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("no_shows", sa.Integer(), nullable=False),
        sa.Column("cancellations", sa.Integer(), nullable=False),
        sa.Column("late_cancellations", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("gmv_fen", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=False),
        *_hours("bookable"),
        *_hours("booked"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_report_room_days_room_id_rooms"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_id", "day", name=op.f("pk_report_room_days")),
    )
    op.create_index("ix_report_room_days_day", "report_room_days", ["day"])
    op.create_table(
        "report_booking_days",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts_here", sa.SmallInteger(), nullable=False),
        sa.Column("start_hour", sa.SmallInteger(), nullable=False),
        sa.Column("sessions", sa.SmallInteger(), nullable=False),
        sa.Column("no_shows", sa.SmallInteger(), nullable=False),
        sa.Column("cancellations", sa.SmallInteger(), nullable=False),
        sa.Column("late_cancellations", sa.SmallInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("gmv_fen", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("prime_booked", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        *_hours("booked"),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_report_booking_days_booking_id_bookings"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("booking_id", "day", name=op.f("pk_report_booking_days")),
    )
    op.create_index("ix_report_booking_days_room_day", "report_booking_days", ["room_id", "day"])
    op.create_index("ix_report_booking_days_day", "report_booking_days", ["day"])
    op.create_index("ix_report_booking_days_tenant_day", "report_booking_days", ["tenant_id", "day"])
    op.create_table(
        "report_start_hours",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("zone", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("no_shows", sa.Integer(), nullable=False),
        sa.Column("cancellations", sa.Integer(), nullable=False),
        sa.Column("late_cancellations", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("gmv_fen", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", "hour", "zone", "kind", name=op.f("pk_report_start_hours")),
    )
    op.create_table(
        "report_tenant_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("no_shows", sa.Integer(), nullable=False),
        sa.Column("cancellations", sa.Integer(), nullable=False),
        sa.Column("late_cancellations", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("gmv_fen", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=False),
        sa.Column("booked", sa.BigInteger(), nullable=False),
        sa.Column("prime_booked", sa.BigInteger(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "tenant_id", "zone", "kind", name=op.f("pk_report_tenant_days")),
    )
    op.create_table(
        "report_dirty",
        sa.Column("id", BigId, nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", opsroom.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", opsroom.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_dirty")),
    )
    op.create_table(
        "report_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_report_days")),
    )
    op.create_table(
        "turned_away",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("zone", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("starts_at", opsroom.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", opsroom.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_at", opsroom.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", opsroom.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_turned_away_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_turned_away_room_id_rooms"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_turned_away_tenant_id_tenants"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turned_away")),
        sa.UniqueConstraint("user_id", "starts_at", "ends_at", name="uq_turned_away_user_window"),
    )
    op.create_index("ix_turned_away_day", "turned_away", ["day"])
    create_dirty_triggers()


SPAN_TABLES = ("bookings", "blackouts")
ROOM_FIELDS = ("open_time", "close_time", "order_capacity_per_hour", "zone", "kind")


def create_dirty_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION opsroom_report_dirty_span() RETURNS trigger AS $$
            BEGIN
              IF TG_OP IN ('UPDATE', 'DELETE') THEN
                INSERT INTO report_dirty (room_id, starts_at, ends_at) VALUES (OLD.room_id, OLD.starts_at, OLD.ends_at);
              END IF;
              IF TG_OP IN ('UPDATE', 'INSERT') THEN
                INSERT INTO report_dirty (room_id, starts_at, ends_at) VALUES (NEW.room_id, NEW.starts_at, NEW.ends_at);
              END IF;
              RETURN NULL;
            END $$ LANGUAGE plpgsql""")
        for table in SPAN_TABLES:
            op.execute(f"CREATE TRIGGER {table}_report_dirty AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION opsroom_report_dirty_span()")
        op.execute("""
            CREATE FUNCTION opsroom_report_dirty_room() RETURNS trigger AS $$
            BEGIN
              INSERT INTO report_dirty (room_id) VALUES (NEW.id);
              RETURN NULL;
            END $$ LANGUAGE plpgsql""")
        changed = " OR ".join(f"OLD.{f} IS DISTINCT FROM NEW.{f}" for f in ROOM_FIELDS)
        op.execute("CREATE TRIGGER rooms_report_dirty_insert AFTER INSERT ON rooms "
                   "FOR EACH ROW EXECUTE FUNCTION opsroom_report_dirty_room()")
        op.execute(f"CREATE TRIGGER rooms_report_dirty_update AFTER UPDATE OF {', '.join(ROOM_FIELDS)} ON rooms "
                   f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION opsroom_report_dirty_room()")
        # Orders arrive in bulk: one statement-level trigger per statement, not per row.
        op.execute("""
            CREATE FUNCTION opsroom_report_dirty_sales() RETURNS trigger AS $$
            BEGIN
              IF TG_OP IN ('UPDATE', 'DELETE') THEN
                INSERT INTO report_dirty (booking_id)
                  SELECT DISTINCT booking_id FROM old_rows WHERE booking_id IS NOT NULL;
              END IF;
              IF TG_OP IN ('UPDATE', 'INSERT') THEN
                INSERT INTO report_dirty (booking_id)
                  SELECT DISTINCT booking_id FROM new_rows WHERE booking_id IS NOT NULL;
              END IF;
              RETURN NULL;
            END $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER orders_report_dirty_insert AFTER INSERT ON orders REFERENCING NEW TABLE AS new_rows "
                   "FOR EACH STATEMENT EXECUTE FUNCTION opsroom_report_dirty_sales()")
        op.execute("CREATE TRIGGER orders_report_dirty_update AFTER UPDATE ON orders "
                   "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
                   "FOR EACH STATEMENT EXECUTE FUNCTION opsroom_report_dirty_sales()")
        op.execute("CREATE TRIGGER orders_report_dirty_delete AFTER DELETE ON orders REFERENCING OLD TABLE AS old_rows "
                   "FOR EACH STATEMENT EXECUTE FUNCTION opsroom_report_dirty_sales()")
        return
    span = "INSERT INTO report_dirty (room_id, starts_at, ends_at) VALUES ({r}.room_id, {r}.starts_at, {r}.ends_at);"
    for table in SPAN_TABLES:
        op.execute(f"CREATE TRIGGER {table}_report_dirty_insert AFTER INSERT ON {table} BEGIN "
                   + span.format(r="NEW") + " END")
        op.execute(f"CREATE TRIGGER {table}_report_dirty_update AFTER UPDATE ON {table} BEGIN "
                   + span.format(r="OLD") + " " + span.format(r="NEW") + " END")
        op.execute(f"CREATE TRIGGER {table}_report_dirty_delete AFTER DELETE ON {table} BEGIN "
                   + span.format(r="OLD") + " END")
    room = "INSERT INTO report_dirty (room_id) VALUES (NEW.id);"
    changed = " OR ".join(f"OLD.{f} IS NOT NEW.{f}" for f in ROOM_FIELDS)
    op.execute(f"CREATE TRIGGER rooms_report_dirty_insert AFTER INSERT ON rooms BEGIN {room} END")
    op.execute(f"CREATE TRIGGER rooms_report_dirty_update AFTER UPDATE OF {', '.join(ROOM_FIELDS)} ON rooms "
               f"WHEN {changed} BEGIN {room} END")
    sale = "INSERT INTO report_dirty (booking_id) SELECT {r}.booking_id WHERE {r}.booking_id IS NOT NULL;"
    op.execute("CREATE TRIGGER orders_report_dirty_insert AFTER INSERT ON orders BEGIN " + sale.format(r="NEW") + " END")
    op.execute("CREATE TRIGGER orders_report_dirty_update AFTER UPDATE OF booking_id, status, amount_fen ON orders "
               "BEGIN " + sale.format(r="OLD") + " " + sale.format(r="NEW") + " END")
    op.execute("CREATE TRIGGER orders_report_dirty_delete AFTER DELETE ON orders BEGIN " + sale.format(r="OLD") + " END")


def drop_dirty_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table in SPAN_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_report_dirty ON {table}")
        for name in ("rooms_report_dirty_insert", "rooms_report_dirty_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON rooms")
        for name in ("orders_report_dirty_insert", "orders_report_dirty_update", "orders_report_dirty_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON orders")
        for fn in ("opsroom_report_dirty_span", "opsroom_report_dirty_room", "opsroom_report_dirty_sales"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
        return
    names = [f"{t}_report_dirty_{e}" for t in SPAN_TABLES + ("orders",) for e in ("insert", "update", "delete")]
    names += ["rooms_report_dirty_insert", "rooms_report_dirty_update"]
    for name in names:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def downgrade():
    drop_dirty_triggers()
    op.drop_index("ix_turned_away_day", table_name="turned_away")
    op.drop_table("turned_away")
    op.drop_table("report_days")
    op.drop_table("report_dirty")
    op.drop_table("report_start_hours")
    op.drop_table("report_tenant_days")
    for name in ("ix_report_booking_days_tenant_day", "ix_report_booking_days_day", "ix_report_booking_days_room_day"):
        op.drop_index(name, table_name="report_booking_days")
    op.drop_table("report_booking_days")
    op.drop_index("ix_report_room_days_day", table_name="report_room_days")
    op.drop_table("report_room_days")
