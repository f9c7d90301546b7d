"""Sales: orders in (JSON batches, shop-export imports), listed and assigned by hand;
each session's stats against its room's capacity; the big screen's data."""
from __future__ import annotations

from flask import current_app, jsonify, request, send_file
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from opsroom.api import parse as p
from opsroom.api.base import body, bp, current, needs, operation
from opsroom.api.bookings import range_bound
from opsroom.api.schemas import ERROR, ref
from opsroom.db import get_session
from opsroom.domain.order_formats import PLATFORMS
from opsroom.domain.statuses import ORDER_STATUSES
from opsroom.services.errors import BadRequest, ValidationFailed
from opsroom.services.sales import screen as screen_service
from opsroom.services.sales import stats as stats_service
from opsroom.services.sales.batches import get_batch, rejects_csv
from opsroom.services.sales.ingestion import import_export, import_json
from opsroom.services.sales.orders import attribute, list_orders
from opsroom.web.errors import error_response
from opsroom.web.serialize import batch_json, instant, money
from opsroom.web.uploads import raise_upload_limit, upload_size

ATTRIBUTE_SCHEMA = {
    "order_ids": p.F(p.int_list(1, p.MAX_INT, max_items=5000), required=True),
    "booking_id": p.F(p.integer(1), required=True),
}


def _max_list() -> int:
    return current_app.extensions["opsroom.settings"].api_max_list


ORDER_FILTERS = {
    "booking_id": p.F(p.id_param), "unattributed": p.F(p.string(5, choices=("true", "false"))),
    "from": p.F(p.bound), "to": p.F(p.bound),
    "limit": p.F(p.positive(1000), extra={"description": "at most OPSROOM_API_MAX_LIST (1000 by default)"}),
}
IMPORT_FORM = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary"},
    "platform": {"type": "string", "enum": list(PLATFORMS), "description":
                 "default: the platform of the export's format (douyin for English headers)"},
    "upload_key": {"type": "string", "description": "the upload page's progress key (cut to 64 characters)"}}}

_AMOUNT = {"oneOf": [{"type": "string", "pattern": "^\\d+(\\.\\d{1,2})?$", "example": "129.90"},
                    {"type": "number", "minimum": 0}]}
ORDER_SCHEMAS = {
    "OrderIn": {"type": "object", "required": ["platform", "external_id", "amount", "ordered_at", "status"], "properties": {
        "platform": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,19}$", "example": "douyin"},
        "external_id": {"type": "string", "maxLength": 64, "description": "the platform's sub-order number"},
        "parent_id": {"type": "string", "maxLength": 64},
        "booking_id": {"type": "integer", "minimum": 1},
        "room_code": {"type": "string", "maxLength": 32},
        "anchor_account": {"type": "string", "maxLength": 64},
        "sku": {"type": "string", "maxLength": 64},
        "product_name": {"type": "string", "maxLength": 200},
        "buyer": {"type": "string", "maxLength": 64},
        "quantity": {"type": "integer", "minimum": 0, "maximum": 1000000, "default": 1},
        "amount": _AMOUNT, "refund": _AMOUNT,
        "ordered_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": list(ORDER_STATUSES)}}},
    "OrderBatch": {"type": "object", "required": ["orders"], "properties": {
        "orders": {"type": "array", "maxItems": 5000, "items": {"anyOf": [
            {"$ref": "#/components/schemas/OrderIn"}, {"type": "object"}, {"type": "array"}, {"type": "string"},
            {"type": "number"}, {"type": "boolean"}], "nullable": True, "description": (
            "an OrderIn; any other item is reported by its index in the answer's rejected rows and skipped")}}}},
    "OrderAttribute": {"type": "object", "required": ["order_ids", "booking_id"], "properties": {
        "order_ids": {"type": "array", "minItems": 1, "maxItems": 5000,
                      "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
        "booking_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}},
    "OrderOut": {"type": "object", "required": ["id", "platform", "external_id", "amount", "status", "ordered_at"],
                 "properties": {
                     "id": {"type": "integer"}, "platform": {"type": "string"}, "external_id": {"type": "string"},
                     "parent_id": {"type": "string", "nullable": True}, "booking_id": {"type": "integer", "nullable": True},
                     "attributed_by": {"type": "string", "nullable": True}, "room_code": {"type": "string", "nullable": True},
                     "anchor_account": {"type": "string", "nullable": True}, "sku": {"type": "string", "nullable": True},
                     "product_id": {"type": "integer", "nullable": True},
                     "product_name": {"type": "string", "nullable": True}, "quantity": {"type": "integer"},
                     "amount": {"type": "string"}, "refund": {"type": "string", "nullable": True},
                     "status": {"type": "string", "enum": list(ORDER_STATUSES)},
                     "ordered_at": {"type": "string", "format": "date-time"}}},
}


_MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "129.90"}
_MONEY_OR_NULL = {**_MONEY, "nullable": True}
_PRODUCT = {"type": "object", "properties": {
    "product_id": {"type": "integer"}, "sku": {"type": "string"}, "name": {"type": "string"},
    "position": {"type": "integer"}, "price": _MONEY, "planned_quantity": {"type": "integer", "nullable": True},
    "orders": {"type": "integer", "minimum": 0}, "quantity": {"type": "integer", "minimum": 0},
    "gmv": _MONEY, "refunds": _MONEY, "net_gmv": _MONEY}}

STATS_SCHEMAS = {
    "BookingStats": {"type": "object", "description": (
        "Sales of one session against its room's capacity (docs/domain.md). orders and gmv count paid and refunded "
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
}


_SCREEN_MONEY = {"type": "string", "pattern": r"^\d+\.\d{2}$", "example": "129.90"}
SCREEN_SCHEMAS = {
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
                "tenant_short": {"type": "string", "description": "the tenant's 简称, else its name shortened"},
                "title": {"type": "string"}, "anchors": {"type": "array", "items": {"type": "string"}},
                "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"},
                "elapsed_minutes": {"type": "integer", "minimum": 0}, "orders": {"type": "integer"}, "gmv": _SCREEN_MONEY,
                "capacity_per_hour": {"type": "integer"}, "load": {"type": "number", "nullable": True},
                "live_load": {"type": "number", "nullable": True}, "alert": {"type": "boolean"},
                "expected_load": {"type": "number", "nullable": True, "description": (
                    "the session's forecast orders per hour (p50) ÷ the room's hourly capacity, when a stored "
                    "forecast is valid for its room and window (docs/forecast.md)")}}}},
            "rankings": {"type": "object", "properties": {
                "rooms": {"type": "array", "items": {"type": "object", "properties": {
                    "room_code": {"type": "string"}, "orders": {"type": "integer"}, "gmv": _SCREEN_MONEY}}},
                "anchors": {"type": "array", "items": {"type": "object", "properties": {
                    "anchor_id": {"type": "integer"}, "name": {"type": "string"}, "orders": {"type": "integer"},
                    "gmv": _SCREEN_MONEY}}}}},
            "totals": {"type": "object", "properties": {
                "orders": {"type": "integer"}, "gmv": _SCREEN_MONEY, "live_rooms": {"type": "integer"},
                "alerts": {"type": "integer"}}},
            "alert_threshold": {"type": "number"},
        }},
}

SCHEMAS = {**ORDER_SCHEMAS, **STATS_SCHEMAS, **SCREEN_SCHEMAS}


def order_json(order) -> dict:
    return {
        "id": order.id, "platform": order.platform, "external_id": order.external_id,
        "parent_id": order.parent_id, "booking_id": order.booking_id, "attributed_by": order.attributed_by,
        "room_code": order.room_code, "anchor_account": order.anchor_account, "sku": order.sku,
        "product_id": order.product_id, "product_name": order.product_name, "quantity": order.quantity,
        "amount": money(order.amount_fen), "refund": money(order.refund_fen), "status": order.status,
        "ordered_at": instant(order.ordered_at),
    }


@bp.post("/orders")
@needs("orders.write")
@operation("Ingest up to 5,000 orders; rows with errors are reported by index and skipped, the rest applied "
           "atomically", body=("OrderBatch", ORDER_SCHEMAS["OrderBatch"]), errors=(400, 401, 403, 409, 422))
def orders_ingest():
    data = body()
    if not isinstance(data, dict) or "orders" not in data:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "orders", "message": _l("This field is required.")}])
    return jsonify(import_json(get_session(), current(), data["orders"]))


@bp.post("/orders/import")
@needs("orders.write")
@operation("Import a shop's order export (CSV, streamed)", errors=(400, 401, 403, 409, 413, 422),
           requestBody={"required": True, "content": {"multipart/form-data": {"schema": IMPORT_FORM}}})
def orders_import():
    raise_upload_limit()
    try:
        upload = request.files.get("file")
        platform = request.form.get("platform") or None
    except RequestEntityTooLarge:
        mb = current_app.extensions["opsroom.settings"].order_import_max_bytes // (1024 * 1024)
        return error_response(413, _l("The file is larger than %(mb)s MB.", mb=mb))
    if upload is None:
        raise BadRequest(_l('Send the CSV as the multipart field "file".'))
    if platform is not None and "\x00" in platform:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "platform", "message": _l("Must not contain a NUL character.")}])
    # No platform: the export's own (a 快手小店 file is kuaishou); douyin for English headers.
    result = import_export(get_session(), current(), upload.stream, platform=platform,
                           filename=upload.filename or "", size=upload_size(upload),
                           upload_key=(request.form.get("upload_key") or "").replace("\x00", ""))
    return jsonify(result)


@bp.get("/orders")
@needs("orders.read")
@operation("Orders of a booking, or unattributed ones, oldest first", query=ORDER_FILTERS,
           errors=(401, 403, 404, 422), answers={"type": "array", "items": ref("OrderOut")})
def orders_index():
    q = p.query(request.args, ORDER_FILTERS)
    if q["limit"] is not None and q["limit"] > _max_list():
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "limit", "message": _l("Must be at most %(n)s.", n=_max_list())}])
    rows = list_orders(
        get_session(), current(), booking_id=q["booking_id"], unattributed=q["unattributed"] == "true",
        start=range_bound(q["from"], end=False), end=range_bound(q["to"], end=True), limit=q["limit"] or _max_list())
    return jsonify([order_json(o) for o in rows])


@bp.post("/orders/attribute")
@needs("orders.write")
@operation("Assign orders to a booking by hand", body=("OrderAttribute", ORDER_SCHEMAS["OrderAttribute"]),
           errors=(400, 401, 403, 422))
def orders_attribute():
    data = p.parse(ATTRIBUTE_SCHEMA, body())
    if not data["order_ids"]:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "order_ids", "message": _l("Choose at least one order.")}])
    return jsonify({"updated": attribute(get_session(), current(), data["order_ids"], data["booking_id"])})


@bp.get("/orders/imports/<int:batch_id>")
@needs("orders.write")
@operation("An import batch: state, progress, counts", errors=(401, 403, 404))
def orders_batch(batch_id: int):
    return jsonify(batch_json(get_batch(get_session(), current(), batch_id)))


@bp.get("/orders/imports/<int:batch_id>/rejects.csv")
@needs("orders.write")
@operation("The rows an import could not take, as CSV", errors=(401, 403, 404), responses={
    "200": {"description": "CSV (UTF-8 with BOM)", "content": {"text/csv": {"schema": {"type": "string"}}}},
    "401": ERROR, "403": ERROR, "404": ERROR})
def orders_batch_rejects(batch_id: int):
    data = rejects_csv(get_session(), current(), batch_id)
    return send_file(data, mimetype="text/csv", as_attachment=True, download_name=f"import-{batch_id}-rejects.csv")


@bp.get("/bookings/<int:booking_id>/stats")
@operation("Sales of a session against its room's capacity (staff; an anchor only for their own sessions)",
           errors=(401, 403, 404), answers=ref("BookingStats"))
def booking_stats(booking_id: int):
    return jsonify(stats_service.stats_json(stats_service.booking_stats(get_session(), current(), booking_id)))


@bp.get("/screen")
@operation("The big screen's data (any staff token, or a screen token)", errors=(401, 403), answers=ref("Screen"))
def screen():
    response = jsonify(screen_service.snapshot(get_session(), current()))
    response.headers["Cache-Control"] = "no-store"
    return response
