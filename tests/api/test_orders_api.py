"""Orders over the API and the service, on both engines: JSON batches, shop
exports written here as a shop would (GBK, UTF-8 with BOM, tab-prefixed and
="…" IDs, Chinese headers, a refund in a later export, malformed rows, a
duplicate row), attribution, idempotent re-imports, atomic batches, access by
role and bad input (never a 500)."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from opsroom.models import ImportBatch, ImportReject, Order
from opsroom.domain.statuses import SOLD_STATUSES
from tests.conftest import at, configure
from tests.support.faults import fail_second_write
from opsroom.services.sales import ingestion
from opsroom.services.sales.ingestion import import_export, ingest_rows, store_chunk


def figures(session, booking_id=None):
    """(orders, GMV, refunds) as docs/domain.md defines them, from the table."""
    q = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Order.amount_fen), 0),
                  sa.func.coalesce(sa.func.sum(Order.refund_fen), 0)).where(Order.status.in_(SOLD_STATUSES))
    if booking_id is not None:
        q = q.where(Order.booking_id == booking_id)
    return tuple(session.execute(q).one())


@pytest.fixture
def park(make):
    """Room A01 with tonight's session 19:00–21:00 (and a cancelled one after
    it), room B02 with a session, and an anchor with a Douyin account on a
    session in B02 (so attribution by room, by anchor and by booking id all
    have something to find)."""
    a01, b02 = make.room(code="A01"), make.room(code="B02")
    tenant = make.tenant()
    tonight = make.booking(a01, tenant, starts_at=at(0, 19), ends_at=at(0, 21))
    cancelled = make.booking(a01, tenant, starts_at=at(0, 22), ends_at=at(0, 23), status="cancelled")
    b_session = make.booking(b02, tenant, starts_at=at(0, 14), ends_at=at(0, 16))
    anchor = make.anchor(platform_accounts={"douyin": "dy_xiuyu", "kuaishou": "ks_77"})
    make.assign(b_session, anchor)
    product = make.product(tenant, sku="XY-BANGLE")
    return dict(a01=a01, b02=b02, tenant=tenant, tonight=tonight, b_session=b_session, anchor=anchor, product=product,
                cancelled=cancelled)


def order(ext, **kw):
    row = {"platform": "douyin", "external_id": ext, "quantity": 1, "amount": "99.00",
           "ordered_at": at(0, 19, 30).isoformat(), "status": "paid"}
    row.update(kw)
    return row


# --- JSON batches ----------------------------------------------------------

def test_json_batch_counts_attributes_and_reports_bad_rows(api, park, db_session):
    coordinator = api("coordinator")
    rows = [
        order("D1", room_code="A01"),                                              # room + time
        order("D2", booking_id=park["b_session"].id, amount=129.9),                # explicit booking, number amount
        order("D3", anchor_account="dy_xiuyu", ordered_at=at(0, 15).isoformat()),  # anchor + time
        order("D4", room_code="A01", ordered_at=at(0, 21, 29).isoformat()),        # inside the 30-minute grace
        order("D5", room_code="A01", ordered_at=at(0, 22, 30).isoformat()),        # only a cancelled session: none
        order("D6", room_code="ZZZ"),                                              # unknown room: unattributed
        order("D7", amount="12.345"),                                              # bad: below a fen
        order("D8", ordered_at="2026-11-20T19:30:00"),                             # bad: naive time
        order("D9", booking_id=999999),                                            # bad: no such booking
        order("D1", room_code="A01"),                                              # duplicate of D1: counts once
        order("D10", booking_id=park["cancelled"].id),                             # bad: a cancelled session
    ]
    r = coordinator.post("/orders", json={"orders": rows})
    assert r.status_code == 200, r.json
    body = r.json
    assert (body["created"], body["updated"], body["unattributed"]) == (6, 0, 2)
    assert [e["index"] for e in body["errors"]] == [6, 7, 8, 10]
    # A cancelled session is refused for its own reason, as when assigning by hand.
    assert body["errors"][3]["message"] != body["errors"][2]["message"]
    by_ext = {o.external_id: o for o in db_session.scalars(sa.select(Order))}
    assert set(by_ext) == {"D1", "D2", "D3", "D4", "D5", "D6"}
    assert (by_ext["D1"].booking_id, by_ext["D1"].attributed_by) == (park["tonight"].id, "room")
    assert (by_ext["D2"].booking_id, by_ext["D2"].attributed_by, by_ext["D2"].amount_fen) == (park["b_session"].id, "booking", 12990)
    assert (by_ext["D3"].booking_id, by_ext["D3"].attributed_by) == (park["b_session"].id, "anchor")
    assert by_ext["D4"].booking_id == park["tonight"].id
    assert by_ext["D5"].booking_id is None and by_ext["D6"].booking_id is None
    batch = db_session.get(ImportBatch, body["batch_id"])
    assert (batch.source, batch.state, batch.created, batch.rejected, batch.rows_seen) == ("json", "done", 6, 4, 11)
    assert [x.position for x in db_session.scalars(sa.select(ImportReject).where(
        ImportReject.batch_id == batch.id).order_by(ImportReject.position))] == [6, 7, 8, 10]


def test_reposting_updates_in_place_and_never_double_counts(api, park, db_session):
    coordinator = api("coordinator")
    rows = [order(f"R{i}", room_code="A01") for i in range(20)]
    assert coordinator.post("/orders", json={"orders": rows}).json["created"] == 20
    before = figures(db_session, park["tonight"].id)
    assert before == (20, 20 * 9900, 0)
    again = coordinator.post("/orders", json={"orders": rows}).json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 20)
    assert figures(db_session, park["tonight"].id) == before
    rows[3]["status"] = "refunded"
    rows[4].update(status="refunded", refund="30.00")
    third = coordinator.post("/orders", json={"orders": rows}).json
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 2, 18)
    # GMV keeps refunded orders; refunds beside it.
    assert figures(db_session, park["tonight"].id) == (20, 20 * 9900, 9900 + 3000)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 20


@pytest.mark.parametrize("knob", ["UPSERT_ROWS", "PART_ROWS"])
def test_an_error_halfway_leaves_all_or_nothing(api, park, db_session, monkeypatch, knob):
    """The rows are checked in parts of PART_ROWS (on PostgreSQL a part is written
    in a thread while the next is checked) and upserted in statements of
    UPSERT_ROWS; the second write failing (after the first has written) rolls the
    whole batch back, batch record included, and the same batch sent again is
    taken whole."""
    coordinator = api("coordinator")
    monkeypatch.setattr(ingestion, knob, 10)
    runs = fail_second_write(monkeypatch)
    rows = [order(f"H{i:02d}", room_code="A01") for i in range(35)]
    r = coordinator.post("/orders", json={"orders": rows})
    assert r.status_code == 503 and len(runs) == 2
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
    monkeypatch.undo()
    assert coordinator.post("/orders", json={"orders": rows}).json["created"] == 35
    assert figures(db_session, park["tonight"].id) == (35, 35 * 9900, 0)


def test_ingest_rows_takes_parsed_rows(make, park, db_session):
    """The service entry the demo feed and the seed use: parsed rows, same rules."""
    user = make.user("coordinator")
    rows = [{"platform": "douyin", "external_id": "P1", "room_code": "A01", "sku": "XY-BANGLE", "quantity": 2,
             "amount_fen": 259800, "ordered_at": at(0, 19, 5), "status": "paid", "product_name": "岫玉手镯"},
            {"platform": "douyin", "external_id": "P2", "quantity": 1, "amount_fen": 100, "ordered_at": at(0, 9),
             "status": "refunded"},
            {"platform": "douyin", "external_id": "P3", "quantity": 1, "amount_fen": -1, "ordered_at": at(0, 9),
             "status": "paid"}]
    result = ingest_rows(db_session, user, rows)
    assert (result["created"], result["unattributed"], [e["index"] for e in result["errors"]]) == (2, 1, [2])
    p1 = db_session.scalar(sa.select(Order).where(Order.external_id == "P1"))
    assert (p1.booking_id, p1.product_id) == (park["tonight"].id, park["product"].id)
    assert db_session.scalar(sa.select(Order.refund_fen).where(Order.external_id == "P2")) == 100


def test_a_product_links_only_to_its_own_tenants_sessions(make, park, db_session):
    """A row takes the product its session's tenant sells under the row's SKU, and only that
    one: another tenant's product with the same SKU, or the tenant's product of another
    SKU in the same chunk, is never linked (the chunk's tenants and SKUs crossed would name
    both)."""
    other = make.tenant(name="邻居商贸")
    c03 = make.room(code="C03")
    make.booking(c03, other, starts_at=at(0, 19), ends_at=at(0, 21))
    make.product(other, sku="XY-BANGLE")              # the same SKU, another tenant's
    theirs = make.product(other, sku="OTHER-ONLY")    # a SKU only the other tenant sells
    user = make.user("coordinator")
    rows = [{"platform": "douyin", "external_id": ext, "room_code": room, "sku": sku, "quantity": 1,
             "amount_fen": 100, "ordered_at": at(0, 19, 5), "status": "paid"}
            for ext, room, sku in (("L1", "A01", "XY-BANGLE"), ("L2", "C03", "OTHER-ONLY"),
                                   ("L3", "A01", "OTHER-ONLY"), ("L4", "C03", "NOBODY"))]
    assert ingest_rows(db_session, user, rows)["created"] == 4
    linked = dict(db_session.execute(sa.select(Order.external_id, Order.product_id)).all())
    assert linked == {"L1": park["product"].id, "L2": theirs.id, "L3": None, "L4": None}


# --- shop exports ----------------------------------------------------------

DOUYIN_HEADER = "子订单编号,主订单编号,商品ID,商家编码,选购商品,商品数量,订单应付金额,订单提交时间,订单状态,售后状态,达人ID,直播间\n"


def douyin_export(rows: list[tuple]) -> str:
    lines = [DOUYIN_HEADER]
    for ext, sku, qty, amount, when, status, after, anchor, room in rows:
        lines.append(f'\t{ext},\t{ext[:-2]}00,3581000,{sku},岫玉手镯 冰种,{qty},"{amount}",{when},{status},{after},{anchor},{room}\n')
    return "".join(lines)


FIRST_EXPORT = douyin_export([
    ("6931000000000000101", "XY-BANGLE", 1, "1,299.00", "2026-11-20 19:05:00", "已完成", "无售后", "", "A01"),
    ("6931000000000000102", "XY-BANGLE", 2, "2598.00", "2026-11-20 19:40:12", "待发货", "", "", "A01"),
    ("6931000000000000103", "NGL-5", 1, "59.90", "2026/11/20 20:59", "已发货", "退款中", "", "A01"),
    ("6931000000000000104", "NGL-5", 1, "59.90", "2026-11-20 15:00:00", "已完成", "", "dy_xiuyu", ""),
    ("6931000000000000105", "NGL-5", 1, "59.90", "2026-11-20 12:00:00", "已完成", "", "", ""),
    ("6931000000000000106", "NGL-5", 1, "59.90", "2026-11-20 19:10:00", "已关闭", "", "", "A01"),
    ("6931000000000000102", "XY-BANGLE", 2, "2598.00", "2026-11-20 19:40:12", "待发货", "", "", "A01"),  # duplicate
    ("6931000000000000107", "NGL-5", 1, "5.999", "2026-11-20 19:10:00", "已完成", "", "", "A01"),     # bad amount
    ("6931000000000000108", "NGL-5", 1, "59.90", "2026-11-31 19:10:00", "已完成", "", "", "A01"),     # no such day
]) + '="6931000000000000109",,,NGL-5,南果梨,1,59.90,2026-11-20 20:00:00,已完成,,,A01\n'


def upload(client_api, text: str, encoding: str, **form):
    data = {"file": (io.BytesIO(text.encode(encoding)), "抖店订单.csv"), **form}
    return client_api.post("/orders/import", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_douyin_export_counts_gmv_refunds_and_attribution_exactly(api, park, db_session, encoding):
    coordinator = api("coordinator")
    r = upload(coordinator, FIRST_EXPORT, encoding)
    assert r.status_code == 200, r.json
    body = r.json
    assert (body["created"], body["updated"], body["unattributed"], body["format"]) == (7, 0, 1, "douyin")
    assert [e["line"] for e in body["errors"]] == [9, 10] and all(e["message"] for e in body["errors"])
    tonight = park["tonight"].id
    # 101, 102, 103 and 109 are in A01 tonight (106 was cancelled: not sold).
    assert figures(db_session, tonight) == (4, 129900 + 259800 + 5990 + 5990, 0)
    o104 = db_session.scalar(sa.select(Order).where(Order.external_id == "6931000000000000104"))
    assert (o104.booking_id, o104.attributed_by) == (park["b_session"].id, "anchor")
    o101 = db_session.scalar(sa.select(Order).where(Order.external_id == "6931000000000000101"))
    assert (o101.parent_id, o101.sku, o101.product_id, o101.product_name) == (
        "6931000000000000100", "XY-BANGLE", park["product"].id, "岫玉手镯 冰种")
    assert db_session.scalar(sa.select(Order.status).where(Order.external_id == "6931000000000000106")) == "cancelled"

    # The same file again: every figure unchanged.
    before = (figures(db_session), figures(db_session, tonight))
    again = upload(coordinator, FIRST_EXPORT, encoding).json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 8)
    assert (figures(db_session), figures(db_session, tonight)) == before

    # A later export: 103's refund went through, 106 stays closed.
    later = douyin_export([
        ("6931000000000000103", "NGL-5", 1, "59.90", "2026/11/20 20:59", "已关闭", "退款成功", "", "A01"),
        ("6931000000000000106", "NGL-5", 1, "59.90", "2026-11-20 19:10:00", "已关闭", "", "", "A01"),
    ])
    third = upload(coordinator, later, encoding).json
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 1, 1)
    assert figures(db_session, tonight) == (4, 129900 + 259800 + 5990 + 5990, 5990)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 7


def test_rejects_download_as_csv(api, park, db_session):
    coordinator = api("coordinator")
    batch_id = upload(coordinator, FIRST_EXPORT, "gbk").json["batch_id"]
    r = coordinator.get(f"/orders/imports/{batch_id}/rejects.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").strip().splitlines()
    assert len(lines) == 3 and lines[1].startswith("9,\t6931000000000000107,")
    info = coordinator.get(f"/orders/imports/{batch_id}").json
    assert (info["state"], info["source"], info["rejected"], info["created"], info["rows_seen"]) == ("done", "csv", 2, 7, 10)
    assert info["bytes_done"] == info["bytes_total"] == len(FIRST_EXPORT.encode("gbk"))


def test_kuaishou_and_english_exports(api, park, db_session):
    coordinator = api("coordinator")
    kuaishou = ("订单号,商品名称,商品ID,SKU编码,成交数量,实付款,订单创建时间,订单状态,退款状态,主播ID\n"
                "\t2411200000000001,南果梨,1,NGL-5,3,¥89.70,2026-11-20 15:10:00,交易成功,,ks_77\n")
    body = upload(coordinator, kuaishou, "gb18030").json  # the platform follows the format
    assert (body["created"], body["format"], body["platform"]) == (1, "kuaishou", "kuaishou")
    ks = db_session.scalar(sa.select(Order).where(Order.platform == "kuaishou"))
    assert (ks.amount_fen, ks.quantity, ks.booking_id, ks.attributed_by) == (8970, 3, park["b_session"].id, "anchor")
    english = ("external_id,booking_id,room_code,sku,quantity,amount,ordered_at,status\n"
               f"E1,{park['tonight'].id},,XY-BANGLE,1,10.00,2026-11-20T19:00:00+08:00,paid\n"
               "E2,,A01,,1,10.00,2026-11-20 19:00,refunded\n")
    body = upload(coordinator, english, "utf-8").json
    assert (body["created"], body["format"], body["platform"], body["errors"]) == (2, "english", "douyin", [])
    assert figures(db_session, park["tonight"].id) == (2, 2000, 1000)


def test_a_big_export_is_taken_chunk_by_chunk(app, api, park, db_session):
    """Chunks commit one by one; progress and counts add up over them."""
    configure(app, db_session, ORDER_IMPORT_CHUNK_ROWS=7)
    rows = [(f"69310000000001{i:04d}", "NGL-5", 1, "1.00", "2026-11-20 19:30:00", "已完成", "", "", "A01")
            for i in range(50)]
    body = upload(api("coordinator"), douyin_export(rows), "utf-8").json
    assert (body["created"], body["unattributed"]) == (50, 0)
    batch = db_session.get(ImportBatch, body["batch_id"])
    assert (batch.rows_seen, batch.created, batch.state) == (50, 50, "done")
    assert figures(db_session, park["tonight"].id) == (50, 5000, 0)


def test_a_failed_chunk_keeps_the_chunks_before_it_and_a_retry_completes(app, park, db_session, make, monkeypatch):
    configure(app, db_session, ORDER_IMPORT_CHUNK_ROWS=10)
    user = make.user("coordinator")
    rows = [(f"69310000000002{i:04d}", "NGL-5", 1, "1.00", "2026-11-20 19:30:00", "已完成", "", "", "A01")
            for i in range(35)]
    data = douyin_export(rows).encode()
    real = store_chunk
    calls = {"n": 0}

    def flaky(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed (injected)")
        return real(*args, **kw)

    monkeypatch.setattr(ingestion, "store_chunk", flaky)
    with pytest.raises(RuntimeError):
        import_export(db_session, user, io.BytesIO(data))
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 20
    failed = db_session.scalar(sa.select(ImportBatch).order_by(ImportBatch.id.desc()))
    assert failed.state == "failed" and "injected" in failed.message and failed.rows_seen == 20
    monkeypatch.setattr(ingestion, "store_chunk", real)
    retry = import_export(db_session, user, io.BytesIO(data))
    assert (retry["created"], retry["unchanged"]) == (15, 20)
    assert figures(db_session, park["tonight"].id) == (35, 3500, 0)


# --- listing and assigning -------------------------------------------------

def test_unattributed_list_and_bulk_assignment(api, park, db_session, make):
    coordinator = api("coordinator")
    coordinator.post("/orders", json={"orders": [order("U1", ordered_at=at(0, 19, 1).isoformat()),
                                                 order("U2", ordered_at=at(0, 19, 2).isoformat()),
                                                 order("A1", room_code="A01")]})
    listed = coordinator.get("/orders?unattributed=true").json
    assert [o["external_id"] for o in listed] == ["U1", "U2"]
    assert listed[0]["amount"] == "99.00" and listed[0]["booking_id"] is None
    assert listed[0]["ordered_at"] == "2026-11-20T19:01:00+08:00"
    ids = [o["id"] for o in listed]
    r = coordinator.post("/orders/attribute", json={"order_ids": ids, "booking_id": park["tonight"].id})
    assert r.json == {"updated": 2}
    assert coordinator.get("/orders?unattributed=true").json == []
    mine = coordinator.get(f"/orders?booking_id={park['tonight'].id}").json
    assert {o["external_id"]: o["attributed_by"] for o in mine} == {"U1": "manual", "U2": "manual", "A1": "room"}
    # A re-import never undoes a coordinator's assignment.
    coordinator.post("/orders", json={"orders": [order("U1", room_code="B02", status="refunded")]})
    u1 = db_session.scalar(sa.select(Order).where(Order.external_id == "U1"))
    assert (u1.booking_id, u1.attributed_by, u1.status) == (park["tonight"].id, "manual", "refunded")
    # Window filters.
    assert [o["external_id"] for o in coordinator.get(
        f"/orders?booking_id={park['tonight'].id}&from=2026-11-20T19:01:30%2B08:00&limit=1").json] == ["U2"]


def test_assigning_checks_booking_and_orders(api, park, make, db_session):
    coordinator = api("coordinator")
    cancelled = make.booking(park["b02"], park["tenant"], starts_at=at(1, 10), status="cancelled")
    oid = coordinator.post("/orders", json={"orders": [order("X1")]}).json and \
        db_session.scalar(sa.select(Order.id).where(Order.external_id == "X1"))
    assert coordinator.post("/orders/attribute", json={"order_ids": [oid], "booking_id": 10**6}).status_code == 422
    r = coordinator.post("/orders/attribute", json={"order_ids": [oid], "booking_id": cancelled.id})
    assert r.status_code == 422 and r.json["error"]["code"] == "rule_violation"
    r = coordinator.post("/orders/attribute", json={"order_ids": [oid, 10**6], "booking_id": park["tonight"].id})
    assert r.status_code == 422 and db_session.scalar(sa.select(Order.booking_id).where(Order.id == oid)) is None


# --- access ------------------------------------------------------------------

@pytest.mark.parametrize(("role", "write", "read_unattributed"), [
    ("admin", 200, 200), ("manager", 200, 200), ("coordinator", 200, 200), ("anchor", 403, 403)])
def test_access_by_role(api, park, role, write, read_unattributed):
    client = api(role)
    assert client.post("/orders", json={"orders": [order("Z1")]}).status_code == write
    assert upload(client, FIRST_EXPORT, "gbk").status_code == write
    assert client.get("/orders?unattributed=true").status_code == read_unattributed
    assert client.post("/orders/attribute", json={"order_ids": [1], "booking_id": park["tonight"].id}).status_code in (
        (403,) if write == 403 else (200, 422))


def test_an_anchor_reads_only_their_own_sessions_orders(api, park, make, db_session):
    api("coordinator").post("/orders", json={"orders": [order("N1", booking_id=park["b_session"].id),
                                                        order("N2", booking_id=park["tonight"].id)]})
    anchor_api = api("anchor")
    user_id = db_session.scalar(sa.text("SELECT max(id) FROM users"))
    park["anchor"].user_id = user_id
    db_session.commit()
    assert [o["external_id"] for o in anchor_api.get(f"/orders?booking_id={park['b_session'].id}").json] == ["N1"]
    assert anchor_api.get(f"/orders?booking_id={park['tonight'].id}").status_code == 403
    assert anchor_api.get("/orders").status_code == 403


def test_no_token_is_401(client):
    assert client.post("/api/v1/orders", json={"orders": []}).status_code == 401
    assert client.post("/api/v1/orders/import").status_code == 401


# --- bad input: always a 4xx -------------------------------------------------

@pytest.mark.parametrize(("kwargs", "status"), [
    ({"data": "not json", "content_type": "text/plain"}, 400),
    ({"data": "{not json", "content_type": "application/json"}, 400),
    ({"json": []}, 422),
    ({"json": {"orders": "x"}}, 422),
    ({"json": {"nothing": 1}}, 422),
    ({"json": {"orders": [order("OK1")] * 5001}}, 422),
])
def test_malformed_batches(api, kwargs, status):
    r = api("coordinator").post("/orders", **kwargs)
    assert r.status_code == status and r.json["error"]["code"] in ("bad_request", "validation_error")


@pytest.mark.parametrize("bad", [
    {"amount": "1e400"}, {"amount": 10**30}, {"amount": float("1e308")}, {"amount": "-5"}, {"amount": None},
    {"quantity": 2**80}, {"quantity": "3"}, {"quantity": 1.5}, {"booking_id": 2**70}, {"booking_id": "7"},
    {"external_id": "a\x00b"}, {"external_id": None}, {"external_id": {"x": 1}}, {"external_id": "x" * 65},
    {"room_code": "A\x00"}, {"status": "shipped"}, {"platform": "DOUYIN"}, {"platform": 7},
    {"ordered_at": "yesterday"}, {"ordered_at": "2026-11-20T19:00:00"}, {"ordered_at": "99999-01-01T00:00:00+08:00"},
    {"ordered_at": 1732100000}, {"refund": "100.00"}, {"sku": ["a"]}, {"sku": []}, {"buyer": {}},
])
def test_bad_rows_are_reported_never_500(api, bad):
    r = api("coordinator").post("/orders", json={"orders": [order("GOOD"), {**order("BAD"), **bad}]})
    assert r.status_code == 200, r.json
    assert r.json["created"] == 1 and [e["index"] for e in r.json["errors"]] == [1]


def test_a_non_object_row_is_reported(api):
    r = api("coordinator").post("/orders", json={"orders": [order("GOOD"), 7, None, "x"]})
    assert r.status_code == 200 and [e["index"] for e in r.json["errors"]] == [1, 2, 3]


@pytest.mark.parametrize(("data", "status"), [
    (b"", 422), (b"\x00\x01\x02binary", 422), ("external_id,amount\n".encode("utf-16"), 422),
    (b"\x80\xff\x81\xfe" * 50, 422), ("子订单编号,订单状态\n1,已完成\n".encode(), 422),
])
def test_unreadable_files_are_422(api, data, status):
    r = api("coordinator").post("/orders/import", data={"file": (io.BytesIO(data), "x.csv")},
                                content_type="multipart/form-data")
    assert r.status_code == status and r.json["error"]["details"][0]["field"] == "file"


def test_import_form_errors(api):
    coordinator = api("coordinator")
    assert coordinator.post("/orders/import", data={}, content_type="multipart/form-data").status_code == 400
    r = coordinator.post("/orders/import", data={"file": (io.BytesIO(FIRST_EXPORT.encode()), "x.csv"), "platform": "taobao"},
                         content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "platform"


def test_the_upload_limit_is_the_routes_own(app, api):
    configure(app, ORDER_IMPORT_MAX_BYTES=20_000_000)
    configure(app, MAX_CONTENT_LENGTH=1000)
    big = DOUYIN_HEADER + "".join(
        f"\t69310000000003{i:04d},,,NGL-5,南果梨,1,1.00,2026-11-20 09:00:00,已完成,,,\n" for i in range(200))
    assert upload(api("coordinator"), big, "utf-8").json["created"] == 200
    configure(app, ORDER_IMPORT_MAX_BYTES=1000)
    r = upload(api("coordinator"), big, "utf-8")
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"


@pytest.mark.parametrize("query", [
    "unattributed=maybe", "booking_id=abc", "booking_id=99999999999", "limit=0", "limit=100000",
    "from=yesterday", "to=2026-13-01", "booking_id=%00"])
def test_bad_list_queries(api, query):
    r = api("coordinator").get("/orders?" + query)
    assert r.status_code == 422


def test_unknown_booking_and_batch_are_404(api):
    coordinator = api("coordinator")
    assert coordinator.get("/orders?booking_id=999999").status_code == 404
    assert coordinator.get("/orders/imports/999999").status_code == 404
    assert coordinator.get("/orders/imports/999999/rejects.csv").status_code == 404
    assert coordinator.get("/orders/imports/99999999999999/rejects.csv").status_code == 404


@pytest.mark.parametrize("body", [
    {"order_ids": [], "booking_id": 1}, {"order_ids": "1", "booking_id": 1}, {"order_ids": [1]},
    {"order_ids": [2**40], "booking_id": 1}, {"order_ids": [1], "booking_id": "x"}, {"order_ids": [True], "booking_id": 1}])
def test_bad_attribute_bodies(api, body):
    assert api("coordinator").post("/orders/attribute", json=body).status_code == 422


def test_a_nul_deep_in_a_file_rejects_that_row_only(api, park, db_session):
    """A NUL byte (which PostgreSQL cannot store) past the part of the file that
    decides the encoding is one rejected row, never a 500."""
    good = "".join(f"\t69310000000004{i:04d},,,NGL-5,南果梨,1,1.00,2026-11-20 19:30:00,已完成,,,A01\n" for i in range(80))
    text = DOUYIN_HEADER + good + "\t6931000000000005000,,,NGL-5,南果\x00梨,1,1.00,2026-11-20 19:30:00,已完成,,,A01\n"
    assert len(DOUYIN_HEADER + good) > 4096
    r = upload(api("coordinator"), text, "utf-8")
    assert r.status_code == 200 and r.json["created"] == 80 and [e["line"] for e in r.json["errors"]] == [82]
