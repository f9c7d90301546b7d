"""Orders pages: the upload page (form post and the XHR the progress script
sends), an import's result with its rejects, the unattributed list with
assignment one by one and in bulk; roles, CSRF and odd input."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from opsroom.models import ImportBatch, Order
from tests.conftest import at, configure
from tests.support.factories import PASSWORD
from tests.support.pages import csrf_from
from opsroom.services.sales.ingestion import ingest_rows

EXPORT = ("子订单编号,商品数量,订单应付金额,订单提交时间,订单状态,售后状态,直播间\n"
          "\t6931000000000000501,1,99.00,2026-11-20 19:10:00,已完成,,A01\n"
          "\t6931000000000000502,1,99.00,2026-11-20 09:00:00,已完成,,\n"
          "\t6931000000000000503,1,abc,2026-11-20 19:10:00,已完成,,A01\n")


@pytest.fixture
def coordinator(make, auth):
    user = make.user("coordinator")
    auth.login(user.email, PASSWORD)
    return user


@pytest.fixture
def tonight(make):
    return make.booking(make.room(code="A01"), make.tenant(), starts_at=at(0, 19), ends_at=at(0, 21))


def _post_file(client, csrf, data: bytes, **extra):
    form = {"csrf_token": csrf, "platform": "douyin", "file": (io.BytesIO(data), "orders.csv"), **extra}
    return client.post("/orders/import", data=form, content_type="multipart/form-data", headers=extra.pop("headers", {}))


def test_upload_page_imports_and_shows_the_result(client, auth, coordinator, tonight, db_session):
    page = client.get("/orders/import")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'src="/static/js/orders-upload.js"' in html and "<script>" not in html
    assert "子订单编号" in html and "订单号" in html and "external_id" in html  # the mappings are shown
    r = _post_file(client, csrf_from(html), EXPORT.encode("gbk"))
    assert r.status_code == 302
    result = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "6931000000000000503" in result and "orders-upload.js" not in result
    assert re.search(r"<dt>[^<]+</dt><dd>2</dd>", result)  # two new orders
    batch = db_session.scalar(sa.select(ImportBatch).order_by(ImportBatch.id.desc()))
    assert (batch.created, batch.unattributed, batch.rejected, batch.user_id) == (2, 1, 1, coordinator.id)
    csv_text = client.get(f"/orders/imports/{batch.id}/rejects.csv").get_data(as_text=True)
    assert "6931000000000000503" in csv_text and csv_text.startswith("\ufeff")


def test_the_progress_script_gets_json_and_can_follow_the_batch(client, coordinator, tonight, db_session):
    html = client.get("/orders/import").get_data(as_text=True)
    r = client.post("/orders/import", data={"csrf_token": csrf_from(html), "platform": "douyin", "upload_key": "k" * 32,
                                            "file": (io.BytesIO(EXPORT.encode("utf-8-sig")), "orders.csv")},
                    content_type="multipart/form-data", headers={"X-Requested-With": "fetch"})
    assert r.status_code == 200 and r.json["url"] == f"/orders/imports/{r.json['batch_id']}"
    progress = client.get("/orders/imports/progress?key=" + "k" * 32).json
    assert (progress["state"], progress["rows_seen"], progress["bytes_done"]) == ("done", 3, len(EXPORT.encode("utf-8-sig")))
    assert client.get("/orders/imports/progress?key=unknown").status_code == 404
    bad = client.post("/orders/import", data={"csrf_token": csrf_from(html), "platform": "douyin",
                                              "file": (io.BytesIO(b"\x00\x01"), "x.csv")},
                      content_type="multipart/form-data", headers={"X-Requested-With": "fetch"})
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["field"] == "file"


def test_upload_without_csrf_is_refused(client, coordinator):
    r = client.post("/orders/import", data={"platform": "douyin", "file": (io.BytesIO(EXPORT.encode()), "o.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 400
    assert not _batches()


def _batches():
    from flask import current_app

    session = current_app.extensions["opsroom.sessionmaker"]()
    try:
        return session.scalars(sa.select(ImportBatch)).all()
    finally:
        session.close()


def test_upload_errors_reshow_the_form(client, coordinator):
    html = client.get("/orders/import").get_data(as_text=True)
    r = client.post("/orders/import", data={"csrf_token": csrf_from(html), "platform": "douyin"},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and 'class="error"' in r.get_data(as_text=True)
    r = _post_file(client, csrf_from(html), "external_id,amount\n".encode("utf-16"))
    assert r.status_code == 422 and "UTF-16" in r.get_data(as_text=True)


def test_large_uploads_use_the_routes_own_limit(app, client, coordinator, tonight):
    configure(app, MAX_CONTENT_LENGTH=500)
    html = client.get("/orders/import").get_data(as_text=True)
    assert _post_file(client, csrf_from(html), EXPORT.encode() * 1).status_code == 302
    configure(app, ORDER_IMPORT_MAX_BYTES=300)
    assert _post_file(client, csrf_from(html), EXPORT.encode() * 3).status_code == 413


def test_unattributed_orders_assigned_one_by_one_and_in_bulk(client, coordinator, tonight, make, db_session):
    user = make.user("coordinator")
    ingest_rows(db_session, user, [
        {"platform": "douyin", "external_id": f"UA{i}", "quantity": 1, "amount_fen": 100,
         "ordered_at": at(0, 19, i), "status": "paid"} for i in range(4)])
    ids = [o.id for o in db_session.scalars(sa.select(Order).order_by(Order.external_id))]
    index = client.get("/orders/")
    assert index.status_code == 200 and 'href="/orders/unattributed"' in index.get_data(as_text=True)
    page = client.get("/orders/unattributed?date=2026-11-20")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('name="order_ids"') == 4
    assert f'<option value="{tonight.id}">' in html
    token = csrf_from(html)
    one = client.post("/orders/unattributed?date=2026-11-20", data={"csrf_token": token, "only": ids[0],
                                                                    "order_ids": [ids[1]], "booking_id": tonight.id})
    assert one.status_code == 302
    assert db_session.scalar(sa.select(Order.booking_id).where(Order.id == ids[0])) == tonight.id
    assert db_session.scalar(sa.select(Order.booking_id).where(Order.id == ids[1])) is None
    bulk = client.post("/orders/unattributed", data={"csrf_token": token, "order_ids": ids[1:], "booking_id": tonight.id})
    assert bulk.status_code == 302
    assert set(db_session.scalars(sa.select(Order.attributed_by))) == {"manual"}
    assert client.get("/orders/unattributed").get_data(as_text=True).count('name="order_ids"') == 0


@pytest.mark.parametrize("form", [
    {"order_ids": ["x"], "booking_id": "1"}, {"order_ids": ["99999999999"], "booking_id": "1"},
    {"order_ids": [], "booking_id": "1"}, {"order_ids": ["1"], "booking_id": ""},
    {"order_ids": ["1"], "booking_id": "\x00"}, {"order_ids": ["1"], "booking_id": "999999"}])
def test_bad_assignments_are_refused_with_a_message(client, coordinator, form):
    token = csrf_from(client.get("/orders/unattributed").get_data(as_text=True))
    r = client.post("/orders/unattributed", data={"csrf_token": token, **form})
    assert r.status_code == 422 and "flash-error" in r.get_data(as_text=True)


@pytest.mark.parametrize("query", ["date=2026-13-01", "date=x", "date=0001-01-01", "date=%00"])
def test_bad_day_is_400(client, coordinator, query):
    assert client.get("/orders/unattributed?" + query).status_code == 400


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("manager", 200), ("coordinator", 200), ("anchor", 403)])
@pytest.mark.parametrize("path", ["/orders/", "/orders/import", "/orders/unattributed"])
def test_pages_by_role(client, auth, make, role, status, path):
    user = make.user(role)
    auth.login(user.email, PASSWORD)
    assert client.get(path).status_code == status
    nav = client.get("/rooms/").get_data(as_text=True)
    assert ('href="/orders/"' in nav) is (status == 200)


def test_anonymous_is_sent_to_login(client):
    assert client.get("/orders/import").status_code == 302
    assert client.post("/orders/import").status_code == 302


def test_missing_batch_is_404(client, coordinator):
    assert client.get("/orders/imports/999999").status_code == 404
    assert client.get("/orders/imports/999999/rejects.csv").status_code == 404
    assert client.get("/orders/imports/99999999999999").status_code == 404
