"""Concurrent overlapping imports store each order exactly once: real commits,
separate connections, a barrier releasing every client at once; both engines.
The upsert (not a read-then-write) is what makes this hold."""
from __future__ import annotations

import io
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from opsroom.db import intent
from opsroom.models import Booking, ImportBatch, Order, Room, Tenant
from opsroom.domain.statuses import SOLD_STATUSES
from opsroom.services.park import users
from tests.conftest import at, configure
from tests.support.live import at_once
from opsroom.services.sales.ingestion import import_export, ingest_rows

pytestmark = pytest.mark.live
CLIENTS = 8
PER_CLIENT = 300
STEP = 100  # client i sends orders [i*STEP, i*STEP + PER_CLIENT): each overlaps its neighbours


def arrange(app):
    with app.app_context(), intent(write=True):
        session = app.extensions["opsroom.sessionmaker"]()
        user = users.create_user(session, email="orders-race@test.example", role="coordinator", password="race-password-1")
        room = Room(code="RACE-O", name="race", zone="z", kind="k", open_time=time(0, 0), close_time=time(0, 0),
                    changeover_minutes=15, min_minutes=15, max_minutes=720)
        tenant = Tenant(name="race tenant")
        session.add_all([room, tenant])
        session.flush()
        booking = Booking(room_id=room.id, tenant_id=tenant.id, starts_at=at(0, 19), ends_at=at(0, 21),
                          occupied_until=at(0, 21, 15))
        session.add(booking)
        session.commit()
        ids = user.id, booking.id
        session.close()
    return ids


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
    user_id, booking_id = arrange(committed_app)
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
    user_id, booking_id = arrange(committed_app)
    results = run_clients(committed_app, user_id,
                          lambda session, user, i: import_export(session, user, io.BytesIO(_csv(i))))
    assert sum(r["created"] for r in results) == UNIQUE
    assert all(r["errors"] == [] and r["unattributed"] == 0 for r in results)
    assert totals(committed_app) == ((UNIQUE, UNIQUE, GMV), CLIENTS)
