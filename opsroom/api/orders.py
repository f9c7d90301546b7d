"""Orders: JSON batches, shop-export imports, listing, assignment by hand."""
from __future__ import annotations

from flask import current_app, jsonify, request, send_file
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from opsroom.api.base import body, bp, current, needs
from opsroom.api import parse as p
from opsroom.api.bookings import bound
from opsroom.web.errors import error_response
from opsroom.api.openapi import _BOUND, _ID, PATHS, SCHEMAS, _op, _q, _qenum, _qid, _ref
from opsroom.web.serialize import instant, money
from opsroom.db import get_session
from opsroom.domain.order_formats import PLATFORMS
from opsroom.domain.statuses import ORDER_STATUSES
from opsroom.services.errors import BadRequest, ValidationFailed
from opsroom.services.sales.batches import get_batch, rejects_csv
from opsroom.services.sales.ingestion import import_export, import_json
from opsroom.services.sales.orders import attribute, list_orders
from opsroom.web.serialize import batch_json
from opsroom.web.uploads import raise_upload_limit, upload_size


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
def orders_ingest():
    data = body()
    if not isinstance(data, dict) or "orders" not in data:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "orders", "message": _l("This field is required.")}])
    return jsonify(import_json(get_session(), current(), data["orders"]))


@bp.post("/orders/import")
@needs("orders.write")
def orders_import():
    raise_upload_limit()
    try:
        upload = request.files.get("file")
        platform = request.form.get("platform") or None
    except RequestEntityTooLarge:
        return error_response(413, _l("The file is larger than %(mb)s MB.",
                                      mb=current_app.config["ORDER_IMPORT_MAX_BYTES"] // (1024 * 1024)))
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
def orders_index():
    args = request.args
    unattributed = p.query_value(args, "unattributed", p.string(5, choices=("true", "false")))
    limit = _limit()
    rows = list_orders(
        get_session(), current(), booking_id=p.query_value(args, "booking_id", p.id_param),
        unattributed=unattributed == "true", start=bound("from", end=False), end=bound("to", end=True),
        limit=limit or current_app.config["API_MAX_LIST"])
    return jsonify([order_json(o) for o in rows])


def _limit() -> int | None:
    maximum = current_app.config["API_MAX_LIST"]
    value = p.query_value(request.args, "limit", p.id_param)
    if value is not None and value > maximum:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "limit", "message": _l("Must be at most %(n)s.", n=maximum)}])
    return value


ATTRIBUTE_SCHEMA = {
    "order_ids": p.F(p.int_list(1, p.MAX_INT, max_items=5000), required=True),
    "booking_id": p.F(p.integer(1), required=True),
}


@bp.post("/orders/attribute")
@needs("orders.write")
def orders_attribute():
    data = p.parse(ATTRIBUTE_SCHEMA, body())
    if not data["order_ids"]:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "order_ids", "message": _l("Choose at least one order.")}])
    return jsonify({"updated": attribute(get_session(), current(), data["order_ids"], data["booking_id"])})


@bp.get("/orders/imports/<int:batch_id>")
@needs("orders.write")
def orders_batch(batch_id: int):
    return jsonify(batch_json(get_batch(get_session(), current(), batch_id)))


@bp.get("/orders/imports/<int:batch_id>/rejects.csv")
@needs("orders.write")
def orders_batch_rejects(batch_id: int):
    data = rejects_csv(get_session(), current(), batch_id)
    return send_file(data, mimetype="text/csv", as_attachment=True, download_name=f"import-{batch_id}-rejects.csv")


# --- OpenAPI ---------------------------------------------------------------

_MONEY = {"oneOf": [{"type": "string", "pattern": "^\\d+(\\.\\d{1,2})?$", "example": "129.90"},
                    {"type": "number", "minimum": 0}]}
SCHEMAS.update({
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
        "amount": _MONEY, "refund": _MONEY,
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
})

PATHS.update({
    "/orders": {
        "post": _op("Ingest up to 5,000 orders; rows with errors are reported by index and skipped, "
                    "the rest applied atomically", body="OrderBatch", errors=(400, 401, 403, 409, 422)),
        "get": _op("Orders of a booking, or unattributed ones, oldest first", params=[
            _qid("booking_id"), _qenum("unattributed", ("true", "false")),
            _q("from", schema=_BOUND), _q("to", schema=_BOUND),
            _q("limit", schema={"type": "integer", "minimum": 1, "maximum": 1000,
                                "description": "at most OPSROOM_API_MAX_LIST (1000 by default)"})],
            errors=(401, 403, 404, 422), schema={"type": "array", "items": _ref("OrderOut")}),
    },
    "/orders/import": {"post": {**_op("Import a shop's order export (CSV, streamed)", errors=(400, 401, 403, 409, 413, 422)),
                                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                                    "type": "object", "required": ["file"], "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "platform": {"type": "string", "enum": list(PLATFORMS), "description":
                                            "default: the platform of the export's format (douyin for English headers)"},
                                        "upload_key": {"type": "string", "description":
                                            "the upload page's progress key (cut to 64 characters)"}}}}}}}},
    "/orders/attribute": {"post": _op("Assign orders to a booking by hand", body="OrderAttribute",
                                      errors=(400, 401, 403, 422))},
    "/orders/imports/{id}": {"parameters": _ID, "get": _op("An import batch: state, progress, counts", errors=(401, 403, 404))},
    "/orders/imports/{id}/rejects.csv": {"parameters": _ID, "get": {
        **_op("The rows an import could not take, as CSV", errors=(401, 403, 404)),
        "responses": {"200": {"description": "CSV (UTF-8 with BOM)", "content": {"text/csv": {"schema": {"type": "string"}}}},
                      "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                      "404": {"$ref": "#/components/responses/Error"}}}},
})
