"""A tenant's account (商家账号) on the pages of what is its own: its products
(list, add, edit, import; no tenant picker, its tenant implied, another's product
a 404), its bookings' lineups (read and arrange), its sessions' orders (list,
CSV), its report (its figures only, the tenant filter forced) and the board
(its sessions in full, other tenants' as plain busy blocks)."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from opsroom.models import LineupItem, Product
from tests.conftest import NOW, at

SECRET = "别家秘密"


@pytest.fixture
def two(make, auth, db_session):
    """Two tenants in two rooms, each with a product, a session tomorrow and an order in
    a session yesterday; logged in as the first tenant's account."""
    room, room2 = make.room(code="A101"), make.room(code="B202")
    mine, theirs = make.tenant(name="我的商家"), make.tenant(name=SECRET + "公司")
    user = make.user("tenant", tenant_id=mine.id, locale="en")
    products = {"mine": make.product(mine, sku="MY-1", name="我的苹果"),
                "theirs": make.product(theirs, sku="THEIR-1", name=SECRET + "梨")}
    bookings = {"mine": make.booking(room, mine, starts_at=at(1, 19), title="我的直播"),
                "theirs": make.booking(room2, theirs, starts_at=at(1, 19), title=SECRET + "直播")}
    past = {"mine": make.booking(room, mine, starts_at=at(-1, 19), status="ended", title="昨晚"),
            "theirs": make.booking(room2, theirs, starts_at=at(-1, 19), status="ended", title=SECRET + "昨晚")}
    make.order(past["mine"], external_id="MY-ORDER-1", amount_fen=12900)
    make.order(past["theirs"], external_id="THEIR-ORDER-1", amount_fen=777700)
    make.order(None, ordered_at=at(-1, 20), external_id="NOBODY-ORDER-1")  # unattributed: no tenant's
    auth.login(user.email)
    return dict(user=user, mine=mine, theirs=theirs, products=products, bookings=bookings, past=past)


def test_a_tenant_manages_its_own_products_without_a_tenant_picker(client, auth, two, db_session):
    page = client.get("/products/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "MY-1" in body and "THEIR-1" not in body and SECRET not in body
    assert 'name="tenant_id"' not in body  # no filter of tenants
    form = client.get("/products/new").get_data(as_text=True)
    assert 'name="tenant_id"' not in form and SECRET not in form
    # Another tenant's id posted anyway: the product is still its own.
    r = client.post("/products/new", data={"csrf_token": auth.csrf("/products/new"), "tenant_id": two["theirs"].id,
                                           "sku": "MY-2", "name": "我的橙子", "price": "19.90", "stock": 5,
                                           "active": "y"})
    assert r.status_code == 302
    made = db_session.query(Product).filter_by(sku="MY-2").one()
    assert made.tenant_id == two["mine"].id
    r = client.post(f"/products/{made.id}/edit", data={"csrf_token": auth.csrf("/products/new"), "sku": "MY-2",
                                                       "name": "我的血橙", "price": "21.00", "stock": 3})
    assert r.status_code == 302
    db_session.expire_all()
    assert db_session.get(Product, made.id).name == "我的血橙"
    theirs = two["products"]["theirs"].id
    assert client.get(f"/products/{theirs}/edit").status_code == 404
    r = client.post(f"/products/{theirs}/edit", data={"csrf_token": auth.csrf("/products/new"), "sku": "X",
                                                      "name": "x", "price": "1"})
    assert r.status_code == 404
    db_session.expire_all()
    assert db_session.get(Product, theirs).name == SECRET + "梨"
    r = client.post("/products/import", data={"csrf_token": auth.csrf("/products/new"),
                                              "file": (io.BytesIO("sku,name,price\nMY-3,我的桃,9.90\n".encode()), "c.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and 'name="tenant_id"' not in r.get_data(as_text=True)
    assert db_session.query(Product).filter_by(sku="MY-3").one().tenant_id == two["mine"].id


def test_a_tenant_reads_and_arranges_its_own_lineup_only(client, auth, two, db_session):
    mine, theirs = two["bookings"]["mine"].id, two["bookings"]["theirs"].id
    page = client.get(f"/bookings/{mine}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "我的直播" in body
    assert "Add to the lineup" in body and "Save anchors" not in body and "Cancel booking" not in body
    r = client.post(f"/bookings/{mine}/lineup/add", data={"csrf_token": auth.csrf("/products/"),
                                                          "product_id": two["products"]["mine"].id})
    assert r.status_code == 302
    assert [i.product_id for i in db_session.query(LineupItem).filter_by(booking_id=mine)] == [two["products"]["mine"].id]
    # Another tenant's product is not offered and not taken.
    r = client.post(f"/bookings/{mine}/lineup/add", data={"csrf_token": auth.csrf("/products/"),
                                                          "product_id": two["products"]["theirs"].id})
    assert r.status_code == 422
    assert client.get(f"/bookings/{theirs}").status_code == 404
    r = client.post(f"/bookings/{theirs}/lineup/add", data={"csrf_token": auth.csrf("/products/"),
                                                            "product_id": two["products"]["mine"].id})
    assert r.status_code == 404
    assert db_session.query(LineupItem).filter_by(booking_id=theirs).count() == 0


def test_a_tenant_lists_and_exports_its_own_sessions_orders_only(client, two):
    page = client.get("/orders/list")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "MY-ORDER-1" in body and "¥129.00" in body
    assert "THEIR-ORDER-1" not in body and "7,777" not in body and "7777" not in body
    assert "NOBODY-ORDER-1" not in body
    csv = client.get("/orders/list?format=csv")
    text = csv.get_data().decode("utf-8-sig")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "MY-ORDER-1" in text and "129.00" in text and "THEIR-ORDER-1" not in text
    mine, theirs = two["past"]["mine"].id, two["past"]["theirs"].id
    assert "MY-ORDER-1" in client.get(f"/orders/list?booking_id={mine}").get_data(as_text=True)
    assert client.get(f"/orders/list?booking_id={theirs}").status_code == 404
    assert client.get(f"/orders/list?booking_id={theirs}&format=csv").status_code == 404
    # Bad input: the page again with the field's message, never a 500.
    assert client.get("/orders/list?from=2026-13-01").status_code == 422
    assert client.get("/orders/list?from=2026-11-20&to=2026-11-01").status_code == 422
    assert client.get("/orders/list?from=0001-01-01&to=0001-01-02").status_code == 422
    assert client.get("/orders/list?format=xlsx").status_code == 422
    assert client.get("/orders/list?booking_id=99999999999").status_code == 422


def test_a_tenants_report_is_its_own_whatever_tenant_it_names(client, two):
    theirs = two["theirs"].id
    for query in ("", f"&tenant_id={theirs}"):
        page = client.get(f"/reports/?from=2026-11-13&to=2026-11-20{query}")
        body = page.get_data(as_text=True)
        assert page.status_code == 200, body[:300]
        assert "我的商家" in body and "129" in body
        assert SECRET not in body and "7,777" not in body and "7777" not in body
        assert 'name="tenant_id"' not in body
    for fmt in ("csv", "xlsx"):
        for group in ("tenant", "room", "anchor"):
            r = client.get(f"/reports/export?from=2026-11-13&to=2026-11-20&group_by={group}&format={fmt}"
                           f"&tenant_id={theirs}")
            assert r.status_code == 200
            data = r.get_data()
            if fmt == "csv":
                text = data.decode("utf-8-sig")
                assert SECRET not in text and "7777" not in text
                if group == "tenant":
                    assert "我的商家" in text and "129" in text


def test_the_board_shows_a_tenant_its_own_sessions_and_others_as_plain_busy_blocks(client, two):
    mine, theirs = two["bookings"]["mine"], two["bookings"]["theirs"]
    for url in (f"/board/?date={(NOW + timedelta(days=1)).date().isoformat()}",
                f"/board/rooms/{theirs.room_id}?week={(NOW + timedelta(days=1)).date().isoformat()}"):
        page = client.get(url)
        body = page.get_data(as_text=True)
        assert page.status_code == 200
        assert SECRET not in body and f'/bookings/{theirs.id}"' not in body
        assert 'class="booking busy gs-' in body
        # Busy from its start until the room is free again (changeover included): 19:00–21:30.
        assert '<span class="bk-time">19:00–21:30</span> <span class="bk-notes">Busy</span>' in body
        assert "/bookings/new" not in body  # a tenant asks, it does not book
    day = client.get(f"/board/?date={(NOW + timedelta(days=1)).date().isoformat()}").get_data(as_text=True)
    assert "我的直播" in day and f'/bookings/{mine.id}"' in day  # its own in full, with its link


def test_the_report_api_answers_a_tenants_account_with_its_own_figures(client, two, make, db_session):
    from opsroom.services.park import users

    token = users.create_token(db_session, two["user"], "report")
    db_session.commit()
    r = client.get(f"/api/v1/reports/utilization?from=2026-11-13&to=2026-11-20&group_by=tenant&tenant_id={two['theirs'].id}",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert [row["label"] for row in r.json["rows"]] == ["我的商家"] and r.json["total"]["gmv"] == "129.00"


def test_the_orders_api_without_a_booking_lists_a_tenants_own_sessions_orders(client, two, db_session):
    from opsroom.services.park import users

    token = users.create_token(db_session, two["user"], "orders")
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    r = client.get("/api/v1/orders", headers=headers)
    assert r.status_code == 200 and [o["external_id"] for o in r.json] == ["MY-ORDER-1"]
    assert client.get("/api/v1/orders?unattributed=true", headers=headers).json == []
