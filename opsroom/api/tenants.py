"""Tenants (入驻企业)."""
from __future__ import annotations

from flask import jsonify, request

from opsroom.api.base import body, bp, current, needs
from opsroom.api import parse as p
from opsroom.web.serialize import tenant_json
from opsroom.db import get_session
from opsroom.domain.statuses import TENANT_STATUSES
from opsroom.services.park import tenants as service

TENANT_SCHEMA = {
    "name": p.F(p.string(100, min_len=1), required=True),
    "contact": p.F(p.string(200), default=""),
    "credit_code": p.F(p.string(18), default=""),
    "status": p.F(p.string(20, choices=TENANT_STATUSES), default="active"),
}


@bp.get("/tenants")
def tenants_index():
    status = p.query_value(request.args, "status", p.string(20, choices=TENANT_STATUSES))
    return jsonify([tenant_json(t) for t in service.list_tenants(get_session(), current(), status=status)])


@bp.post("/tenants")
@needs("tenants.write")
def tenants_create():
    data = p.parse(TENANT_SCHEMA, body())
    return jsonify(tenant_json(service.create_tenant(get_session(), current(), data))), 201


@bp.get("/tenants/<int:tenant_id>")
def tenants_show(tenant_id: int):
    return jsonify(tenant_json(service.get_tenant(get_session(), current(), tenant_id)))


@bp.patch("/tenants/<int:tenant_id>")
@needs("tenants.write")
def tenants_update(tenant_id: int):
    data = p.parse(TENANT_SCHEMA, body(), partial=True)
    return jsonify(tenant_json(service.update_tenant(get_session(), current(), tenant_id, data)))
