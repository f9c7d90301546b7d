"""Anchors and their schedules."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from opsroom.api.base import body, bp, current, needs
from opsroom.api import parse as p
from opsroom.api.bookings import bound, booking_json
from opsroom.web.serialize import anchor_json
from opsroom.db import get_session
from opsroom.domain.statuses import ANCHOR_ROLES
from opsroom.services.people_goods import anchors as service


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


def _json(anchor):
    # feed_url is shown to the anchor themself and to staff: everyone who may read the profile.
    return anchor_json(anchor, with_feed=True)


@bp.get("/anchors")
@needs("anchors.read")
def anchors_index():
    tenant_id = p.query_value(request.args, "tenant_id", p.id_param)
    return jsonify([_json(a) for a in service.list_anchors(get_session(), current(), tenant_id=tenant_id)])


@bp.post("/anchors")
@needs("anchors.write")
def anchors_create():
    data = p.parse(ANCHOR_SCHEMA, body())
    return jsonify(_json(service.create_anchor(get_session(), current(), data))), 201


@bp.get("/anchors/<int:anchor_id>")
@needs("anchors.read")
def anchors_show(anchor_id: int):
    return jsonify(_json(service.get_anchor(get_session(), current(), anchor_id)))


@bp.patch("/anchors/<int:anchor_id>")
@needs("anchors.write")
def anchors_update(anchor_id: int):
    data = p.parse(ANCHOR_SCHEMA, body(), partial=True)
    return jsonify(_json(service.update_anchor(get_session(), current(), anchor_id, data)))


@bp.post("/anchors/<int:anchor_id>/feed/reset")
@needs("anchors.read")
def anchors_reset_feed(anchor_id: int):
    return jsonify(_json(service.reset_feed(get_session(), current(), anchor_id)))


@bp.get("/anchors/<int:anchor_id>/schedule")
@needs("anchors.read")
def anchors_schedule(anchor_id: int):
    start, end = bound("from", end=False, required=True), bound("to", end=True, required=True)
    rows = service.schedule(get_session(), current(), anchor_id, start, end)
    return jsonify([{**booking_json(b), "role": a.role} for b, a in rows])


@bp.get("/anchors/free")
@needs("bookings.write")
def anchors_free():
    args = request.args
    starts_at = p.query_value(args, "starts_at", p.instant, required=True)
    ends_at = p.query_value(args, "ends_at", p.instant, required=True)
    role = p.query_value(args, "role", p.string(20, choices=ANCHOR_ROLES)) or "host"
    tenant_id = p.query_value(args, "tenant_id", p.id_param)
    rows = service.free_anchors(get_session(), current(), starts_at, ends_at, role=role, tenant_id=tenant_id)
    return jsonify([_json(a) for a in rows])
