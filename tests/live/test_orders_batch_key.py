"""An order's import batch is a key the database keeps, on PostgreSQL by
statement-level triggers (migration 0013, once per statement instead of once per
row), on SQLite by the foreign key: an order cannot name a batch that does not
exist, a deleted batch leaves its orders with none, a batch being written to
cannot be deleted before the writer commits, and a batch's id does not change.
Real commits and connections; both engines."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.models import ImportBatch, Order
from tests.conftest import at

pytestmark = pytest.mark.live


def _batch(conn) -> int:
    return conn.execute(sa.insert(ImportBatch).values(
        source="json", platform="douyin", state="running", started_at=clock.now()).returning(ImportBatch.id)).scalar()


def _order(conn, external_id: str, batch_id: int | None) -> None:
    conn.execute(sa.insert(Order).values(
        platform="douyin", external_id=external_id, amount_fen=100, status="paid", ordered_at=at(0, 19),
        batch_id=batch_id, created_at=clock.now()))


def _concurrent(committed_app) -> tuple[sa.Engine, int]:
    """The engine and a committed batch, for two transactions at once (PostgreSQL only)."""
    engine = committed_app.extensions["opsroom.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing runs between the two")
    with engine.begin() as conn:
        return engine, _batch(conn)


def test_an_order_cannot_name_a_batch_that_does_not_exist(committed_app):
    engine = committed_app.extensions["opsroom.engine"]
    with engine.begin() as conn:
        batch = _batch(conn)
    with pytest.raises(sa.exc.IntegrityError) as refused, engine.begin() as conn:
        _order(conn, "KEY-1", batch)            # fine
        _order(conn, "KEY-2", batch + 1000)     # no such batch: the whole transaction fails
    if engine.dialect.name == "postgresql":
        assert refused.value.orig.sqlstate == "23503"
        assert refused.value.orig.diag.constraint_name == "fk_orders_batch_id_import_batches"
    with engine.begin() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        _order(conn, "KEY-3", batch)
        with pytest.raises(sa.exc.IntegrityError):  # nor be moved to one by an update
            with conn.begin_nested():
                conn.execute(sa.update(Order).values(batch_id=batch + 1000))
        with pytest.raises(sa.exc.IntegrityError):  # nor by a re-import's upsert, as ingestion writes
            with conn.begin_nested():
                conn.execute(sa.text(
                    "INSERT INTO orders (platform, external_id, parent_id, room_code, anchor_account, sku, "
                    "product_name, buyer, quantity, amount_fen, refund_fen, status, ordered_at, batch_id, created_at) "
                    "SELECT platform, external_id, '', '', '', '', '', '', 1, 200, 0, 'paid', ordered_at, :b, created_at "
                    "FROM orders WHERE external_id = 'KEY-3' "
                    "ON CONFLICT (platform, external_id) DO UPDATE SET amount_fen = excluded.amount_fen, "
                    "batch_id = excluded.batch_id"), {"b": batch + 1000})
        conn.execute(sa.update(Order).values(status="refunded", refund_fen=100))  # its batch unchanged: fine


def test_a_deleted_batch_leaves_its_orders_with_none(committed_app):
    engine = committed_app.extensions["opsroom.engine"]
    with engine.begin() as conn:
        kept, gone = _batch(conn), _batch(conn)
        for n in range(3):
            _order(conn, f"DEL-{n}", gone)
        _order(conn, "DEL-KEPT", kept)
    with engine.begin() as conn:
        conn.execute(sa.delete(ImportBatch).where(ImportBatch.id == gone))
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.select(Order.external_id, Order.batch_id)).all())
    assert rows == {"DEL-0": None, "DEL-1": None, "DEL-2": None, "DEL-KEPT": kept}


def test_a_batch_being_written_to_is_not_deleted_under_the_writer(committed_app):
    """The writer's check locks the batch as a foreign key does: a delete waits for
    the writer's commit, then leaves the new orders with no batch."""
    engine, batch = _concurrent(committed_app)
    writer = engine.connect()
    writing = writer.begin()
    _order(writer, "LOCK-1", batch)  # not committed yet
    deleted = threading.Event()

    def delete():
        with engine.begin() as conn:
            conn.execute(sa.delete(ImportBatch).where(ImportBatch.id == batch))
        deleted.set()

    deleter = threading.Thread(target=delete)
    deleter.start()
    assert not deleted.wait(0.5)  # waiting on the writer's lock
    writing.commit()
    writer.close()
    deleter.join(10)
    assert deleted.is_set()
    with engine.connect() as conn:
        assert conn.execute(sa.select(Order.batch_id).where(Order.external_id == "LOCK-1")).scalar_one() is None
        assert conn.scalar(sa.select(sa.func.count()).select_from(ImportBatch).where(ImportBatch.id == batch)) == 0


def test_a_batch_keeps_its_id(committed_app):
    engine = committed_app.extensions["opsroom.engine"]
    with engine.begin() as conn:
        batch = _batch(conn)
        _order(conn, "ID-1", batch)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.update(ImportBatch).where(ImportBatch.id == batch).values(id=batch + 1000))


def test_a_batch_deleted_while_an_order_names_it_refuses_the_order(committed_app):
    """The delete first, not yet committed: the order's check waits for it, then finds
    no batch."""
    engine, batch = _concurrent(committed_app)
    deleter = engine.connect()
    deleting = deleter.begin()
    deleter.execute(sa.delete(ImportBatch).where(ImportBatch.id == batch))
    outcome = {}

    def write():
        try:
            with engine.begin() as conn:
                _order(conn, "LATE-1", batch)
            outcome["written"] = True
        except sa.exc.IntegrityError as exc:
            outcome["refused"] = exc.orig.sqlstate

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(0.5)
    assert writer.is_alive()  # waiting on the delete
    deleting.commit()
    deleter.close()
    writer.join(10)
    assert outcome == {"refused": "23503"}


def test_batches_are_not_truncated_while_orders_name_one(committed_app):
    engine = committed_app.extensions["opsroom.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with engine.begin() as conn:
        _order(conn, "TRUNC-1", _batch(conn))
    with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE import_rejects, import_batches")
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE orders, import_rejects, import_batches")  # together: nothing left to name
