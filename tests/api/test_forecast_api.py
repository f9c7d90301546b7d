"""GET /api/v1/forecast and the `forecast` of a created or fetched booking (docs/api.md, Forecast)."""
from __future__ import annotations

from datetime import timedelta

from tests.conftest import at
from tests.services.sales.test_forecast_service import session_


def test_forecast_route_answers_the_documented_object(api, make, db_session):
    tenant, host = make.tenant(), make.anchor()
    small = make.room(kind="服装", order_capacity_per_hour=50)
    big = make.room(kind="服装", order_capacity_per_hour=300)
    for d in range(5):
        session_(make, db_session, make.room(kind="服装", order_capacity_per_hour=10), tenant, at(-1 - d, 20),
                 [120, 0], anchors=[host])
    r = api("coordinator").get(f"/forecast?tenant_id={tenant.id}&room_id={small.id}"
                               f"&starts_at={at(1, 20).isoformat()}&ends_at={at(1, 22).isoformat()}"
                               f"&anchor_ids={host.id},{host.id + 1000}".replace("+", "%2B"))
    assert r.status_code == 200, r.json
    body = r.json
    assert body["basis"] == "tenant_anchors" and body["sessions"] == 5
    assert body["orders_per_hour"] == {"p50": 60.0, "p90": 60.0}
    assert body["peak_hour_orders"] == {"p50": 120.0, "p90": 120.0}
    assert body["capacity_per_hour"] == 50 and body["fits"] is False
    assert body["better_rooms"] == [{"room_id": big.id, "code": big.code, "order_capacity_per_hour": 300}]


def test_forecast_route_refuses_bad_input_and_roles(api, make):
    room, tenant = make.room(), make.tenant()
    ok = f"tenant_id={tenant.id}&room_id={room.id}&starts_at=2026-11-21T20:00:00%2B08:00&ends_at=2026-11-21T22:00:00%2B08:00"
    coordinator = api("coordinator")
    missing = coordinator.get("/forecast")
    assert missing.status_code == 422
    assert {d["field"] for d in missing.json["error"]["details"]} == {"tenant_id", "room_id", "starts_at", "ends_at"}
    for bad in ("anchor_ids=1,,2", "anchor_ids=0", "anchor_ids=x", "anchor_ids=" + ",".join(["1"] * 21)):
        r = coordinator.get(f"/forecast?{ok}&{bad}")
        assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "anchor_ids", bad
    backwards = coordinator.get(f"/forecast?tenant_id={tenant.id}&room_id={room.id}"
                                "&starts_at=2026-11-21T22:00:00%2B08:00&ends_at=2026-11-21T20:00:00%2B08:00")
    assert backwards.status_code == 422
    assert coordinator.get(f"/forecast?tenant_id={tenant.id}&room_id=999999&starts_at=2026-11-21T20:00:00%2B08:00"
                           "&ends_at=2026-11-21T22:00:00%2B08:00").status_code == 404
    assert api("anchor").get(f"/forecast?{ok}").status_code == 403
    assert api("coordinator").client.get(f"/api/v1/forecast?{ok}").status_code == 401


def test_created_and_fetched_bookings_carry_their_forecast(api, make, db_session):
    room, tenant = make.room(order_capacity_per_hour=600), make.tenant()
    coordinator = api("coordinator")
    created = coordinator.post("/bookings", json={"room_id": room.id, "tenant_id": tenant.id,
                                                   "starts_at": at(1, 20).isoformat(),
                                                   "ends_at": (at(1, 20) + timedelta(hours=2)).isoformat()})
    assert created.status_code == 201, created.json
    assert created.json["forecast"]["capacity_per_hour"] == 600 and created.json["forecast"]["fits"] is True
    fetched = coordinator.get(f"/bookings/{created.json['id']}")
    assert fetched.json["forecast"] == created.json["forecast"]
    listed = coordinator.get("/bookings")
    assert all("forecast" not in b for b in listed.json)
