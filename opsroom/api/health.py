"""Health: a bare status for anyone (load balancers, monitors); details for admins."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from opsroom.api.base import PUBLIC_ENDPOINTS, bp
from opsroom.web.errors import error_response
from opsroom.api.openapi import PATHS, SCHEMAS
from opsroom.web.serialize import instant
from opsroom.db import get_engine, get_session
from opsroom.services.permissions import can
from opsroom.services.operations import health as service
from opsroom.services.park import users

PUBLIC_ENDPOINTS.add("api.health")


def _unavailable():
    response = error_response(503, _l("The database cannot be reached."), code="unavailable")
    body = response.get_json()
    body["status"] = "unavailable"
    response.set_data(jsonify(body).get_data())
    return response


@bp.get("/health")
def health():
    if not service.database_reachable(get_engine()):
        return _unavailable()
    session = get_session()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = None
    if header:
        user = users.user_for_token(session, token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return error_response(401)
    report = service.report(session)
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


_T = {"type": "string", "format": "date-time", "nullable": True}
SCHEMAS.update({
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
})
PATHS.update({
    "/health": {"get": {
        "summary": "Health: a bare status without a token; with an admin token also the database, the scheduler's "
                   "heartbeat and job records, and emails by state",
        "security": [{}, {"bearer": []}],
        "responses": {
            "200": {"description": "The database answers (status \"degraded\" when the scheduler is stale or a job fails)",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
            "401": {"$ref": "#/components/responses/Error"},
            "503": {"description": "The database cannot be reached", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}},
        }}},
})
