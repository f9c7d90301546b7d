"""The big screen's data: GET /screen (staff tokens or a read-only screen token)."""
from __future__ import annotations

from flask import jsonify

from opsroom.api.base import bp, current
from opsroom.api.openapi import PATHS, SCHEMAS, _op
from opsroom.db import get_session
from opsroom.services.sales import screen as service


@bp.get("/screen")
def screen():
    response = jsonify(service.snapshot(get_session(), current()))
    response.headers["Cache-Control"] = "no-store"
    return response


_MONEY = {"type": "string", "pattern": r"^\d+\.\d{2}$", "example": "129.90"}
SCHEMAS.update({
    "Screen": {"type": "object", "description": (
        "Rooms live now (checked in and inside their window, whether or not the scheduler has ticked), today's "
        "rankings by GMV (park-local day, orders by their time) and the park's totals for today (every sold order, "
        "attributed or not). load = orders ÷ session capacity; live_load = orders of the last "
        "OPSROOM_LIVE_LOAD_WINDOW_MINUTES ÷ the capacity of that time; alert = live_load > alert_threshold. "
        "Anchors rank by the GMV of sessions they hosted or assisted."),
        "properties": {
            "at": {"type": "string", "format": "date-time"}, "day": {"type": "string", "format": "date"},
            "live": {"type": "array", "items": {"type": "object", "properties": {
                "booking_id": {"type": "integer"}, "room_code": {"type": "string"}, "tenant": {"type": "string"},
                "title": {"type": "string"}, "anchors": {"type": "array", "items": {"type": "string"}},
                "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"},
                "elapsed_minutes": {"type": "integer", "minimum": 0}, "orders": {"type": "integer"}, "gmv": _MONEY,
                "capacity_per_hour": {"type": "integer"}, "load": {"type": "number", "nullable": True},
                "live_load": {"type": "number", "nullable": True}, "alert": {"type": "boolean"}}}},
            "rankings": {"type": "object", "properties": {
                "rooms": {"type": "array", "items": {"type": "object", "properties": {
                    "room_code": {"type": "string"}, "orders": {"type": "integer"}, "gmv": _MONEY}}},
                "anchors": {"type": "array", "items": {"type": "object", "properties": {
                    "anchor_id": {"type": "integer"}, "name": {"type": "string"}, "orders": {"type": "integer"},
                    "gmv": _MONEY}}}}},
            "totals": {"type": "object", "properties": {
                "orders": {"type": "integer"}, "gmv": _MONEY, "live_rooms": {"type": "integer"},
                "alerts": {"type": "integer"}}},
            "alert_threshold": {"type": "number"},
        }},
})

_screen_op = _op("The big screen's data (any staff token, or a screen token)", errors=(401, 403))
_screen_op["responses"]["200"]["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Screen"}}}
PATHS.update({"/screen": {"get": _screen_op}})
