"""Plans (the month planner): start a run for a month, follow its progress,
accept its draft whole or in part, cancel a run (docs/planner.md)."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l

from opsroom.api import parse as p
from opsroom.api.base import body, bp, current, needs, operation
from opsroom.api.schemas import AT, AT_OR_NULL, I, S, ref
from opsroom.db import get_session
from opsroom.models import PLAN_STATUSES
from opsroom.services.planning import accept as accepting
from opsroom.services.planning import runs
from opsroom.services.planning.reasons import CODES, message
from opsroom.web.serialize import instant

def request_ids(v) -> list[int]:
    ids = _ids(v)
    if not ids:
        raise p.FieldError(_l("Choose at least one request."))
    return ids


_ids = p.int_list(1, p.MAX_INT, runs.MAX_REQUEST_IDS)
request_ids.schema = {**_ids.schema, "minItems": 1}

PLAN_SCHEMA = {
    "month": p.F(p.month, required=True),
    "request_ids": p.F(request_ids, nullable=True, default=None,
                       extra={"description": "the requests to plan; default: the month's pending requests"}),
    "time_limit_seconds": p.F(p.integer(1, runs.MAX_TIME_LIMIT), nullable=True, default=None,
                              extra={"description": f"default {runs.DEFAULT_TIME_LIMIT}"}),
}
ACCEPT_SCHEMA = {
    "request_ids": p.F(request_ids, nullable=True, default=None,
                       extra={"description": "default: every request placed in the draft"}),
}

_N = {"type": "number", "nullable": True}
_PLACE = {"type": "object", "required": ["room_id", "starts_at", "ends_at"],
          "properties": {"room_id": I, "starts_at": AT, "ends_at": AT}}
_BLOCKING = {"type": "object", "required": ["kind", "id"], "properties": {
    "kind": {"type": "string", "enum": ["request", "booking", "blackout", "anchor"]}, "id": I}}
SCHEMAS = {
    "PlanStarted": {"type": "object", "required": ["id", "status"], "properties": {
        "id": I, "status": {"type": "string", "enum": list(PLAN_STATUSES)}}},
    "PlanOut": {"type": "object", "required": ["id", "month", "status", "progress", "placed", "unplaced"],
                "properties": {
        "id": I, "month": S, "status": {"type": "string", "enum": list(PLAN_STATUSES)},
        "progress": {"type": "object", "required": ["placed", "bound", "gap"], "properties": {
            "placed": I, "bound": I, "gap": _N, "objective": I, "phase": S, "elapsed": _N}},
        "placed": {"type": "array", "items": {"type": "object", "required": [
            "request_id", "room_id", "starts_at", "ends_at"], "properties": {
            "request_id": I, "date": p.DATE_SCHEMA, "room_id": I, "starts_at": AT, "ends_at": AT,
            "pinned": {"type": "boolean"}}}},
        "unplaced": {"type": "array", "items": {"type": "object", "required": ["request_id", "date", "reason"],
                                                "properties": {
            "request_id": I, "date": p.DATE_SCHEMA,
            "reason": {"type": "object", "required": ["code", "message", "blocking"], "properties": {
                "code": {"type": "string", "enum": list(CODES)}, "message": S, "params": {"type": "object"},
                "blocking": {"type": "array", "items": _BLOCKING}}},
            "alternatives": {"type": "array", "items": _PLACE}}}},
        "accepted": {"type": "array", "items": I},
        "request_ids": {"type": "array", "items": I, "nullable": True},
        "time_limit_seconds": I, "error": S, "created_at": AT, "finished_at": AT_OR_NULL,
        "based_on_id": {"type": "integer", "nullable": True}}},
    "PlanAccepted": {"type": "object", "required": ["created", "conflicts"], "properties": {
        "created": I, "conflicts": {"type": "array", "items": {"type": "object", "required": [
            "request_id", "details"], "properties": {
            "request_id": I, "message": S, "details": {"type": "array", "items": {"type": "object"}}}}}}},
}


def plan_json(plan) -> dict:
    result = plan.result or {}
    return {
        "id": plan.id, "month": plan.month.strftime("%Y-%m"), "status": plan.status,
        "progress": {"placed": 0, "bound": 0, "gap": None, **(plan.progress or {})},
        "placed": [{k: x[k] for k in ("request_id", "date", "room_id", "starts_at", "ends_at", "pinned")}
                   for x in result.get("placed", [])],
        "unplaced": [{"request_id": u["request_id"], "date": u["date"],
                      "reason": {"code": u["code"], "message": message(u["code"], u["params"], u["blocking"]),
                                 "params": u["params"], "blocking": u["blocking"]},
                      "alternatives": u["alternatives"]} for u in result.get("unplaced", [])],
        "accepted": plan.accepted or [], "request_ids": plan.request_ids,
        "time_limit_seconds": plan.time_limit_seconds, "error": plan.error, "created_at": instant(plan.created_at),
        "finished_at": instant(plan.finished_at), "based_on_id": plan.based_on_id,
    }


def submit(plan_id: int) -> None:
    """Hand the run to the process's planner (a worker thread), after the commit."""
    current_app.extensions["opsroom.planner"].submit(plan_id)


@bp.post("/plans")
@needs("plans.write")
@operation("Start the month planner over the month's pending requests (or the ones given); it runs outside "
           "the request: follow it with GET /plans/{id}", body=("PlanCreate", PLAN_SCHEMA), ok=202,
           errors=(422,), answers=ref("PlanStarted"))
def plans_create():
    data = p.parse(PLAN_SCHEMA, body())
    plan = runs.start(get_session(), current(), data["month"], request_ids=data["request_ids"],
                      time_limit_seconds=data["time_limit_seconds"])
    submit(plan.id)
    return jsonify({"id": plan.id, "status": plan.status}), 202


@bp.get("/plans/<int:plan_id>")
@needs("plans.read")
@operation("A plan: its progress while it runs (placed, the solver's bound, the gap), then its draft: "
           "placed requests and the unplaced ones with the reason", errors=(404,), answers=ref("PlanOut"))
def plans_show(plan_id: int):
    return jsonify(plan_json(runs.get(get_session(), current(), plan_id)))


@bp.post("/plans/<int:plan_id>/accept")
@needs("plans.write")
@operation("Accept the draft, whole or the requests given: ordinary bookings (a series where a request recurs); "
           "a clash with a booking made meanwhile is reported in `conflicts`, never double-booked",
           body=("PlanAccept", ACCEPT_SCHEMA), errors=(404, 409, 422), answers=ref("PlanAccepted"),
           requestBody={"required": False, "content": {"application/json": {"schema": ref("PlanAccept")}}})
def plans_accept(plan_id: int):
    data = p.parse(ACCEPT_SCHEMA, body() if request.content_length else {})
    return jsonify(accepting.accept(get_session(), current(), plan_id, data["request_ids"]))


@bp.post("/plans/<int:plan_id>/cancel")
@needs("plans.write")
@operation("Stop a running plan (the best draft so far is kept)", errors=(404, 409), answers=ref("PlanStarted"))
def plans_cancel(plan_id: int):
    plan = runs.cancel(get_session(), current(), plan_id)
    return jsonify({"id": plan.id, "status": plan.status})
