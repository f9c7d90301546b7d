"""The forecast at booking (docs/forecast.md): a session's expected orders per hour
and peak-hour orders against the room's capacity, and the free rooms that would hold it."""
from __future__ import annotations

import re

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from opsroom.api import parse as p
from opsroom.api.base import bp, current, needs, operation
from opsroom.api.schemas import B, I
from opsroom.db import get_session
from opsroom.domain.forecast import BASES
from opsroom.services.sales.forecast import forecast_for, forecast_json

MAX_ANCHORS = 20
# Ids of at most nine digits (all below 2**31), comma-separated: what `anchor_ids` takes, exactly.
_ID_LIST = r"[1-9][0-9]{0,8}(,[1-9][0-9]{0,8}){0,%d}" % (MAX_ANCHORS - 1)


def id_csv(v) -> list[int]:
    """Anchor ids as `1,2,3` (at most MAX_ANCHORS)."""
    if not isinstance(v, str) or not re.fullmatch(_ID_LIST, v):
        raise p.FieldError(_l("Expected ids separated by commas, such as 1,2 (at most %(n)s).", n=MAX_ANCHORS))
    return [int(x) for x in v.split(",")]


id_csv.schema = {"type": "string", "pattern": f"^{_ID_LIST}$", "example": "1,2"}

FORECAST_QUERY = {
    "tenant_id": p.F(p.id_param, required=True),
    "room_id": p.F(p.id_param, required=True),
    "starts_at": p.F(p.instant, required=True),
    "ends_at": p.F(p.instant, required=True),
    "anchor_ids": p.F(id_csv),
}

_NUM = {"type": "number", "minimum": 0}
_RANGE = {"type": "object", "required": ["p50", "p90"], "properties": {"p50": _NUM, "p90": _NUM}}

SCHEMAS = {
    "Forecast": {"type": "object", "required": [
        "orders_per_hour", "peak_hour_orders", "basis", "sessions", "capacity_per_hour", "fits", "better_rooms"],
        "properties": {
            "orders_per_hour": _RANGE, "peak_hour_orders": _RANGE,
            "peak_hour": {"type": "integer", "minimum": 0, "maximum": 23, "nullable": True,
                          "description": "the park-local clock hour the peak is expected in"},
            "basis": {"type": "string", "enum": list(BASES)},
            "sessions": {"type": "integer", "minimum": 0}, "capacity_per_hour": {"type": "integer", "minimum": 0},
            "fits": B,
            "better_rooms": {"type": "array", "items": {"type": "object", "required": [
                "room_id", "code", "order_capacity_per_hour"], "properties": {
                "room_id": I, "code": {"type": "string"}, "order_capacity_per_hour": I}}}}},
}


@bp.get("/forecast")
@needs("forecast.read")
@operation("A session's forecast (orders per hour and in the peak hour, p50/p90) against the room's capacity, "
           "with the free rooms of the same kind that would hold it", query=FORECAST_QUERY,
           errors=(404, 422), answers={"$ref": "#/components/schemas/Forecast"})
def forecast_show():
    q = p.query(request.args, FORECAST_QUERY)
    result = forecast_for(get_session(), current(), q["tenant_id"], q["room_id"], q["starts_at"], q["ends_at"],
                          q["anchor_ids"] or ())
    return jsonify(forecast_json(result))
