"""Sales on the booking page (stats, chart data, per product, capacity alert), the alert
on the board, and the post-live review (复盘) with its notes."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from opsroom.models import LineupItem, ReviewNote
from tests.conftest import Auth, at, configure
from tests.support.pages import assert_no_inline_code, csrf_from


@pytest.fixture
def hot(make, app):
    """A live session (checked in, the scheduler not yet ticked) with a lineup, over its capacity:
    6 orders in the 30 elapsed minutes of a room taking 10 an hour."""
    room = make.room(code="A101", order_capacity_per_hour=10)
    tenant = make.tenant(name="西柳服装")
    booking = make.booking(room, tenant, starts_at=at(0, 9, 30), ends_at=at(0, 11, 30), status="confirmed",
                           checked_in_at=at(0, 9, 20), title="羽绒服专场")
    product = make.product(tenant, sku="XL-YR-001", name="加厚白鸭绒羽绒服", price_fen=39900)
    make.session.add(LineupItem(booking_id=booking.id, product_id=product.id, position=1, planned_quantity=50))
    make.session.commit()
    for minute in range(31, 37):
        make.order(booking, ordered_at=at(0, 9, minute), amount_fen=39900, product_id=product.id, sku="XL-YR-001")
    return booking


def login(app, make, role, **kw):
    client = app.test_client()
    user = make.user(role, **kw)
    assert Auth(client).login(user.email).status_code == 302
    return client, user


def test_booking_page_shows_stats_chart_data_products_and_the_alert(app, make, hot):
    client, _ = login(app, make, "coordinator", locale="en")
    r = client.get(f"/bookings/{hot.id}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert_no_inline_code(html, "booking page")
    assert re.search(r'data-stat="gmv">¥2394.00<', html)
    assert "Capacity alert" in html and 'role="alert"' in html
    orders = json.loads(re.search(r"data-orders='([^']+)'", html).group(1))
    steps = json.loads(re.search(r"data-steps='([^']+)'", html).group(1))
    assert steps[0] == "09:30" and len(steps) == 24 and orders[:2] == [4, 2]
    assert 'data-capacity="0.83"' in html  # 10 an hour = 5/6 per 5 minutes
    assert "加厚白鸭绒羽绒服" in html and "echarts.min.js" in html and "sales-chart.js" in html


def test_the_board_flags_the_live_session_over_capacity(app, make, hot):
    client, _ = login(app, make, "coordinator", locale="en")
    html = client.get("/board/").get_data(as_text=True)
    tag = re.search(r'<a class="booking[^"]*"[^>]*href="/bookings/%d"' % hot.id, html).group(0)
    assert "capacity-alert" in tag
    assert "capacity alert: load 120%" in html


def test_no_alert_below_the_threshold(app, make, hot):
    configure(app, CAPACITY_ALERT_PERCENT=130)
    client, _ = login(app, make, "coordinator", locale="en")
    assert "capacity-alert" not in client.get("/board/").get_data(as_text=True)
    assert "Capacity alert" not in client.get(f"/bookings/{hot.id}").get_data(as_text=True)


def test_staff_and_the_sessions_anchor_write_review_notes(app, make, db_session, hot):
    client, _ = login(app, make, "manager", locale="en")
    page = client.get(f"/bookings/{hot.id}/review")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Post-live review" in html and "加厚白鸭绒羽绒服" in html
    assert_no_inline_code(html, "review page")
    r = client.post(f"/bookings/{hot.id}/review/notes", data={"csrf_token": csrf_from(html), "body": "羽绒服讲解太长，下次控制在5分钟内"})
    assert r.status_code == 302

    anchor_client, anchor_user = login(app, make, "anchor")
    make.assign(hot, make.anchor(name="海燕姐", user_id=anchor_user.id))
    html = anchor_client.get(f"/bookings/{hot.id}/review").get_data(as_text=True)
    assert "羽绒服讲解太长" in html
    r = anchor_client.post(f"/bookings/{hot.id}/review/notes", data={"csrf_token": csrf_from(html), "body": "  福利款库存不够  "})
    assert r.status_code == 302
    notes = db_session.scalars(sa.select(ReviewNote).order_by(ReviewNote.id)).all()
    assert [n.body for n in notes] == ["羽绒服讲解太长，下次控制在5分钟内", "福利款库存不够"]
    assert notes[1].user_id == anchor_user.id


def test_an_anchor_not_on_the_session_neither_reads_nor_writes_its_review(app, make, hot):
    client, _ = login(app, make, "anchor")
    assert client.get(f"/bookings/{hot.id}/review").status_code == 403
    token = csrf_from(client.get("/account/tokens").get_data(as_text=True))
    assert client.post(f"/bookings/{hot.id}/review/notes", data={"csrf_token": token, "body": "x"}).status_code == 403


@pytest.mark.parametrize("body,message", [("   ", "This field is required."), ("长" * 5001, "5000")])
def test_a_bad_note_is_reshown_with_its_message(app, make, db_session, hot, body, message):
    client, _ = login(app, make, "coordinator", locale="en")
    html = client.get(f"/bookings/{hot.id}/review").get_data(as_text=True)
    r = client.post(f"/bookings/{hot.id}/review/notes", data={"csrf_token": csrf_from(html), "body": body})
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ReviewNote)) == 0


def test_review_of_an_unknown_booking_is_404(app, make):
    client, _ = login(app, make, "admin")
    assert client.get("/bookings/999999/review").status_code == 404


def test_an_anchor_reaches_the_review_from_their_session_page(app, make):
    client, user = login(app, make, "anchor")
    booking = make.booking(starts_at=at(-1, 19), status="ended", checked_in_at=at(-1, 18, 50))
    make.assign(booking, make.anchor(user_id=user.id))
    html = client.get(f"/me/sessions/{booking.id}").get_data(as_text=True)
    assert f'href="/bookings/{booking.id}/review"' in html
    assert client.get(f"/bookings/{booking.id}/review").status_code == 200
