"""Sold orders per session and quarter hour, kept by triggers: the big screen's day totals

The hall screen totals today's sold orders per session. A busy park sells
~400,000 orders a day, and summing them on every refresh cost 130–320 ms;
`sales_quarters` holds the sums per (session, UTC quarter hour), so the day is
a few thousand rows. Every park-local day starts and ends on a quarter hour
(time-zone offsets are multiples of 15 minutes), so a day's figures are exact.

`booking_id` 0 holds orders no session was found for. Sold means status
paid or refunded (services/stats.SOLD), GMV is `amount_fen` of those.

- PostgreSQL: statement-level triggers append one row per (session, quarter)
  a statement changed, with the change (negative for orders that left). No row
  is ever updated, so concurrent imports never wait on each other here (an
  upsert would lock rows in an order of its own and could deadlock two imports
  of the same orders). Readers sum the rows.
- SQLite: row-level triggers upsert one row per (quarter, session) (writers
  are serialized, nothing can deadlock), so the table stays one row per pair.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

SOLD = "status IN ('paid', 'refunded')"
PG_QUARTER = "floor(extract(epoch FROM ordered_at) / 900)::bigint"


def sqlite_quarter(row: str) -> str:
    # Whole seconds only: SQLite parses fractions to the millisecond, rounding
    # 11:14:59.9999995 up into the next quarter.
    return f"CAST(strftime('%s', substr({row}.ordered_at, 1, 19)) AS INTEGER) / 900"


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "sales_quarters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("gmv_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_quarters")),
    )
    quarter = PG_QUARTER if postgres else sqlite_quarter("orders")
    op.execute(f"""
        INSERT INTO sales_quarters (booking_id, quarter, orders, gmv_fen)
        SELECT coalesce(booking_id, 0), {quarter}, count(*), sum(amount_fen)
        FROM orders WHERE {SOLD} GROUP BY 1, 2""")
    if postgres:
        op.create_index("ix_sales_quarters_quarter", "sales_quarters", ["quarter", "booking_id"])
        # One function per event: a trigger's transition tables are its own.
        delta = {
            "INSERT": f"SELECT coalesce(booking_id, 0) AS k, {PG_QUARTER} AS q, 1 AS n, amount_fen AS g "
                      f"FROM new_rows WHERE {SOLD}",
            "DELETE": f"SELECT coalesce(booking_id, 0) AS k, {PG_QUARTER} AS q, -1 AS n, -amount_fen AS g "
                      f"FROM old_rows WHERE {SOLD}",
        }
        delta["UPDATE"] = delta["DELETE"] + " UNION ALL " + delta["INSERT"]
        for event, rows in delta.items():
            op.execute(f"""
                CREATE FUNCTION opsroom_sales_quarters_{event.lower()}() RETURNS trigger AS $$
                BEGIN
                  INSERT INTO sales_quarters (booking_id, quarter, orders, gmv_fen)
                    SELECT k, q, sum(n), sum(g) FROM ({rows}) AS d
                    GROUP BY k, q HAVING sum(n) <> 0 OR sum(g) <> 0;
                  RETURN NULL;
                END $$ LANGUAGE plpgsql""")
            tables = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows",
                      "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}[event]
            op.execute(f"CREATE TRIGGER orders_sales_quarters_{event.lower()} AFTER {event} ON orders "
                       f"REFERENCING {tables} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION opsroom_sales_quarters_{event.lower()}()")
        return
    op.create_index("ux_sales_quarters_quarter_booking", "sales_quarters", ["quarter", "booking_id"], unique=True)

    def add(row: str, sign: str) -> str:
        return (f"INSERT INTO sales_quarters (booking_id, quarter, orders, gmv_fen) "
                f"SELECT coalesce({row}.booking_id, 0), {sqlite_quarter(row)}, {sign}1, {sign}{row}.amount_fen "
                f"WHERE {row}.{SOLD} "
                f"ON CONFLICT (quarter, booking_id) DO UPDATE SET orders = orders + excluded.orders, "
                f"gmv_fen = gmv_fen + excluded.gmv_fen;")

    op.execute(f"CREATE TRIGGER orders_sales_quarters_insert AFTER INSERT ON orders BEGIN {add('NEW', '')} END")
    op.execute("CREATE TRIGGER orders_sales_quarters_update AFTER UPDATE OF booking_id, status, amount_fen, ordered_at "
               f"ON orders BEGIN {add('OLD', '-')} {add('NEW', '')} END")
    op.execute(f"CREATE TRIGGER orders_sales_quarters_delete AFTER DELETE ON orders BEGIN {add('OLD', '-')} END")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in ("insert", "update", "delete"):
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS orders_sales_quarters_{event} ON orders")
            op.execute(f"DROP FUNCTION IF EXISTS opsroom_sales_quarters_{event}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS orders_sales_quarters_{event}")
    op.drop_table("sales_quarters")
