"""HTML pages for people and goods (人、货): anchors, products, catalogue import,
a booking's anchors and lineup, copying them to a series' week, the run sheet."""
from __future__ import annotations

import io
import itertools
import re

import pytest
import sqlalchemy as sa

from opsroom.models import Anchor, Assignment, Booking, LineupItem, Product, Series
from tests.conftest import at

_n = itertools.count(1)


# --- helpers ---------------------------------------------------------------


def new_anchor(db_session, **kw) -> Anchor:
    n = next(_n)
    defaults = dict(name=f"主播{n}", verified=True, max_minutes_per_day=480, min_rest_minutes=30,
                    platform_accounts={"douyin": f"dy_{n}"}, active=True)
    defaults.update(kw)
    anchor = Anchor(**defaults)
    db_session.add(anchor)
    db_session.commit()
    return anchor


def new_product(db_session, tenant, **kw) -> Product:
    n = next(_n)
    defaults = dict(tenant_id=tenant.id, sku=f"SKU{n:05d}", name=f"商品{n}", category="食品", price_fen=3990,
                    stock=100, certifications=["绿色食品"], active=True)
    defaults.update(kw)
    product = Product(**defaults)
    db_session.add(product)
    db_session.commit()
    return product


def assign(db_session, booking, anchor, role="host") -> None:
    db_session.add(Assignment(booking_id=booking.id, anchor_id=anchor.id, role=role, starts_at=booking.starts_at,
                              ends_at=booking.ends_at, active=True))
    db_session.commit()


def text(response) -> str:
    return response.get_data(as_text=True)


def lineup_of(db_session, booking_id: int) -> list[int]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(LineupItem.product_id).where(LineupItem.booking_id == booking_id)
                                   .order_by(LineupItem.position)))


def anchors_of(db_session, booking_id: int) -> set[tuple[int, str]]:
    db_session.expire_all()
    return {(a.anchor_id, a.role) for a in db_session.scalars(
        sa.select(Assignment).where(Assignment.booking_id == booking_id))}


@pytest.fixture
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def staff(make, auth, english):
    user = make.user("coordinator")
    auth.login(user.email)
    return user


@pytest.fixture
def token(staff, auth):
    return auth.csrf("/anchors/")


@pytest.fixture
def scene(make, db_session):
    """A room, a tenant with products and anchors, and a booking tomorrow 20:00–22:00."""
    room, tenant = make.room(code="A101"), make.tenant(name="优品服饰")
    booking = make.booking(room, tenant, starts_at=at(1, 20), ends_at=at(1, 22))
    products = [new_product(db_session, tenant, name=name, sku=sku, stock=stock)
                for name, sku, stock in (("羊毛大衣", "COAT-1", 50), ("围巾", "SCARF-1", 5), ("手套", "GLOVE-1", 80))]
    host = new_anchor(db_session, name="李佳", tenant_id=tenant.id)
    helper = new_anchor(db_session, name="小王", verified=False)  # park MCN
    return dict(room=room, tenant=tenant, booking=booking, products=products, host=host, helper=helper)


# --- access ------------------------------------------------------------------


PAGES = ["/anchors/", "/anchors/new", "/anchors/{anchor}/edit", "/products/", "/products/?tenant_id={tenant}",
         "/products/new", "/products/{product}/edit", "/products/import", "/bookings/{booking}",
         "/bookings/{booking}/free-anchors", "/bookings/{booking}/runsheet"]


def _url(template: str, scene) -> str:
    return template.format(anchor=scene["host"].id, tenant=scene["tenant"].id, product=scene["products"][0].id,
                           booking=scene["booking"].id)


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_for_staff_without_inline_script_or_style(staff, scene, client, page):
    response = client.get(_url(page, scene))
    assert response.status_code == 200
    html = text(response)
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<h1" in html


@pytest.mark.parametrize("page", [p for p in PAGES if p != "/bookings/{booking}"])
def test_anchor_role_users_get_403(make, auth, scene, client, page):
    user = make.user("anchor")
    auth.login(user.email)
    assert client.get(_url(page, scene)).status_code == 403


@pytest.mark.parametrize("path", ["/bookings/{booking}/anchors", "/bookings/{booking}/lineup/add",
                                  "/bookings/{booking}/lineup/order", "/bookings/{booking}/copy",
                                  "/bookings/{booking}/anchors/add"])
def test_anchor_role_users_cannot_post(make, auth, scene, client, path):
    user = make.user("anchor")
    auth.login(user.email)
    csrf = auth.csrf("/rooms/")
    assert client.post(_url(path, scene), data={"csrf_token": csrf}).status_code == 403


def test_nav_links_for_staff_only(make, auth, client, english):
    coordinator = make.user("coordinator")
    auth.login(coordinator.email)
    html = text(client.get("/rooms/"))
    assert 'href="/anchors/"' in html and 'href="/products/"' in html
    client.post("/logout", data={"csrf_token": auth.csrf("/rooms/")})
    anchor_user = make.user("anchor")
    auth.login(anchor_user.email)
    html = text(client.get("/rooms/"))
    assert 'href="/anchors/"' not in html and 'href="/products/"' not in html


def test_post_without_csrf_is_refused(staff, scene, client):
    assert client.post(f"/bookings/{scene['booking'].id}/lineup/add", data={}).status_code == 400


# --- anchors -----------------------------------------------------------------


def test_anchor_list_shows_tenant_or_park_mcn_and_accounts(staff, scene, client):
    html = text(client.get("/anchors/"))
    assert "李佳" in html and "优品服饰" in html
    assert "Park MCN" in html  # 小王 has no tenant
    assert "verified" in html and "not verified" in html
    assert "Douyin: dy_" in html


def test_create_anchor_through_the_form(staff, token, make, client, db_session):
    tenant = make.tenant(name="鲜果农场")
    anchor_user = make.user("anchor", email="xiaomei@test.example")
    response = client.post("/anchors/new", data={
        "csrf_token": token, "name": "小美", "tenant_id": str(tenant.id), "user_email": "XiaoMei@test.example",
        "verified": "y", "max_minutes_per_day": "360", "min_rest_minutes": "45",
        "douyin": " xiaomei_dy ", "kuaishou": "", "active": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/anchors/")
    anchor = db_session.scalar(sa.select(Anchor).where(Anchor.name == "小美"))
    assert (anchor.tenant_id, anchor.user_id, anchor.verified) == (tenant.id, anchor_user.id, True)
    assert (anchor.max_minutes_per_day, anchor.min_rest_minutes) == (360, 45)
    assert anchor.platform_accounts == {"douyin": "xiaomei_dy"}


def test_create_park_mcn_anchor(staff, token, client, db_session):
    response = client.post("/anchors/new", data={"csrf_token": token, "name": "园区主播", "tenant_id": "",
                                                  "max_minutes_per_day": "480", "min_rest_minutes": "30",
                                                  "kuaishou": "ks_1"})
    assert response.status_code == 302
    anchor = db_session.scalar(sa.select(Anchor).where(Anchor.name == "园区主播"))
    assert anchor.tenant_id is None and anchor.platform_accounts == {"kuaishou": "ks_1"} and not anchor.active


def test_anchor_form_errors_are_shown_on_the_fields(staff, token, client, make):
    make.user("manager", email="boss@test.example")
    response = client.post("/anchors/new", data={"csrf_token": token, "name": "", "tenant_id": "",
                                                  "user_email": "boss@test.example", "max_minutes_per_day": "2000"})
    assert response.status_code == 422
    html = text(response)
    assert 'id="name-error"' in html and 'id="max_minutes_per_day-error"' in html
    # The service's check of the email runs once the shape is right.
    response = client.post("/anchors/new", data={"csrf_token": token, "name": "某人", "tenant_id": "",
                                                  "user_email": "boss@test.example", "max_minutes_per_day": "480"})
    assert response.status_code == 422
    assert 'id="user_email-error"' in text(response) and "anchor role" in text(response)


def test_edit_anchor_keeps_other_platform_accounts(staff, token, client, scene, db_session):
    anchor = scene["host"]
    anchor.platform_accounts = {"douyin": "old", "taobao": "tb_1"}
    db_session.commit()
    page = text(client.get(f"/anchors/{anchor.id}/edit"))
    assert 'value="old"' in page
    response = client.post(f"/anchors/{anchor.id}/edit", data={
        "csrf_token": token, "name": "李佳佳", "tenant_id": "", "max_minutes_per_day": "300",
        "min_rest_minutes": "30", "douyin": "", "kuaishou": "ks_9", "active": "y", "verified": "y"})
    assert response.status_code == 302
    db_session.expire_all()
    anchor = db_session.get(Anchor, anchor.id)
    assert anchor.name == "李佳佳" and anchor.tenant_id is None and anchor.max_minutes_per_day == 300
    assert anchor.platform_accounts == {"taobao": "tb_1", "kuaishou": "ks_9"}


def test_edit_unknown_anchor_is_404(staff, client):
    assert client.get("/anchors/999999/edit").status_code == 404


# --- products ----------------------------------------------------------------


def test_product_list_filters_by_tenant_and_formats_price(staff, client, make, db_session):
    a, b = make.tenant(name="甲公司"), make.tenant(name="乙公司")
    new_product(db_session, a, sku="A-1", name="有机大米", price_fen=12990, certifications=["有机", "地理标志"])
    new_product(db_session, b, sku="B-1", name="茶叶", price_fen=100)
    html = text(client.get(f"/products/?tenant_id={a.id}"))
    assert "有机大米" in html and "茶叶" not in html
    assert "¥129.90" in html
    assert "Organic" in html and "Geographical indication" in html
    html = text(client.get("/products/"))
    assert "有机大米" in html and "茶叶" in html and "¥1.00" in html


def test_create_product_through_the_form(staff, token, client, make, db_session):
    tenant = make.tenant()
    response = client.post("/products/new", data={
        "csrf_token": token, "tenant_id": str(tenant.id), "sku": "RICE-5KG", "name": "五常大米 5kg",
        "category": "粮油", "price": "¥1,299.9", "stock": "40", "certifications": ["绿色食品", "地理标志"],
        "other_certifications": "富硒、有机", "active": "y"})
    assert response.status_code == 302
    product = db_session.scalar(sa.select(Product).where(Product.sku == "RICE-5KG"))
    assert product.price_fen == 129990 and product.stock == 40 and product.tenant_id == tenant.id
    assert product.certifications == ["绿色食品", "地理标志", "富硒", "有机"]
    edit = text(client.get(f"/products/{product.id}/edit"))
    assert 'value="1299.90"' in edit and 'value="富硒"' in edit  # 有机 is a known one: ticked


@pytest.mark.parametrize("price, message", [
    ("12.345", "two decimals"), ("abc", "such as 129.90"), ("-5", "negative"), ("99999999999", "too large")])
def test_bad_price_reshows_the_form_with_422(staff, token, client, make, db_session, price, message):
    tenant = make.tenant()
    response = client.post("/products/new", data={"csrf_token": token, "tenant_id": str(tenant.id), "sku": "X-1",
                                                   "name": "某商品", "price": price, "stock": "1"})
    assert response.status_code == 422
    html = text(response)
    assert 'id="price-error"' in html and message in html
    assert f'value="{price}"' in html  # what was typed stays
    assert db_session.scalar(sa.select(Product).where(Product.sku == "X-1")) is None


def test_duplicate_sku_is_a_field_error(staff, token, client, scene):
    response = client.post("/products/new", data={"csrf_token": token, "tenant_id": str(scene["tenant"].id),
                                                   "sku": "COAT-1", "name": "另一件", "price": "1"})
    assert response.status_code == 422 and 'id="sku-error"' in text(response)


def test_edit_product_price(staff, token, client, scene, db_session):
    product = scene["products"][0]
    response = client.post(f"/products/{product.id}/edit", data={
        "csrf_token": token, "tenant_id": str(scene["tenant"].id), "sku": product.sku, "name": product.name,
        "price": "88", "stock": "0", "active": "y"})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Product, product.id).price_fen == 8800


# --- catalogue import ------------------------------------------------------


def _upload(client, token, tenant_id, data: bytes, filename="catalogue.csv"):
    return client.post("/products/import", data={"csrf_token": token, "tenant_id": str(tenant_id),
                                                 "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _error_rows(html: str) -> dict[int, str]:
    return {int(line): message for line, message in re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td></tr>", html)}


def test_import_utf8_bom_reports_every_bad_row(staff, token, client, scene, db_session):
    csv = ("sku,name,category,price,stock,certifications\n"
           "COAT-1,羊毛大衣 新款,服装,599.00,30,\n"          # line 2: updates an existing SKU
           "TEA-1,龙井,茶叶,129.9,100,绿色食品;地理标志\n"     # 3: created
           ",无编码,茶叶,1,1,\n"                               # 4: no SKU
           "TEA-2,碧螺春,茶叶,12.345,5,\n"                     # 5: bad price
           "TEA-3,白茶,茶叶,50,很多,\n"                         # 6: bad stock
           "TEA-1,龙井again,茶叶,1,1,\n"                        # 7: duplicate SKU
           "TEA-4,红茶,茶叶,\"1,299.00\",7,有机、绿色食品\n")   # 8: created
    response = _upload(client, token, scene["tenant"].id, "\ufeff".encode() + csv.encode("utf-8"))
    assert response.status_code == 200
    html = text(response)
    facts = re.findall(r"<dd>(\d+)</dd>", html)
    assert facts[:3] == ["2", "1", "4"]  # created, updated, rows not imported
    errors = _error_rows(html)
    assert sorted(errors) == [4, 5, 6, 7]
    assert "empty" in errors[4] and "129.90" in errors[5] and "whole number" in errors[6] and "earlier" in errors[7]
    tea = db_session.scalar(sa.select(Product).where(Product.tenant_id == scene["tenant"].id, Product.sku == "TEA-4"))
    assert tea.price_fen == 129900 and tea.certifications == ["有机", "绿色食品"]


def test_import_gbk_with_chinese_headers(staff, token, client, scene, db_session):
    csv = ("商品编码,商品名称,类目,价格,库存,认证\n"
           "\tRICE-1,五常大米,粮油,69.90,200,绿色食品、地理标志\n"
           "RICE-2,,粮油,10,1,\n"
           "RICE-3,小米,粮油,abc,1,\n")
    response = _upload(client, token, scene["tenant"].id, csv.encode("gbk"))
    assert response.status_code == 200
    errors = _error_rows(text(response))
    assert sorted(errors) == [3, 4]
    assert "商品名称" in errors[3]  # the column as the file names it
    rice = db_session.scalar(sa.select(Product).where(Product.sku == "RICE-1"))
    assert rice.name == "五常大米" and rice.price_fen == 6990 and rice.certifications == ["绿色食品", "地理标志"]


@pytest.mark.parametrize("data, filename, message", [
    (b"name\nfoo\n", "catalogue.csv", "Missing column"),
    (b"sku,name\nA,B\n", "catalogue.xlsx", "Only .csv"),
    (b"\xff\xfe\x00\x00garbage\x81", "catalogue.csv", "neither UTF-8 nor GBK"),
])
def test_import_file_problems_are_field_errors(staff, token, client, scene, data, filename, message):
    response = _upload(client, token, scene["tenant"].id, data, filename)
    assert response.status_code == 422
    html = text(response)
    assert 'id="file-error"' in html and message in html


def test_import_without_a_file(staff, token, client, scene):
    response = client.post("/products/import", data={"csrf_token": token, "tenant_id": str(scene["tenant"].id)},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a CSV file" in text(response)


# --- a booking's anchors ---------------------------------------------------


def _anchor_slots(*rows) -> dict:
    data = {}
    for i, (anchor_id, role) in enumerate(rows):
        data[f"slots-{i}-anchor_id"], data[f"slots-{i}-role"] = str(anchor_id), role
    return data


def test_booking_page_shows_the_people_and_goods_forms(staff, client, scene):
    html = text(client.get(f"/bookings/{scene['booking'].id}"))
    assert 'action="/bookings/%d/anchors"' % scene["booking"].id in html
    assert 'for="slots-0-anchor_id"' in html and 'for="slots-2-role"' in html
    assert 'label="优品服饰"' in html and 'label="Park MCN"' in html  # anchor groups
    assert "小王 (not verified)" in html
    assert "/static/js/lineup.js" in html and "/free-anchors" in html and "/runsheet" in html


def test_set_anchors_through_the_form(staff, token, client, scene, db_session):
    booking, host, helper = scene["booking"], scene["host"], scene["helper"]
    response = client.post(f"/bookings/{booking.id}/anchors", data={
        "csrf_token": token, **_anchor_slots((host.id, "host"), ("", "host"), (helper.id, "assistant"))})
    assert response.status_code == 302
    assert anchors_of(db_session, booking.id) == {(host.id, "host"), (helper.id, "assistant")}
    html = text(client.get(f"/bookings/{booking.id}"))
    assert "Anchors saved." in html and "李佳" in html
    # The form is pre-filled with the current anchors.
    assert re.search(r'<option selected value="%d">' % helper.id, html) or \
        re.search(r'<option value="%d" selected>' % helper.id, html)
    # Emptying every row removes them.
    client.post(f"/bookings/{booking.id}/anchors", data={"csrf_token": token, **_anchor_slots(("", "host"))})
    assert anchors_of(db_session, booking.id) == set()


@pytest.mark.parametrize("sqlstate,status", [("40P01", 409), ("08006", 503)])
def test_a_transaction_the_database_aborts_for_a_race_is_a_409_page(staff, token, client, scene, monkeypatch,
                                                                    sqlstate, status):
    """A deadlock the database broke by aborting this request is a lost race:
    a 409 page saying to try again; a lost connection stays the 503 page."""
    from opsroom.services.people_goods import assignments
    from tests.conftest import aborted_by_database

    monkeypatch.setattr(assignments, "set_anchors", aborted_by_database(sqlstate))
    response = client.post(f"/bookings/{scene['booking'].id}/anchors", data={
        "csrf_token": token, **_anchor_slots((scene["host"].id, "host"))})
    assert response.status_code == status
    html = text(response)
    assert ("at the same moment" in html) == (status == 409)
    assert "Traceback" not in html and "OperationalError" not in html


def test_a_clash_flashes_a_link_to_the_other_booking(staff, token, client, scene, make, db_session):
    other = make.booking(make.room(), scene["tenant"], starts_at=at(1, 21), ends_at=at(1, 23))
    assign(db_session, other, scene["host"])
    response = client.post(f"/bookings/{scene['booking'].id}/anchors",
                           data={"csrf_token": token, **_anchor_slots((scene["host"].id, "host"))}, follow_redirects=True)
    html = text(response)
    flash = re.search(r'<p class="flash flash-error">(.*?)</p>', html, re.S).group(1)
    assert "李佳" in flash and f'<a href="/bookings/{other.id}">' in flash
    assert anchors_of(db_session, scene["booking"].id) == set()


def test_a_broken_rule_is_flashed_by_name(staff, token, client, scene, db_session):
    response = client.post(f"/bookings/{scene['booking'].id}/anchors",
                           data={"csrf_token": token, **_anchor_slots((scene["helper"].id, "host"))},
                           follow_redirects=True)
    assert "real-name verified" in text(response)
    assert anchors_of(db_session, scene["booking"].id) == set()


def test_the_same_anchor_twice_is_shown_on_the_row(staff, token, client, scene):
    host = scene["host"]
    response = client.post(f"/bookings/{scene['booking'].id}/anchors",
                           data={"csrf_token": token, **_anchor_slots((host.id, "host"), (host.id, "assistant"))})
    assert response.status_code == 422
    assert "listed twice" in text(response)


def test_an_unknown_anchor_choice_reshows_the_form(staff, token, client, scene):
    response = client.post(f"/bookings/{scene['booking'].id}/anchors",
                           data={"csrf_token": token, **_anchor_slots(("999999", "host"))})
    assert response.status_code == 422 and "Not a valid choice" in text(response)


def test_who_is_free_and_add_as_assistant(staff, token, client, scene, make, db_session):
    busy = new_anchor(db_session, name="忙碌主播", tenant_id=scene["tenant"].id)
    other_tenant = new_anchor(db_session, name="别家主播", tenant_id=make.tenant().id)
    elsewhere = make.booking(make.room(), scene["tenant"], starts_at=at(1, 19), ends_at=at(1, 21))
    assign(db_session, elsewhere, busy)
    booking = scene["booking"]
    html = text(client.get(f"/bookings/{booking.id}/free-anchors"))
    assert "李佳" in html and "小王" in html
    assert "忙碌主播" not in html and other_tenant.name not in html
    assert "Add as host" in html and "Add as assistant" in html
    response = client.post(f"/bookings/{booking.id}/anchors/add",
                           data={"csrf_token": token, "anchor_id": str(scene["helper"].id), "role": "assistant"})
    assert response.status_code == 302
    assert anchors_of(db_session, booking.id) == {(scene["helper"].id, "assistant")}
    client.post(f"/bookings/{booking.id}/anchors/add",
                data={"csrf_token": token, "anchor_id": str(scene["host"].id), "role": "host"})
    assert anchors_of(db_session, booking.id) == {(scene["helper"].id, "assistant"), (scene["host"].id, "host")}
    # Someone already assigned is not free any more.
    html = text(client.get(f"/bookings/{booking.id}/free-anchors"))
    assert "李佳" not in html.split("<tbody>")[1]


# --- the lineup ------------------------------------------------------------


def _add(client, token, booking, product, **extra):
    return client.post(f"/bookings/{booking.id}/lineup/add",
                       data={"csrf_token": token, "product_id": str(product.id), **extra})


def _item_ids(db_session, booking_id: int) -> list[int]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(LineupItem.id).where(LineupItem.booking_id == booking_id)
                                   .order_by(LineupItem.position)))


def test_add_move_reorder_and_remove_lineup_products(staff, token, client, scene, db_session):
    booking, (coat, scarf, gloves) = scene["booking"], scene["products"]
    assert _add(client, token, booking, coat, planned_start="20:00", planned_end="20:30",
                planned_quantity="40").status_code == 302
    assert _add(client, token, booking, scarf, planned_quantity="20").status_code == 302
    assert _add(client, token, booking, gloves).status_code == 302
    assert lineup_of(db_session, booking.id) == [coat.id, scarf.id, gloves.id]
    item = db_session.scalar(sa.select(LineupItem).where(LineupItem.booking_id == booking.id, LineupItem.position == 1))
    assert (item.planned_start, item.planned_end, item.planned_quantity) == (at(1, 20), at(1, 20, 30), 40)

    # The page highlights the scarf: stock 5, planned 20.
    html = text(client.get(f"/bookings/{booking.id}"))
    assert "Stock of 围巾 (5) is below what the lineup plans (20)." in html
    assert html.count('draggable="true"') == 3

    # Up and down with plain POST forms.
    client.post(f"/bookings/{booking.id}/lineup/{_item_ids(db_session, booking.id)[2]}/up", data={"csrf_token": token})
    assert lineup_of(db_session, booking.id) == [coat.id, gloves.id, scarf.id]
    client.post(f"/bookings/{booking.id}/lineup/{_item_ids(db_session, booking.id)[0]}/down", data={"csrf_token": token})
    assert lineup_of(db_session, booking.id) == [gloves.id, coat.id, scarf.id]
    # The first one cannot go further up.
    client.post(f"/bookings/{booking.id}/lineup/{_item_ids(db_session, booking.id)[0]}/up", data={"csrf_token": token})
    assert lineup_of(db_session, booking.id) == [gloves.id, coat.id, scarf.id]

    # A new order from drag and drop; planned times travel with their product.
    response = client.post(f"/bookings/{booking.id}/lineup/order",
                           data={"csrf_token": token, "order": f"{scarf.id},{coat.id},{gloves.id}"})
    assert response.status_code == 302
    assert lineup_of(db_session, booking.id) == [scarf.id, coat.id, gloves.id]
    moved = db_session.scalar(sa.select(LineupItem).where(LineupItem.booking_id == booking.id,
                                                          LineupItem.product_id == coat.id))
    assert moved.position == 2 and moved.planned_start == at(1, 20) and moved.planned_quantity == 40

    # An order that does not match the lineup (a stale page) changes nothing.
    response = client.post(f"/bookings/{booking.id}/lineup/order",
                           data={"csrf_token": token, "order": f"{coat.id},{gloves.id}"}, follow_redirects=True)
    assert "changed meanwhile" in text(response)
    assert lineup_of(db_session, booking.id) == [scarf.id, coat.id, gloves.id]

    client.post(f"/bookings/{booking.id}/lineup/{_item_ids(db_session, booking.id)[1]}/remove",
                data={"csrf_token": token})
    assert lineup_of(db_session, booking.id) == [scarf.id, gloves.id]
    # A stale item id is reported, not a 500.
    response = client.post(f"/bookings/{booking.id}/lineup/999999/remove", data={"csrf_token": token},
                           follow_redirects=True)
    assert response.status_code == 200 and "changed meanwhile" in text(response)


@pytest.mark.parametrize("extra, field", [
    ({"planned_start": "18:00"}, "planned_start"),           # before the session
    ({"planned_start": "21:00", "planned_end": "20:30"}, "planned_end"),
    ({"planned_start": "25:99"}, "planned_start"),           # not a time
    ({"planned_quantity": "-1"}, "planned_quantity"),
])
def test_bad_lineup_input_reshows_the_booking_page_with_422(staff, token, client, scene, db_session, extra, field):
    response = _add(client, token, scene["booking"], scene["products"][0], **extra)
    assert response.status_code == 422
    html = text(response)
    assert f'id="{field}-error"' in html
    assert "Booking #%d" % scene["booking"].id in html
    assert lineup_of(db_session, scene["booking"].id) == []


def test_a_product_of_another_tenant_cannot_be_added(staff, token, client, scene, make, db_session):
    foreign = new_product(db_session, make.tenant())
    response = _add(client, token, scene["booking"], foreign)
    assert response.status_code == 422 and 'id="product_id-error"' in text(response)


def test_a_product_twice_is_refused(staff, token, client, scene):
    _add(client, token, scene["booking"], scene["products"][0])
    response = _add(client, token, scene["booking"], scene["products"][0])
    assert response.status_code == 422 and "in the lineup already" in text(response)


def test_planned_times_past_midnight(staff, token, client, make, scene, db_session):
    late = make.booking(scene["room"], scene["tenant"], starts_at=at(2, 23), ends_at=at(3, 1))
    response = _add(client, token, late, scene["products"][0], planned_start="23:30", planned_end="00:30")
    assert response.status_code == 302
    item = db_session.scalar(sa.select(LineupItem).where(LineupItem.booking_id == late.id))
    assert (item.planned_start, item.planned_end) == (at(2, 23, 30), at(3, 0, 30))


def test_cancelled_booking_shows_no_forms(staff, token, client, make, scene):
    cancelled = make.booking(make.room(), scene["tenant"], starts_at=at(3, 20), status="cancelled")
    html = text(client.get(f"/bookings/{cancelled.id}"))
    assert "/lineup/add" not in html and 'action="/bookings/%d/anchors"' % cancelled.id not in html
    response = _add(client, token, cancelled, scene["products"][0])
    assert response.status_code == 302
    assert "can no longer be changed" in text(client.get(response.headers["Location"]))


# --- run sheet -------------------------------------------------------------


def test_run_sheet_lists_the_products_in_order(staff, client, scene, db_session):
    booking, (coat, scarf, gloves) = scene["booking"], scene["products"]
    for position, (product, start) in enumerate(((gloves, None), (coat, at(1, 20, 15)), (scarf, None)), start=1):
        db_session.add(LineupItem(booking_id=booking.id, product_id=product.id, position=position,
                                  planned_start=start, planned_end=start and at(1, 21), planned_quantity=10))
    db_session.commit()
    assign(db_session, booking, scene["host"])
    response = client.get(f"/bookings/{booking.id}/runsheet")
    assert response.status_code == 200
    html = text(response)
    assert html.index("手套") < html.index("羊毛大衣") < html.index("围巾")
    assert "20:15–21:00" in html and "20:00–22:00" in html
    assert "¥39.90" in html and "A101" in html and "优品服饰" in html and "服装区" in html
    assert "李佳" in html and "host" in html
    assert 'href="/static/css/print.css" media="print"' in html
    assert 'class="btn-primary js-print" hidden' in html


# --- copy to the series' week ---------------------------------------------


def test_copy_anchors_and_lineup_to_the_series_week(staff, token, client, make, scene, db_session):
    series = Series(rule={"freq": "daily"})
    db_session.add(series)
    db_session.commit()
    room, tenant = scene["room"], scene["tenant"]
    # Saturday 21 November; its week runs Monday 16 to Sunday 22.
    source = scene["booking"]
    source.series_id = series.id
    today = make.booking(room, tenant, starts_at=at(0, 20), series_id=series.id)          # Fri 20
    sunday = make.booking(room, tenant, starts_at=at(2, 20), series_id=series.id)         # Sun 22
    clash = make.booking(make.room(), tenant, starts_at=at(2, 19), ends_at=at(2, 21))     # Sun, another room
    next_week = make.booking(room, tenant, starts_at=at(3, 20), series_id=series.id)      # Mon 23
    db_session.commit()
    assign(db_session, source, scene["host"])
    assign(db_session, source, scene["helper"], role="assistant")
    assign(db_session, clash, scene["helper"], role="assistant")
    db_session.add(LineupItem(booking_id=source.id, product_id=scene["products"][0].id, position=1,
                              planned_start=at(1, 20, 30), planned_end=at(1, 21), planned_quantity=5))
    db_session.commit()

    html = text(client.get(f"/bookings/{source.id}"))
    # The week's other sessions are offered, not next week's (by the checkboxes' own
    # values: an anchor's option may carry the same number).
    offered = {int(v) for v in re.findall(r'name="targets" type="checkbox" value="(\d+)"', html)}
    assert offered == {today.id, sunday.id}
    assert "The whole week" in html

    response = client.post(f"/bookings/{source.id}/copy", data={"csrf_token": token, "whole_week": "y"},
                           follow_redirects=True)
    html = text(response)
    assert f'Copied to <a href="/bookings/{today.id}">' in html
    assert f'Not copied to <a href="/bookings/{sunday.id}">' in html and f'<a href="/bookings/{clash.id}">' in html
    assert anchors_of(db_session, today.id) == {(scene["host"].id, "host"), (scene["helper"].id, "assistant")}
    item = db_session.scalar(sa.select(LineupItem).where(LineupItem.booking_id == today.id))
    assert (item.product_id, item.planned_start, item.planned_quantity) == (scene["products"][0].id, at(0, 20, 30), 5)
    assert anchors_of(db_session, sunday.id) == set() and lineup_of(db_session, sunday.id) == []
    assert anchors_of(db_session, next_week.id) == set()


def test_copy_needs_a_target_and_only_takes_the_week(staff, token, client, make, scene, db_session):
    series = Series(rule={"freq": "daily"})
    db_session.add(series)
    db_session.commit()
    scene["booking"].series_id = series.id
    db_session.commit()
    next_week = make.booking(scene["room"], scene["tenant"], starts_at=at(3, 20), series_id=series.id)
    response = client.post(f"/bookings/{scene['booking'].id}/copy", data={"csrf_token": token})
    assert response.status_code == 422 and "No other session of this series" in text(response)
    response = client.post(f"/bookings/{scene['booking'].id}/copy",
                           data={"csrf_token": token, "targets": str(next_week.id)})
    assert response.status_code == 422
    assert db_session.get(Booking, next_week.id) is not None and anchors_of(db_session, next_week.id) == set()


def test_odd_query_values_do_not_break_the_product_list(staff, client):
    for value in ("99999999999999999999", "abc", "-1"):
        assert client.get(f"/products/?tenant_id={value}").status_code == 200
