"""Notifications API: each user's own inbox."""
from __future__ import annotations

from flask import jsonify, request

from opsroom.api.base import bp, current, needs
from opsroom.api import parse as p
from opsroom.api.openapi import _ID, PATHS, SCHEMAS, _op
from opsroom.web.serialize import instant
from opsroom.db import get_session
from opsroom.domain.statuses import NOTIFICATION_KINDS
from opsroom.services.operations import notifications as service


def notification_json(n) -> dict:
    return {"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "booking_id": n.booking_id,
            "created_at": instant(n.created_at), "read_at": instant(n.read_at)}


def _flag(v) -> bool:
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise p.FieldError("Expected true or false.")


@bp.get("/notifications")
@needs("notifications.own")
def list_notifications():
    unread = p.query_value(request.args, "unread", _flag) or False
    limit = p.query_value(request.args, "limit", p.id_param)
    limit = min(limit, 1000) if limit else None
    rows = service.list_notifications(get_session(), current(), unread_only=unread, limit=limit)
    return jsonify([notification_json(n) for n in rows])


@bp.post("/notifications/<int:notification_id>/read")
@needs("notifications.own")
def read_notification(notification_id: int):
    return jsonify(notification_json(service.mark_read(get_session(), current(), notification_id)))


@bp.post("/notifications/read-all")
@needs("notifications.own")
def read_all_notifications():
    return jsonify({"updated": service.mark_all_read(get_session(), current())})


SCHEMAS.update({
    "Notification": {"type": "object", "required": ["id", "kind", "title", "body", "booking_id", "created_at", "read_at"],
                     "properties": {
                         "id": {"type": "integer"}, "kind": {"type": "string", "enum": list(NOTIFICATION_KINDS)},
                         "title": {"type": "string"}, "body": {"type": "string"},
                         "booking_id": {"type": "integer", "nullable": True},
                         "created_at": {"type": "string", "format": "date-time"},
                         "read_at": {"type": "string", "format": "date-time", "nullable": True}}},
})
_list = _op("My notifications, newest first", errors=(401, 403, 422), params=[
    {"name": "unread", "in": "query", "required": False, "allowEmptyValue": True, "schema": {"type": "string", "enum": ["true", "false", "1", "0"]}},
    {"name": "limit", "in": "query", "required": False, "allowEmptyValue": True, "schema": {
        "type": "integer", "minimum": 1, "maximum": 2**31 - 1, "description": "more than 1000 reads as 1000"}}])
_list["responses"]["200"]["content"] = {"application/json": {"schema": {
    "type": "array", "items": {"$ref": "#/components/schemas/Notification"}}}}
_read = _op("Mark one of my notifications read (another user's is a 404)", errors=(401, 403, 404))
_read["responses"]["200"]["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Notification"}}}
PATHS.update({
    "/notifications": {"get": _list},
    "/notifications/{id}/read": {"parameters": _ID, "post": _read},
    "/notifications/read-all": {"post": _op("Mark all my notifications read", errors=(401, 403))},
})
