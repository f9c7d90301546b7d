"""Integrations: chat-group robots and signed webhooks (admin; a tenant's user
for its own robots), their deliveries, and the 抖店 order push (no bearer token:
signed by 抖店's md5 `event-sign`)."""
from __future__ import annotations

import re
from functools import wraps

from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l

from opsroom.api import parse as p
from opsroom.api.base import body, bp, current, operation
from opsroom.api.schemas import AT, AT_OR_NULL, B, ERROR, I, S, list_of, ref
from opsroom.db import get_session
from opsroom.domain.integrations.doudian import MAX_BODY_BYTES, SUCCESS_RESPONSE, DoudianError, verify_and_parse
from opsroom.domain.integrations.doudian import MAX_LENGTHS as DOUDIAN_LENGTHS
from opsroom.domain.integrations.messages import EVENT_TYPES
from opsroom.domain.integrations.robots import FORMATS, ROBOT_KINDS
from opsroom.models.integrations import DELIVERY_STATES
from opsroom.services.errors import Forbidden
from opsroom.services.sales import push as push_service
from opsroom.services.integrations import targets as target_service
from opsroom.services.permissions import can
from opsroom.web.errors import error_response
from opsroom.web.serialize import instant

MENTION = r"^(@all|\+?[0-9]{5,20})$"


def _events(v):
    if not isinstance(v, list) or not 0 < len(v) <= len(EVENT_TYPES) * 2:
        raise p.FieldError(_l("Expected a list of events."))
    for item in v:
        if item not in EVENT_TYPES:
            raise p.FieldError(_l("Must be one of: %(choices)s.", choices=", ".join(EVENT_TYPES)))
    return list(dict.fromkeys(v))


_events.schema = {"type": "array", "minItems": 1, "maxItems": len(EVENT_TYPES) * 2,
                  "items": {"type": "string", "enum": list(EVENT_TYPES)}}


def _mentions(v):
    if not isinstance(v, list) or len(v) > 20 or not all(isinstance(x, str) and re.match(MENTION, x) for x in v):
        raise p.FieldError(_l("Expected a list of phone numbers or @all."))
    return v


_mentions.schema = {"type": "array", "maxItems": 20, "items": {"type": "string", "pattern": MENTION}}
_URL = {"type": "string", "minLength": 1, "maxLength": 500, "pattern": "^https?://[!-~]+$",
        "description": "http(s) URL; a tenant's robot: https on the platform's own robot host"}


def _url(v):
    if not isinstance(v, str) or not v.strip() or len(v) > 500:
        raise p.FieldError(_l("Expected an http(s) address."))
    return v.strip()


_url.schema = _URL

ROBOT_SCHEMA = {
    "kind": p.F(p.string(10, choices=ROBOT_KINDS), required=True),
    "url": p.F(_url, required=True),
    "secret": p.F(p.string(200), nullable=True, default=""),
    "events": p.F(_events, required=True),
    "tenant_id": p.F(p.integer(1), nullable=True, default=None,
                     extra={"description": "an admin's robot for a tenant's group; a tenant user's is its own"}),
    "name": p.F(p.string(100), default=""),
    "format": p.F(p.string(10, choices=FORMATS), default="markdown"),
    "mentions": p.F(_mentions, default=list),
}
WEBHOOK_SCHEMA = {
    "url": p.F(_url, required=True),
    "secret": p.F(p.string(200, min_len=1), required=True,
                  extra={"description": "the HMAC key; whsec_<base64> is that key's bytes"}),
    "events": p.F(_events, required=True),
}
DELIVERY_QUERY = {"failed": p.F(p.flag), "limit": p.F(p.id_param, extra={"description": "more than 500 reads as 500"})}

_EVENTS_OUT = {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)}}
_DOUDIAN_MESSAGE = {"type": "object", "required": ["tag", "msg_id"], "properties": {
    "tag": {"type": "string", "maxLength": DOUDIAN_LENGTHS["tag"],
            "description": "\"0\" verifies the address; 100/101/106/206 … order messages"},
    "msg_id": {"type": "string", "maxLength": DOUDIAN_LENGTHS["msg_id"]},
    "data": {"type": "string", "description": "the message's JSON, as a string; longest texts in it: " + ", ".join(
        f"{k} {n}" for k, n in DOUDIAN_LENGTHS.items() if k not in ("tag", "msg_id"))}}}
SCHEMAS = {
    "RobotOut": {"type": "object", "required": ["id", "kind", "url", "events"], "properties": {
        "id": I, "kind": {"type": "string", "enum": list(ROBOT_KINDS)}, "name": S, "url": S, "has_secret": B,
        "events": _EVENTS_OUT, "format": {"type": "string", "enum": list(FORMATS)},
        "mentions": {"type": "array", "items": S}, "tenant_id": {"type": "integer", "nullable": True},
        "active": B, "paused_until": AT_OR_NULL, "created_at": AT}},
    "WebhookOut": {"type": "object", "required": ["id", "url", "events"], "properties": {
        "id": I, "url": S, "events": _EVENTS_OUT, "active": B, "created_at": AT}},
    "DeliveryOut": {"type": "object", "required": ["id", "msg_id", "event", "state"], "properties": {
        "id": I, "msg_id": {"type": "string", "description": "the webhook-id of every attempt"},
        "event": {"type": "object", "properties": {"id": I, "type": S, "timestamp": AT, "data": {"type": "object"}}},
        "robot_id": {"type": "integer", "nullable": True}, "webhook_id": {"type": "integer", "nullable": True},
        "state": {"type": "string", "enum": list(DELIVERY_STATES)}, "attempts": I,
        "next_at": AT_OR_NULL, "last_attempt_at": AT_OR_NULL, "sent_at": AT_OR_NULL,
        "last_status": {"type": "integer", "nullable": True}, "last_response": S, "last_error": S,
        "merged": {"type": "integer", "description": "notices merged into the message that carried this one"}}},
    "DoudianAnswer": {"type": "object", "required": ["code", "msg"], "properties": {
        "code": {"type": "integer", "enum": [0]}, "msg": {"type": "string", "enum": ["success"]}}},
    "DoudianPush": {"oneOf": [{"type": "array", "items": _DOUDIAN_MESSAGE}, _DOUDIAN_MESSAGE]},
}


def robot_json(robot) -> dict:
    return {"id": robot.id, "kind": robot.kind, "name": robot.name, "url": robot.url, "has_secret": bool(robot.secret),
            "events": list(robot.events or []), "format": robot.format, "mentions": list(robot.mentions or []),
            "tenant_id": robot.tenant_id, "active": robot.active, "paused_until": instant(robot.paused_until),
            "created_at": instant(robot.created_at)}


def webhook_json(hook) -> dict:
    return {"id": hook.id, "url": hook.url, "events": list(hook.events or []), "active": hook.active,
            "created_at": instant(hook.created_at)}


def delivery_json(d) -> dict:
    return {"id": d.id, "msg_id": d.msg_id,
            "event": {"id": d.event.id, "type": d.event.type, "timestamp": instant(d.event.occurred_at),
                      "data": d.event.data},
            "robot_id": d.robot_id, "webhook_id": d.webhook_id, "state": d.state, "attempts": d.attempts,
            "next_at": instant(d.next_at), "last_attempt_at": instant(d.last_attempt_at),
            "sent_at": instant(d.sent_at), "last_status": d.last_status, "last_response": d.last_response,
            "last_error": d.last_error, "merged": d.merged}


def robots_allowed(view):
    """Admins, and users whose role may manage their own tenant's robots: others 403 before the body is read."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = current()
        if not (can(user, "integrations.admin") or can(user, "robots.own")):
            raise Forbidden(_l("Your role may not do this."))
        return view(*args, **kwargs)

    return wrapped


def admin_only(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not can(current(), "integrations.admin"):
            raise Forbidden(_l("Your role may not do this."))
        return view(*args, **kwargs)

    return wrapped


def _limit() -> tuple[bool, int]:
    q = p.query(request.args, DELIVERY_QUERY)
    return bool(q["failed"]), min(q["limit"] or 100, 500)


# --- robots ----------------------------------------------------------------------


@bp.get("/robots")
@robots_allowed
@operation("List group robots (a tenant's user: its own)", errors=(), answers=list_of("RobotOut"))
def robots_index():
    return jsonify([robot_json(r) for r in target_service.list_robots(get_session(), current())])


@bp.post("/robots")
@robots_allowed
@operation("Add a group robot (WeCom, DingTalk, Feishu) and the events it is told", body=("RobotIn", ROBOT_SCHEMA),
           ok=201, errors=(422,), answers=ref("RobotOut"))
def robots_create():
    data = p.parse(ROBOT_SCHEMA, body())
    return jsonify(robot_json(target_service.create_robot(get_session(), current(), data))), 201


@bp.delete("/robots/<int:robot_id>")
@robots_allowed
@operation("Remove a robot (its waiting messages are dropped with it)", ok=204, errors=(404,),
           responses={"204": {"description": "Removed"}, "404": ERROR})
def robots_delete(robot_id: int):
    target_service.delete_robot(get_session(), current(), robot_id)
    return "", 204


@bp.post("/robots/<int:robot_id>/test")
@robots_allowed
@operation("Send a test message now (within the robot's rate limit); the delivery with the robot's answer",
           errors=(404,), answers=ref("DeliveryOut"))
def robots_test(robot_id: int):
    return jsonify(delivery_json(target_service.test_robot(get_session(), current(), robot_id)))


@bp.get("/robots/<int:robot_id>/deliveries")
@robots_allowed
@operation("A robot's deliveries, newest first", query=DELIVERY_QUERY, errors=(404, 422),
           answers=list_of("DeliveryOut"))
def robots_deliveries(robot_id: int):
    failed, limit = _limit()
    rows = target_service.deliveries(get_session(), current(), robot_id=robot_id, failed_only=failed, limit=limit)
    return jsonify([delivery_json(d) for d in rows])


# --- webhooks --------------------------------------------------------------------


@bp.get("/webhooks")
@admin_only
@operation("List webhooks", errors=(), answers=list_of("WebhookOut"))
def webhooks_index():
    return jsonify([webhook_json(w) for w in target_service.list_webhooks(get_session(), current())])


@bp.post("/webhooks")
@admin_only
@operation("Add a webhook: events signed per Standard Webhooks", body=("WebhookIn", WEBHOOK_SCHEMA), ok=201,
           errors=(422,), answers=ref("WebhookOut"))
def webhooks_create():
    data = p.parse(WEBHOOK_SCHEMA, body())
    return jsonify(webhook_json(target_service.create_webhook(get_session(), current(), data))), 201


@bp.delete("/webhooks/<int:webhook_id>")
@admin_only
@operation("Remove a webhook", ok=204, errors=(404,), responses={"204": {"description": "Removed"}, "404": ERROR})
def webhooks_delete(webhook_id: int):
    target_service.delete_webhook(get_session(), current(), webhook_id)
    return "", 204


@bp.get("/webhooks/<int:webhook_id>/deliveries")
@admin_only
@operation("The delivery log: each event, its attempts and the receiver's last answer, newest first",
           query=DELIVERY_QUERY, errors=(404, 422), answers=list_of("DeliveryOut"))
def webhooks_deliveries(webhook_id: int):
    failed, limit = _limit()
    rows = target_service.deliveries(get_session(), current(), webhook_id=webhook_id, failed_only=failed, limit=limit)
    return jsonify([delivery_json(d) for d in rows])


@bp.post("/webhooks/<int:webhook_id>/test")
@admin_only
@operation("Send a signed webhook.test event now; the delivery with the receiver's answer", errors=(404,),
           answers=ref("DeliveryOut"))
def webhooks_test(webhook_id: int):
    return jsonify(delivery_json(target_service.test_webhook(get_session(), current(), webhook_id)))


@bp.post("/deliveries/<int:delivery_id>/resend")
@robots_allowed
@operation("Send again: a failed or sent delivery is due now, with the same webhook-id", errors=(404,),
           answers=ref("DeliveryOut"))
def deliveries_resend(delivery_id: int):
    return jsonify(delivery_json(target_service.resend(get_session(), current(), delivery_id)))


# --- the 抖店 push -------------------------------------------------------------------

_HEADERS = [
    {"name": "app-id", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "the app key (OPSROOM_DOUDIAN_APP_KEY)"},
    {"name": "event-sign", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "hex md5(app_key + raw body + app_secret), any case"},
]


@bp.post("/push/doudian")
@operation("The 抖店 message push: verified, stored once per msg_id, applied to orders", security=[],
           parameters=_HEADERS,
           requestBody={"required": True, "content": {"application/json": {"schema": ref("DoudianPush")}}},
           responses={"200": {"description": "Accepted (the verification message too)",
                              "content": {"application/json": {"schema": ref("DoudianAnswer")}}},
                      "400": ERROR, "401": ERROR, "409": ERROR, "413": ERROR})
def push_doudian():
    settings = current_app.extensions["opsroom.settings"]
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY_BYTES:
        return error_response(413)
    try:
        events = verify_and_parse(raw, request.headers, app_key=settings.doudian_app_key,
                                  app_secret=settings.doudian_app_secret)
    except DoudianError as exc:
        if exc.status == 401:
            return error_response(401)
        return error_response(400, str(exc))
    push_service.receive(get_session(), events)
    return jsonify(SUCCESS_RESPONSE)
