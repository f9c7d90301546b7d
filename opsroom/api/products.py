"""Products (商品) and catalogue import."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from opsroom.api.base import body, bp, current, needs
from opsroom.api import parse as p
from opsroom.web.serialize import product_json
from opsroom.db import get_session
from opsroom.domain.numbers import MAX_STOCK
from opsroom.services.people_goods import products as service
from opsroom.services.errors import BadRequest

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


def _fields(data: dict) -> dict:
    if "price" in data:
        data["price_fen"] = data.pop("price")
    return data


@bp.get("/products")
@needs("products.read")
def products_index():
    tenant_id = p.query_value(request.args, "tenant_id", p.id_param)
    return jsonify([product_json(x) for x in service.list_products(get_session(), current(), tenant_id=tenant_id)])


@bp.post("/products")
@needs("products.write")
def products_create():
    data = _fields(p.parse(PRODUCT_SCHEMA, body()))
    return jsonify(product_json(service.create_product(get_session(), current(), data))), 201


@bp.get("/products/<int:product_id>")
@needs("products.read")
def products_show(product_id: int):
    return jsonify(product_json(service.get_product(get_session(), current(), product_id)))


@bp.patch("/products/<int:product_id>")
@needs("products.write")
def products_update(product_id: int):
    data = _fields(p.parse(PRODUCT_SCHEMA, body(), partial=True))
    return jsonify(product_json(service.update_product(get_session(), current(), product_id, data)))


@bp.post("/products/import")
@needs("products.write")
def products_import():
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(_l('Send the CSV as the multipart field "file".'))
    tenant_id = p.query_value(request.form, "tenant_id", p.id_param, required=True)
    return jsonify(service.import_catalogue(get_session(), current(), tenant_id, upload.read()))
