"""Operations: the health check (a bare status for anyone, details for admins) and
each user's own inbox of notifications."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from opsroom.api import parse as p
from opsroom.api.base import bp, current, needs, operation
from opsroom.api.schemas import ERROR, ref
from opsroom.db import get_engine, get_session
from opsroom.domain.statuses import NOTIFICATION_KINDS
from opsroom.services.operations import health as health_service
from opsroom.services.operations import notifications as notification_service
from opsroom.services.park import users
from opsroom.services.permissions import can
from opsroom.web.errors import error_response
from opsroom.web.serialize import instant

INBOX_QUERY = {
    "unread": p.F(p.flag),
    "limit": p.F(p.id_param, extra={"description": "more than 1000 reads as 1000"}),
}

_T = {"type": "string", "format": "date-time", "nullable": True}
HEALTH_SCHEMAS = {
    "Health": {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded"]},
        "database": {"type": "string", "enum": ["ok"]},
        "scheduler": {"type": "object", "properties": {
            "last_heartbeat": _T, "stale": {"type": "boolean"}, "node": {"type": "string", "nullable": True},
            "acting_since": _T,
            "jobs": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "last_run": _T, "last_error": {"type": "string", "nullable": True},
                "last_error_at": _T, "next_run": _T, "failing": {"type": "boolean"}, "overdue": {"type": "boolean"}}}}}},
        "emails": {"type": "object", "additionalProperties": {"type": "integer"}},
        "problems": {"type": "array", "items": {"type": "string"}}}},
}

NOTIFICATION_SCHEMAS = {
    "Notification": {"type": "object", "required": ["id", "kind", "title", "body", "booking_id", "created_at", "read_at"],
                     "properties": {
                         "id": {"type": "integer"}, "kind": {"type": "string", "enum": list(NOTIFICATION_KINDS)},
                         "title": {"type": "string"}, "body": {"type": "string"},
                         "booking_id": {"type": "integer", "nullable": True},
                         "created_at": {"type": "string", "format": "date-time"},
                         "read_at": {"type": "string", "format": "date-time", "nullable": True}}},
}

SCHEMAS = {**HEALTH_SCHEMAS, **NOTIFICATION_SCHEMAS}


def _unavailable():
    response = error_response(503, _l("The database cannot be reached."), code="unavailable")
    body = response.get_json()
    body["status"] = "unavailable"
    response.set_data(jsonify(body).get_data())
    return response


@bp.get("/health")
@operation("Health: a bare status without a token; with an admin token also the database, the scheduler's "
           "heartbeat and job records, and emails by state", security=[{}, {"bearer": []}], responses={
               "200": {"description": "The database answers (status \"degraded\" when the scheduler is stale or a "
                                      "job fails)", "content": {"application/json": {"schema": ref("Health")}}},
               "401": ERROR,
               "503": {"description": "The database cannot be reached", "content": {"application/json": {
                   "schema": ref("Error")}}}})
def health():
    if not health_service.database_reachable(get_engine()):
        return _unavailable()
    session = get_session()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = None
    if header:
        user = users.user_for_token(session, token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return error_response(401)
    report = health_service.report(session)
    body = {"status": report["status"]}
    if user is not None and can(user, "operations.admin"):
        sched = report["scheduler"]
        body.update({
            "database": "ok",
            "scheduler": {
                "last_heartbeat": instant(sched["last_heartbeat"]), "stale": sched["stale"], "node": sched["node"],
                "acting_since": instant(sched["acting_since"]),
                "jobs": [{"id": j["id"], "last_run": instant(j["last_run"]), "last_error": j["last_error"],
                          "last_error_at": instant(j["last_error_at"]), "next_run": instant(j["next_run"]),
                          "failing": j["failing"], "overdue": j["overdue"]} for j in sched["jobs"]],
            },
            "emails": report["emails"],
            "problems": report["problems"],
        })
    return jsonify(body)


def notification_json(n) -> dict:
    return {"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "booking_id": n.booking_id,
            "created_at": instant(n.created_at), "read_at": instant(n.read_at)}


@bp.get("/notifications")
@needs("notifications.own")
@operation("My notifications, newest first", query=INBOX_QUERY, errors=(401, 403, 422),
           answers={"type": "array", "items": ref("Notification")})
def list_notifications():
    q = p.query(request.args, INBOX_QUERY)
    limit = min(q["limit"], 1000) if q["limit"] else None
    rows = notification_service.list_notifications(get_session(), current(), unread_only=bool(q["unread"]),
                                                   limit=limit)
    return jsonify([notification_json(n) for n in rows])


@bp.post("/notifications/<int:notification_id>/read")
@needs("notifications.own")
@operation("Mark one of my notifications read (another user's is a 404)", errors=(401, 403, 404),
           answers=ref("Notification"))
def read_notification(notification_id: int):
    return jsonify(notification_json(notification_service.mark_read(get_session(), current(), notification_id)))


@bp.post("/notifications/read-all")
@needs("notifications.own")
@operation("Mark all my notifications read", errors=(401, 403))
def read_all_notifications():
    return jsonify({"updated": notification_service.mark_all_read(get_session(), current())})
