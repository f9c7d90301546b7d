"""Digits that `int()` refuses ("²") or that overflow a database integer are a
clear answer, never a 500: in URLs, in forms and in imported CSV rows."""
import io

import pytest

from tests.conftest import at


@pytest.mark.parametrize("query", ["room_id=%C2%B2", "tenant_id=%C2%B2", "room_id=" + "9" * 30])
def test_booking_form_ignores_odd_prefill_numbers(client, auth, make, query):
    make.user("coordinator", email="c@odd.example")
    auth.login("c@odd.example")
    assert client.get(f"/bookings/new?{query}").status_code == 200


def test_lineup_order_with_odd_digits_is_refused_politely(client, auth, make, db_session):
    make.user("coordinator", email="c@odd.example")
    tenant = make.tenant()
    booking = make.booking(make.room(), tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    auth.login("c@odd.example")
    token = auth.csrf(f"/bookings/{booking.id}")
    r = client.post(f"/bookings/{booking.id}/lineup/order", data={"csrf_token": token, "order": "²,1"})
    assert r.status_code == 302


@pytest.mark.parametrize("token", ["%C2%B2.abc", "9" * 30 + ".abc"])
def test_feed_with_odd_anchor_number_is_404(client, token):
    assert client.get(f"/calendar/anchors/{token}.ics").status_code == 404


@pytest.mark.parametrize("stock", ["²", "9" * 30, "-3"])
def test_catalogue_row_with_odd_stock_is_reported(api, make, stock):
    a, tenant = api("coordinator"), make.tenant()
    text = f"sku,name,stock\nOK1,梨,5\nBAD,梨,{stock}\n"
    r = a.client.post("/api/v1/products/import", headers={"Authorization": f"Bearer {a.token}"},
                      data={"tenant_id": str(tenant.id), "file": (io.BytesIO(text.encode()), "c.csv")},
                      content_type="multipart/form-data")
    assert r.status_code == 200, r.json
    assert r.json["created"] == 1 and [e["line"] for e in r.json["errors"]] == [3]
