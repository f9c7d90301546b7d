"""People and goods: anchors (主播) with their schedules and calendar feeds, and products (商品)."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from opsroom.api import parse as p
from opsroom.api.base import body, bp, current, needs, operation
from opsroom.api.bookings import range_bound
from opsroom.api.schemas import B, I, S, list_of, ref
from opsroom.db import get_session
from opsroom.domain.numbers import MAX_STOCK
from opsroom.domain.statuses import ANCHOR_ROLES
from opsroom.services.errors import BadRequest
from opsroom.services.people_goods import anchors as anchor_service
from opsroom.services.people_goods import products as product_service
from opsroom.web.serialize import anchor_json, booking_json, product_json


def _accounts(v):
    if not isinstance(v, dict) or len(v) > 20 or not all(
            isinstance(k, str) and isinstance(x, str) and 0 < len(k) <= 30 and len(x) <= 100 for k, x in v.items()):
        raise p.FieldError(_l("Expected an object of platform names to account IDs."))
    return {k.strip(): x.strip() for k, x in v.items()}


_accounts.schema = {"type": "object", "maxProperties": 20, "description": "platform name (1-30 characters) → account ID",
                    "propertyNames": {"minLength": 1, "maxLength": 30},
                    "additionalProperties": {"type": "string", "maxLength": 100}}

ANCHOR_SCHEMA = {
    "name": p.F(p.string(100, min_len=1), required=True),
    "tenant_id": p.F(p.integer(1), nullable=True, default=None),
    "user_email": p.F(p.string(254), nullable=True),
    "verified": p.F(p.boolean, default=False),
    "max_minutes_per_day": p.F(p.integer(1, 1440), default=480),
    "min_rest_minutes": p.F(p.integer(0, 1440), default=30),
    "platform_accounts": p.F(_accounts, default=dict),
    "active": p.F(p.boolean, default=True),
}
BY_TENANT = {"tenant_id": p.F(p.id_param)}
SCHEDULE = {"from": p.F(p.bound, required=True), "to": p.F(p.bound, required=True)}
FREE_FOR = {"starts_at": p.F(p.instant, required=True), "ends_at": p.F(p.instant, required=True),
            "role": p.F(p.string(20, choices=ANCHOR_ROLES)), "tenant_id": p.F(p.id_param)}

PRODUCT_SCHEMA = {
    "tenant_id": p.F(p.integer(1), required=True),
    "sku": p.F(p.string(64, min_len=1), required=True),
    "name": p.F(p.string(200, min_len=1), required=True),
    "category": p.F(p.string(50), default=""),
    "price": p.F(p.money, default=0),
    "stock": p.F(p.integer(0, MAX_STOCK), default=0),
    "certifications": p.F(p.string_list(20, 50), default=list),
    "active": p.F(p.boolean, default=True),
}
CATALOGUE = {"type": "object", "required": ["file", "tenant_id"], "properties": {
    "file": {"type": "string", "format": "binary"}, "tenant_id": p.ID_SCHEMA}}

SCHEMAS = {
    "AnchorOut": {"type": "object", "required": ["id", "name"], "properties": {
        "id": I, "name": S, "tenant_id": {"type": "integer", "nullable": True},
        "user_email": {"type": "string", "nullable": True}, "verified": B, "max_minutes_per_day": I,
        "min_rest_minutes": I, "platform_accounts": {"type": "object", "additionalProperties": S}, "active": B,
        "feed_url": {"type": "string", "format": "uri"}}},
    "ProductOut": {"type": "object", "required": ["id", "tenant_id", "sku", "name"], "properties": {
        "id": I, "tenant_id": I, "sku": S, "name": S, "category": S,
        "price": {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"}, "stock": I,
        "certifications": {"type": "array", "items": S}, "active": B}},
}


def _anchor(anchor):
    # feed_url is shown to the anchor themself and to staff: everyone who may read the profile.
    return anchor_json(anchor, with_feed=True)


@bp.get("/anchors")
@needs("anchors.read")
@operation("List anchors (an anchor sees only themself)", query=BY_TENANT, errors=(422,),
           answers=list_of("AnchorOut"))
def anchors_index():
    tenant_id = p.query(request.args, BY_TENANT)["tenant_id"]
    return jsonify([_anchor(a) for a in anchor_service.list_anchors(get_session(), current(), tenant_id=tenant_id)])


@bp.post("/anchors")
@needs("anchors.write")
@operation("Create an anchor", body=("Anchor", ANCHOR_SCHEMA), ok=201, errors=(404, 409, 422),
           answers=ref("AnchorOut"))
def anchors_create():
    data = p.parse(ANCHOR_SCHEMA, body())
    return jsonify(_anchor(anchor_service.create_anchor(get_session(), current(), data))), 201


@bp.get("/anchors/<int:anchor_id>")
@needs("anchors.read")
@operation("Show an anchor", errors=(404,), answers=ref("AnchorOut"))
def anchors_show(anchor_id: int):
    return jsonify(_anchor(anchor_service.get_anchor(get_session(), current(), anchor_id)))


@bp.patch("/anchors/<int:anchor_id>")
@needs("anchors.write")
@operation("Change an anchor", body=("AnchorPatch", ANCHOR_SCHEMA, True), errors=(404, 409, 422),
           answers=ref("AnchorOut"))
def anchors_update(anchor_id: int):
    data = p.parse(ANCHOR_SCHEMA, body(), partial=True)
    return jsonify(_anchor(anchor_service.update_anchor(get_session(), current(), anchor_id, data)))


@bp.post("/anchors/<int:anchor_id>/feed/reset")
@needs("anchors.read")
@operation("Reset the calendar feed URL", errors=(404,), answers=ref("AnchorOut"))
def anchors_reset_feed(anchor_id: int):
    return jsonify(_anchor(anchor_service.reset_feed(get_session(), current(), anchor_id)))


@bp.get("/anchors/<int:anchor_id>/schedule")
@needs("anchors.read")
@operation("The anchor's sessions; from/to: a park-local date or an instant", query=SCHEDULE, answers={
    "type": "array", "items": {"allOf": [ref("BookingOut"), {"type": "object", "properties": {
        "role": {"type": "string"}}}]}})
def anchors_schedule(anchor_id: int):
    q = p.query(request.args, SCHEDULE)
    start, end = range_bound(q["from"], end=False), range_bound(q["to"], end=True)
    rows = anchor_service.schedule(get_session(), current(), anchor_id, start, end)
    return jsonify([{**booking_json(b), "role": a.role} for b, a in rows])


@bp.get("/anchors/free")
@needs("bookings.write")
@operation("Anchors free for a window and within their limits", query=FREE_FOR, errors=(422,),
           answers=list_of("AnchorOut"))
def anchors_free():
    q = p.query(request.args, FREE_FOR)
    rows = anchor_service.free_anchors(get_session(), current(), q["starts_at"], q["ends_at"], role=q["role"] or "host",
                                       tenant_id=q["tenant_id"])
    return jsonify([_anchor(a) for a in rows])


def _product_fields(data: dict) -> dict:
    if "price" in data:
        data["price_fen"] = data.pop("price")
    return data


@bp.get("/products")
@needs("products.read")
@operation("List products", query=BY_TENANT, errors=(422,), answers=list_of("ProductOut"))
def products_index():
    tenant_id = p.query(request.args, BY_TENANT)["tenant_id"]
    rows = product_service.list_products(get_session(), current(), tenant_id=tenant_id)
    return jsonify([product_json(x) for x in rows])


@bp.post("/products")
@needs("products.write")
@operation("Create a product", body=("Product", PRODUCT_SCHEMA), ok=201, errors=(404, 409, 422),
           answers=ref("ProductOut"))
def products_create():
    data = _product_fields(p.parse(PRODUCT_SCHEMA, body()))
    return jsonify(product_json(product_service.create_product(get_session(), current(), data))), 201


@bp.get("/products/<int:product_id>")
@needs("products.read")
@operation("Show a product", errors=(404,), answers=ref("ProductOut"))
def products_show(product_id: int):
    return jsonify(product_json(product_service.get_product(get_session(), current(), product_id)))


@bp.patch("/products/<int:product_id>")
@needs("products.write")
@operation("Change a product", body=("ProductPatch", PRODUCT_SCHEMA, True), errors=(404, 409, 422),
           answers=ref("ProductOut"))
def products_update(product_id: int):
    data = _product_fields(p.parse(PRODUCT_SCHEMA, body(), partial=True))
    return jsonify(product_json(product_service.update_product(get_session(), current(), product_id, data)))


@bp.post("/products/import")
@needs("products.write")
@operation("Import a catalogue CSV (UTF-8 or GBK)", errors=(404, 409, 422), answers={"type": "object"},
           requestBody={"required": True, "content": {"multipart/form-data": {"schema": CATALOGUE}}})
def products_import():
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(_l('Send the CSV as the multipart field "file".'))
    tenant_id = p.query_value(request.form, "tenant_id", p.id_param, required=True)
    return jsonify(product_service.import_catalogue(get_session(), current(), tenant_id, upload.read()))
