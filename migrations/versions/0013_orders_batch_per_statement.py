"""Orders → import batches checked once per statement on PostgreSQL

The foreign key orders.batch_id → import_batches.id checked every row of an
ingestion against the same batch row (≈ 4.4 µs a row, a sixth of an upsert's
server time). On PostgreSQL it becomes statement-level triggers that keep the
same rule: every batch an inserted or updated order names exists (checked once
per distinct batch, which is locked FOR KEY SHARE as the foreign key would
lock it, so a batch cannot be deleted under an ingestion still writing to it),
a deleted batch leaves its orders with no batch (ON DELETE SET NULL), an update
that leaves an order's batch as it was checks nothing, batches are not truncated
while orders name one, and a batch's id cannot change (stricter: the key refused
only a referenced id). A violation is the foreign key's own error (SQLSTATE
23503, the constraint's name). SQLite keeps the foreign key.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

FK = "fk_orders_batch_id_import_batches"

RAISE_MISSING = f"""
    RAISE EXCEPTION 'insert or update on table "orders" violates foreign key constraint "{FK}"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{FK}', TABLE = 'orders',
            DETAIL = format('Key (batch_id)=(%s) is not present in table "import_batches".', batch);"""

# Each named batch locked as the foreign key would lock it, in one statement with the check
# (a batch another transaction is deleting is waited for, then missing), in a fixed order.
CHECK = """
CREATE FUNCTION opsroom_orders_batch_{event}() RETURNS trigger AS $$
DECLARE
  batch bigint;
BEGIN
  FOR batch IN {named} ORDER BY 1 LOOP
    PERFORM 1 FROM import_batches WHERE id = batch FOR KEY SHARE;
    IF NOT FOUND THEN {raise}
    END IF;
  END LOOP;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""

NAMED = {
    "insert": "SELECT DISTINCT batch_id FROM new_rows WHERE batch_id IS NOT NULL",
    # as the foreign key, an update that leaves the batch as it was checks nothing
    "update": "SELECT DISTINCT n.batch_id FROM new_rows n JOIN old_rows o ON o.id = n.id "
              "WHERE n.batch_id IS NOT NULL AND n.batch_id IS DISTINCT FROM o.batch_id",
}

RELEASE = """
CREATE FUNCTION opsroom_import_batches_release() RETURNS trigger AS $$
BEGIN
  UPDATE orders SET batch_id = NULL WHERE batch_id IN (SELECT id FROM old_rows);
  RETURN NULL;
END $$ LANGUAGE plpgsql"""

# Stricter than the foreign key (which refuses only a referenced id): ids never change.
KEEP_ID = f"""
CREATE FUNCTION opsroom_import_batches_keep_id() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'update on table "import_batches" changes a key referenced from table "orders"'
    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{FK}', TABLE = 'orders';
END $$ LANGUAGE plpgsql"""

# TRUNCATE runs no delete triggers: emptying the batches is refused while orders name one
# (truncating orders in the same statement passes: AFTER TRUNCATE sees both emptied).
KEEP_ON_TRUNCATE = f"""
CREATE FUNCTION opsroom_import_batches_truncated() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM orders WHERE batch_id IS NOT NULL) THEN
    RAISE EXCEPTION 'cannot truncate a table referenced in a foreign key constraint'
      USING ERRCODE = 'feature_not_supported', CONSTRAINT = '{FK}', TABLE = 'orders',
            DETAIL = 'Table "orders" references "import_batches".';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""

TRIGGERS = (("orders_batch_exists_insert", "orders"), ("orders_batch_exists_update", "orders"),
            ("import_batches_release", "import_batches"), ("import_batches_keep_id", "import_batches"),
            ("import_batches_truncated", "import_batches"))
FUNCTIONS = ("opsroom_orders_batch_insert", "opsroom_orders_batch_update", "opsroom_import_batches_release",
             "opsroom_import_batches_keep_id", "opsroom_import_batches_truncated")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(FK, "orders", type_="foreignkey")
    for event, named in NAMED.items():
        op.execute(CHECK.replace("{event}", event).replace("{named}", named).replace("{raise}", RAISE_MISSING))
    op.execute("CREATE TRIGGER orders_batch_exists_insert AFTER INSERT ON orders REFERENCING NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION opsroom_orders_batch_insert()")
    op.execute("CREATE TRIGGER orders_batch_exists_update AFTER UPDATE ON orders "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION opsroom_orders_batch_update()")
    op.execute(RELEASE)
    op.execute("CREATE TRIGGER import_batches_release AFTER DELETE ON import_batches "
               "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION opsroom_import_batches_release()")
    op.execute(KEEP_ID)
    op.execute("CREATE TRIGGER import_batches_keep_id BEFORE UPDATE OF id ON import_batches FOR EACH ROW "
               "WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION opsroom_import_batches_keep_id()")
    op.execute(KEEP_ON_TRUNCATE)
    op.execute("CREATE TRIGGER import_batches_truncated AFTER TRUNCATE ON import_batches "
               "FOR EACH STATEMENT EXECUTE FUNCTION opsroom_import_batches_truncated()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for trigger, table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    # (a batch removed behind the triggers' back, e.g. with them disabled: as ON DELETE SET NULL)
    op.execute("UPDATE orders o SET batch_id = NULL WHERE batch_id IS NOT NULL "
               "AND NOT EXISTS (SELECT 1 FROM import_batches b WHERE b.id = o.batch_id)")
    op.create_foreign_key(FK, "orders", "import_batches", ["batch_id"], ["id"], ondelete="SET NULL")
