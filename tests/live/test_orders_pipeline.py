"""A JSON batch of several parts, as the API takes it, on real connections: on
PostgreSQL each part is attributed on the caller's thread, reading on a
connection of its own, while the thread of the session's connection writes the
part before (services.sales.ingestion.Behind); on SQLite the same parts run one
after the other. Either way the batch is attributed, counted and rejected
exactly as one part would be. Both engines."""
from __future__ import annotations

import sys
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from opsroom.db import intent
from opsroom.models import Booking, ImportBatch, ImportReject, Order, User
from opsroom.services.sales import ingestion
from tests.conftest import at
from tests.support.faults import fail_second_write
from tests.support.races import arrange

pytestmark = pytest.mark.live


def test_a_batch_in_parts_is_attributed_on_a_connection_of_its_own(committed_app, monkeypatch):
    monkeypatch.setattr(ingestion, "PART_ROWS", 40)
    monkeypatch.setattr(ingestion, "FIRST_PART_ROWS", 10)
    arranged = arrange(committed_app, email="pipeline@test.example", room_code="PIPE-1",
                       booking=(at(0, 19), at(0, 21)))
    with committed_app.app_context(), intent(write=True):
        session = committed_app.extensions["opsroom.sessionmaker"]()
        cancelled = Booking(room_id=arranged.room_id, tenant_id=arranged.tenant_id, starts_at=at(0, 22),
                            ends_at=at(0, 23), occupied_until=at(0, 23), status="cancelled")
        session.add(cancelled)
        session.commit()
        cancelled_id = cancelled.id
        session.close()

    items = []
    for n in range(150):
        item = {"platform": "douyin", "external_id": f"PIPE{n:05d}", "quantity": 1, "amount": "10.00",
                "ordered_at": (at(0, 19) + timedelta(seconds=30 * n)).isoformat(), "status": "paid"}
        if n % 3 == 0:
            item["room_code"] = "PIPE-1"                 # by the room and the time
        elif n % 3 == 1:
            item["booking_id"] = arranged.booking_id     # by its explicit session
        else:
            item["room_code"] = "NO-SUCH-ROOM"           # kept, unattributed
        items.append(item)
    items[47]["booking_id"] = cancelled_id               # a cancelled session sold nothing: rejected
    items[101]["amount"] = "-1"                          # a bad row: rejected by the checks
    # (both were rows of the unknown room: 50 by the room, 50 by the session, 48 unattributed)

    threads = {"prepare": set(), "store": set()}
    switching = set()
    prepare, store = ingestion.prepare_chunk, ingestion.store_chunk

    def spy(kind, real):
        def run(session, *args):
            threads[kind].add(threading.current_thread().name)
            switching.add(sys.getswitchinterval())
            return real(session, *args)
        return run

    monkeypatch.setattr(ingestion, "prepare_chunk", spy("prepare", prepare))
    monkeypatch.setattr(ingestion, "store_chunk", spy("store", store))
    before = sys.getswitchinterval()
    with committed_app.app_context(), intent(write=True):
        session = committed_app.extensions["opsroom.sessionmaker"]()
        try:
            user = session.get(User, arranged.user_id)
            result = ingestion.import_json(session, user, items)
            postgres = session.get_bind().dialect.name == "postgresql"
        finally:
            session.close()

    assert [e["index"] for e in result["errors"]] == [47, 101]
    # (each part's upsert empties the staging table: no part sees an earlier one's rows again)
    assert (result["created"], result["updated"], result["unchanged"], result["unattributed"]) == (148, 0, 0, 48)
    assert committed_app.extensions["opsroom.engine"].pool.checkedout() == 0  # the reads' connection went back
    if postgres:  # attributed where it was checked, written by the other thread
        assert threads["prepare"] == {threading.current_thread().name}
        assert all(name.startswith("opsroom-orders") for name in threads["store"])
        # the two threads take quick turns while the pipeline runs, and only then
        assert switching == {ingestion._QuickSwitching.SWITCH_SECONDS} != {before}
    assert sys.getswitchinterval() == before

    with committed_app.app_context():
        session = committed_app.extensions["opsroom.sessionmaker"]()
        by = dict(session.execute(sa.select(Order.attributed_by, sa.func.count()).group_by(Order.attributed_by)).all())
        assert by == {"room": 50, "booking": 50, None: 48}
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)
                              .where(Order.booking_id == arranged.booking_id)) == 100
        batch = session.get(ImportBatch, result["batch_id"])
        assert (batch.state, batch.rows_seen, batch.created, batch.unattributed, batch.rejected) \
            == ("done", 150, 148, 48, 2)
        assert session.scalars(sa.select(ImportReject.position).where(ImportReject.batch_id == batch.id)
                               .order_by(ImportReject.position)).all() == [47, 101]
        session.close()


def test_a_failed_write_undoes_the_batch_and_leaves_nothing_behind(committed_app, monkeypatch):
    """The second part's write fails: the batch is rolled back whole, the thread's
    quick interpreter turns end, and both connections go back to the pool."""
    monkeypatch.setattr(ingestion, "PART_ROWS", 40)
    monkeypatch.setattr(ingestion, "FIRST_PART_ROWS", 10)
    arranged = arrange(committed_app, email="pipeline-fail@test.example", room_code="PIPE-2",
                       booking=(at(0, 19), at(0, 21)))
    writes = fail_second_write(monkeypatch)
    items = [{"platform": "douyin", "external_id": f"FAIL{n:04d}", "room_code": "PIPE-2", "amount": "1.00",
              "ordered_at": (at(0, 19) + timedelta(seconds=n)).isoformat(), "status": "paid"} for n in range(100)]
    before = sys.getswitchinterval()
    with committed_app.app_context(), intent(write=True):
        session = committed_app.extensions["opsroom.sessionmaker"]()
        try:
            user = session.get(User, arranged.user_id)
            with pytest.raises(sa.exc.OperationalError):
                ingestion.import_json(session, user, items)
        finally:
            session.close()
    assert len(writes) == 2 and sys.getswitchinterval() == before
    assert committed_app.extensions["opsroom.engine"].pool.checkedout() == 0
    with committed_app.app_context():
        session = committed_app.extensions["opsroom.sessionmaker"]()
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
        session.close()


@pytest.mark.parametrize("n, parts", [
    (0, []), (1, [(0, 1)]), (40, [(0, 40)]),
    (41, [(0, 10), (10, 30), (30, 41)]),
    (200, [(0, 10), (10, 30), (30, 70), (70, 110), (110, 150), (150, 190), (190, 200)]),
])
def test_a_batch_starts_with_a_small_part_and_doubles(monkeypatch, n, parts):
    """Writing starts after the first few rows are checked; no part exceeds PART_ROWS;
    a batch of at most PART_ROWS is one part (written without a thread)."""
    monkeypatch.setattr(ingestion, "PART_ROWS", 40)
    monkeypatch.setattr(ingestion, "FIRST_PART_ROWS", 10)
    assert list(ingestion._parts(n)) == parts


def test_within_another_service_the_batch_reads_on_its_own_transaction(committed_app, monkeypatch):
    """Called by another service, whose transaction may hold sessions a second connection
    could not see, the batch attributes each part on the writing thread, in its transaction:
    a session created just before in the same transaction takes its orders."""
    from opsroom.services.transaction import transactional

    monkeypatch.setattr(ingestion, "PART_ROWS", 40)
    monkeypatch.setattr(ingestion, "FIRST_PART_ROWS", 10)
    arranged = arrange(committed_app, email="pipeline-nested@test.example", room_code="PIPE-3")
    threads = set()
    prepare = ingestion.prepare_chunk

    def spy(session, *args):
        threads.add(threading.current_thread().name)
        return prepare(session, *args)

    monkeypatch.setattr(ingestion, "prepare_chunk", spy)

    @transactional
    def book_and_import(session, user):
        booking = Booking(room_id=arranged.room_id, tenant_id=arranged.tenant_id, starts_at=at(0, 19),
                          ends_at=at(0, 21), occupied_until=at(0, 21))
        session.add(booking)
        session.flush()  # not committed: another connection would not see it
        items = [{"platform": "douyin", "external_id": f"NEST{n:04d}", "booking_id": booking.id, "amount": "1.00",
                  "ordered_at": (at(0, 19) + timedelta(seconds=n)).isoformat(), "status": "paid"} for n in range(100)]
        return ingestion.import_json(session, user, items)

    with committed_app.app_context(), intent(write=True):
        session = committed_app.extensions["opsroom.sessionmaker"]()
        try:
            result = book_and_import(session, session.get(User, arranged.user_id))
            postgres = session.get_bind().dialect.name == "postgresql"
        finally:
            session.close()
    assert (result["created"], result["errors"]) == (100, [])
    if postgres:
        assert all(name.startswith("opsroom-orders") for name in threads)


def test_new_orders_are_copied_straight_in_and_a_reimport_falls_back_to_the_upsert(committed_app, monkeypatch):
    """On PostgreSQL a batch's parts are first copied straight into the orders table, each in
    a savepoint. A part that meets an order already there is rolled back to its savepoint
    (leaving none of its rows, even those copied before the clash) and upserted; the batch's
    later parts go straight to the upsert. Counts and rows are exact either way (both engines:
    on SQLite every part is the upsert)."""
    monkeypatch.setattr(ingestion, "PART_ROWS", 40)
    monkeypatch.setattr(ingestion, "FIRST_PART_ROWS", 10)
    monkeypatch.setattr(ingestion, "DIRECT_PARTS", 3)
    arranged = arrange(committed_app, email="pipeline-direct@test.example", room_code="PIPE-4",
                       booking=(at(0, 19), at(0, 21)))
    writes = []
    real = ingestion._write_postgres

    def spy(session, payload, direct):
        result = real(session, payload, direct)
        # (asked to copy straight in, clashed, parts of the transaction copied straight in so far)
        writes.append((direct, result[3], session.connection().info[ingestion._DIRECT][1]))
        return result

    monkeypatch.setattr(ingestion, "_write_postgres", spy)

    def item(ext: str, n: int, amount: str = "10.00") -> dict:
        return {"platform": "douyin", "external_id": ext, "room_code": "PIPE-4", "amount": amount,
                "ordered_at": (at(0, 19) + timedelta(seconds=n)).isoformat(), "status": "paid"}

    def run(items):
        with committed_app.app_context(), intent(write=True):
            session = committed_app.extensions["opsroom.sessionmaker"]()
            try:
                return ingestion.import_json(session, session.get(User, arranged.user_id), items)
            finally:
                session.close()

    first = run([item(f"B{n:04d}", n) for n in range(200)])  # parts of 10, 20, 40, 40, 40, 40, 10
    assert (first["created"], first["updated"], first["unchanged"]) == (200, 0, 0)
    postgres = committed_app.extensions["opsroom.engine"].dialect.name == "postgresql"
    if postgres:  # the transaction's first DIRECT_PARTS parts copied, none clashed; the rest upserted
        assert writes == [(True, False, 1), (True, False, 2)] + [(True, False, 3)] * 5
    writes.clear()
    # The first part: five new orders, which sort before the five already there (copied
    # before the clash, then rolled back with the savepoint), then 190 new and 5 repeated.
    again = [item(f"A{n:04d}", n) for n in range(5)] + [item(f"B{n:04d}", n, "12.00") for n in range(5)]
    again += [item(f"C{n:04d}", n) for n in range(185)] + [item(f"B{n:04d}", n) for n in range(100, 105)]
    second = run(again)
    assert (second["created"], second["updated"], second["unchanged"]) == (190, 5, 5)
    if postgres:  # the first part clashed; every later part went straight to the upsert
        assert writes == [(True, True, 1)] + [(False, False, 1)] * 6
    with committed_app.app_context():
        session = committed_app.extensions["opsroom.sessionmaker"]()
        stored = session.scalars(sa.select(Order.external_id)).all()
        assert len(stored) == len(set(stored)) == 390
        assert {c: sum(e.startswith(c) for e in stored) for c in "ABC"} == {"A": 5, "B": 200, "C": 185}
        assert session.scalar(sa.select(sa.func.sum(Order.amount_fen)).where(Order.external_id < "B0005")) \
            == 5 * 1000 + 5 * 1200
        batch = session.get(ImportBatch, second["batch_id"])
        assert (batch.created, batch.updated, batch.unchanged, batch.unattributed) == (190, 5, 5, 0)
        session.close()


@pytest.mark.parametrize("direct", [True, False], ids=["copied straight in", "upserted"])
def test_a_database_error_in_a_write_is_sqlalchemys(committed_app, direct):
    """An order naming a session that is not there (as when one is deleted between its
    attribution and the write) fails with the foreign key's error as SQLAlchemy raises it,
    whichever way the part is written, so the API answers it as it answers any integrity
    error, never a 500 (PostgreSQL: the other engine has one way)."""
    with committed_app.app_context():
        session = committed_app.extensions["opsroom.sessionmaker"]()
        try:
            if session.get_bind().dialect.name != "postgresql":
                pytest.skip("SQLite writes one statement, through SQLAlchemy")
            record = ("douyin", "GONE0001", "", 987654321, "booking", "", "", "", None, "", "", 1, 100, 0, "paid",
                      at(0, 19), None, at(0, 19))
            payload = ingestion._copy_payload(session, [record])
            with pytest.raises(sa.exc.IntegrityError) as raised:
                ingestion._write_postgres(session, payload, direct)
            assert "fk_orders_booking_id_bookings" in str(raised.value)
        finally:
            session.rollback()
            session.close()
