"""Concurrent overlapping imports store each order exactly once: real commits,
separate connections, a barrier releasing every client at once; both engines.
The upsert (not a read-then-write) is what makes this hold."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from opsroom.models import ImportBatch, Order
from opsroom.domain.statuses import SOLD_STATUSES
from tests.conftest import at, configure
from tests.support.live import at_once
from tests.support.races import arrange
from opsroom.services.sales import ingestion
from opsroom.services.sales.ingestion import import_export, ingest_rows

pytestmark = pytest.mark.live
CLIENTS = 8
PER_CLIENT = 300
STEP = 100  # client i sends orders [i*STEP, i*STEP + PER_CLIENT): each overlaps its neighbours


def arrange_race(app):
    """A coordinator and a booking in RACE-O tonight, 19:00–21:00: the orders' session."""
    return arrange(app, email="orders-race@test.example", room_code="RACE-O", booking=(at(0, 19), at(0, 21)))


def rows_for(client: int) -> list[dict]:
    return [{"platform": "douyin", "external_id": f"RACE{n:06d}", "room_code": "RACE-O", "quantity": 1,
             "amount_fen": 1000 + n, "ordered_at": at(0, 19) + timedelta(seconds=n), "status": "paid"}
            for n in range(client * STEP, client * STEP + PER_CLIENT)]


def run_clients(app, user_id, work):
    return at_once(app, user_id, list(range(CLIENTS)), work)


def totals(app):
    with app.app_context():
        session = app.extensions["opsroom.sessionmaker"]()
        out = session.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(Order.external_id)),
                                         sa.func.sum(Order.amount_fen)).where(Order.status.in_(SOLD_STATUSES))).one()
        batches = session.scalar(sa.select(sa.func.count()).select_from(ImportBatch).where(ImportBatch.state == "done"))
        session.close()
    return tuple(out), batches


UNIQUE = (CLIENTS - 1) * STEP + PER_CLIENT
GMV = sum(1000 + n for n in range(UNIQUE))


def test_concurrent_overlapping_json_batches_store_each_order_once(committed_app):
    user_id = arrange_race(committed_app).user_id
    results = run_clients(committed_app, user_id, lambda session, user, i: ingest_rows(session, user, rows_for(i)))
    assert all(r["errors"] == [] for r in results)
    assert sum(r["created"] for r in results) == UNIQUE
    assert sum(r["created"] + r["updated"] + r["unchanged"] for r in results) == CLIENTS * PER_CLIENT
    assert totals(committed_app) == ((UNIQUE, UNIQUE, GMV), CLIENTS)


def _csv(i: int) -> bytes:
    lines = ["子订单编号,商品数量,订单应付金额,订单提交时间,订单状态,直播间"]
    for r in rows_for(i):
        local = r["ordered_at"].strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"\t{r['external_id']},1,{r['amount_fen'] // 100}.{r['amount_fen'] % 100:02d},{local},已完成,RACE-O")
    return ("\n".join(lines) + "\n").encode("gbk")


def test_concurrent_overlapping_csv_imports_store_each_order_once(committed_app):
    """Shop exports committed chunk by chunk, interleaving with one another."""
    configure(committed_app, ORDER_IMPORT_CHUNK_ROWS=64)
    user_id = arrange_race(committed_app).user_id
    results = run_clients(committed_app, user_id,
                          lambda session, user, i: import_export(session, user, io.BytesIO(_csv(i))))
    assert sum(r["created"] for r in results) == UNIQUE
    assert all(r["errors"] == [] and r["unattributed"] == 0 for r in results)
    assert totals(committed_app) == ((UNIQUE, UNIQUE, GMV), CLIENTS)


def test_batches_written_in_parts_in_opposite_orders_never_deadlock(committed_app, monkeypatch):
    """A JSON batch is written part by part (PART_ROWS) in one transaction. Odd
    clients send their orders in reverse, so without the ingestion write lock two
    transactions would hold rows the other's next part needs (a deadlock, one
    client's 409). With it every client's batch is taken whole, each order once."""
    monkeypatch.setattr(ingestion, "PART_ROWS", 50)
    user_id = arrange_race(committed_app).user_id

    def work(session, user, i):
        rows = rows_for(i)
        return ingest_rows(session, user, rows[::-1] if i % 2 else rows)

    results = run_clients(committed_app, user_id, work)
    assert all(isinstance(r, dict) and r["errors"] == [] for r in results), results
    assert sum(r["created"] for r in results) == UNIQUE
    assert totals(committed_app) == ((UNIQUE, UNIQUE, GMV), CLIENTS)
