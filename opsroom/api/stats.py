"""Session stats: GET /bookings/{id}/stats (API.md, with the project's additions)."""
from __future__ import annotations

from flask import jsonify

from opsroom.api.base import bp, current
from opsroom.api.openapi import _ID, PATHS, SCHEMAS, _op
from opsroom.db import get_session
from opsroom.services.sales import stats as service


@bp.get("/bookings/<int:booking_id>/stats")
def booking_stats(booking_id: int):
    return jsonify(service.stats_json(service.booking_stats(get_session(), current(), booking_id)))


_MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "129.90"}
_MONEY_OR_NULL = {**_MONEY, "nullable": True}
_PRODUCT = {"type": "object", "properties": {
    "product_id": {"type": "integer"}, "sku": {"type": "string"}, "name": {"type": "string"},
    "position": {"type": "integer"}, "price": _MONEY, "planned_quantity": {"type": "integer", "nullable": True},
    "orders": {"type": "integer", "minimum": 0}, "quantity": {"type": "integer", "minimum": 0},
    "gmv": _MONEY, "refunds": _MONEY, "net_gmv": _MONEY}}

SCHEMAS.update({
    "BookingStats": {"type": "object", "description": (
        "Sales of one session against its room's capacity (DESIGN.md §4). orders and gmv count paid and refunded "
        "orders, never cancelled ones; net_gmv = gmv - refunds; capacity = order capacity per hour × hours; "
        "load = orders ÷ capacity (null when the capacity is 0). live_load (while live now): orders of the last "
        "OPSROOM_LIVE_LOAD_WINDOW_MINUTES of the session ÷ the capacity of that time; alert = live and "
        "live_load > alert_threshold. per_5min covers the session from its start, then any later 5-minute steps "
        "holding orders (the attribution grace)."),
        "properties": {
            "booking_id": {"type": "integer"}, "orders": {"type": "integer", "minimum": 0},
            "buyers": {"type": "integer", "nullable": True, "description": "distinct buyers, null unless every order names one"},
            "gmv": _MONEY, "refunds": _MONEY, "refunded_orders": {"type": "integer"}, "net_gmv": _MONEY,
            "avg_order_value": _MONEY_OR_NULL, "orders_per_hour": {"type": "number", "nullable": True},
            "peak_hour": {"type": "string", "format": "date-time", "nullable": True,
                          "description": "start of the park-local clock hour with the most orders"},
            "peak_hour_orders": {"type": "integer"}, "capacity_per_hour": {"type": "integer"},
            "capacity": {"type": "number"}, "load": {"type": "number", "nullable": True},
            "live": {"type": "boolean"}, "live_load": {"type": "number", "nullable": True}, "alert": {"type": "boolean"},
            "alert_threshold": {"type": "number"}, "capacity_per_5min": {"type": "number"},
            "per_5min": {"type": "array", "items": {"type": "object", "properties": {
                "starts_at": {"type": "string", "format": "date-time"}, "orders": {"type": "integer"}}}},
            "outside_chart": {"type": "integer"},
            "per_product": {"type": "array", "items": _PRODUCT},
            "other_products": {"type": "object", "description": "orders matching no lineup product", "properties": {
                "orders": {"type": "integer"}, "quantity": {"type": "integer"}, "gmv": _MONEY, "refunds": _MONEY,
                "net_gmv": _MONEY}},
        }},
})

_stats_op = _op("Sales of a session against its room's capacity (staff; an anchor only for their own sessions)",
                errors=(401, 403, 404))
_stats_op["responses"]["200"]["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/BookingStats"}}}
PATHS.update({"/bookings/{id}/stats": {"parameters": _ID, "get": _stats_op}})
