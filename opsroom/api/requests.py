"""Requests (预约申请) and the waitlist (候补): a tenant asks for time, a coordinator
approves (ordinary bookings) or rejects it, or it waits and is offered freed time."""
from __future__ import annotations

from flask import jsonify, request

from opsroom.api import parse as p
from opsroom.api.base import body, bp, current, needs, operation
from opsroom.api.bookings import ANCHOR_ENTRY, RECURRENCE_SCHEMA
from opsroom.api.schemas import AT, AT_OR_NULL, I, S, list_of, ref
from opsroom.db import get_session
from opsroom.domain.statuses import ANCHOR_ROLES, REQUEST_STATUSES
from opsroom.services.requests import core, flow
from opsroom.services.requests import waitlist  # noqa: F401  (the waitlist listens for freed time)
from opsroom.web.i18n import park_tz
from opsroom.web.serialize import instant


REQUEST_SCHEMA = {
    "tenant_id": p.F(p.integer(1), nullable=True, default=None,
                     extra={"description": "staff: the tenant asked for; a tenant's account: its own (implied)"}),
    "room_id": p.F(p.integer(1), nullable=True, default=None),
    "room_kind": p.F(p.string(50), nullable=True, default=None),
    "zone": p.F(p.string(50), nullable=True, default=None),
    "date": p.F(p.day, required=True),
    "recurrence": p.F(p.obj(RECURRENCE_SCHEMA), nullable=True, default=None),
    "window_start": p.F(p.time_of_day, required=True),
    "window_end": p.F(p.time_of_day, required=True),
    "minutes": p.F(p.integer(1, 24 * 60), nullable=True, default=None,
                   extra={"description": "default: the whole window"}),
    "anchors": p.F(p.obj_list(ANCHOR_ENTRY, 10), default=list),
    "note": p.F(p.string(2000), default=""),
}
APPROVE_SCHEMA = {
    "room_id": p.F(p.integer(1), nullable=True, default=None),
    "starts_at": p.F(p.instant, nullable=True, default=None),
    "override_reason": p.F(p.string(500), nullable=True, default=None,
                           extra={"description": "staff: keep the decision although it passes the tenant's "
                                                 "prime-time quota or a higher priority (audited)"}),
}
REJECT_SCHEMA = {"reason": p.F(p.string(500, min_len=1), required=True)}
REQUEST_FILTERS = {
    "status": p.F(p.string(20, choices=REQUEST_STATUSES)), "tenant_id": p.F(p.id_param), "month": p.F(p.month),
}

_FIT = {"type": "object", "required": ["room_id", "starts_at", "ends_at"],
        "properties": {"room_id": I, "code": S, "starts_at": AT, "ends_at": AT}}
_NULL_S = {"type": "string", "nullable": True}
SCHEMAS = {
    "RequestOut": {"type": "object", "required": [
        "id", "tenant_id", "status", "room_id", "room_kind", "zone", "date", "recurrence", "window_start",
        "window_end", "minutes", "anchors", "note", "created_at", "offer", "booking_ids"], "properties": {
        "id": I, "tenant_id": I, "status": {"type": "string", "enum": list(REQUEST_STATUSES)},
        "room_id": {"type": "integer", "nullable": True}, "room_kind": _NULL_S, "zone": _NULL_S,
        "date": p.DATE_SCHEMA, "recurrence": {"type": "object", "nullable": True},
        "window_start": S, "window_end": S, "minutes": I,
        "anchors": {"type": "array", "items": {"type": "object", "properties": {
            "anchor_id": I, "role": {"type": "string", "enum": list(ANCHOR_ROLES)}}}},
        "note": S, "created_at": AT, "priority": I,
        "fits": {"type": "array", "items": _FIT},
        "offer": {"type": "object", "nullable": True, "properties": {"booking_id": I, "expires_at": AT}},
        "booking_ids": {"type": "array", "items": I},
        "decided_at": AT_OR_NULL, "reason": S}},
    "RequestDecision": {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "enum": list(REQUEST_STATUSES)}, "booking_ids": {"type": "array", "items": I}}},
}


def fit_json(place) -> dict:
    tz = park_tz()
    return {"room_id": place.room.id, "code": place.room.code, "starts_at": instant(place.slot.start.astimezone(tz)),
            "ends_at": instant(place.slot.end.astimezone(tz))}


def request_json(req, fits=None) -> dict:
    out = {
        "id": req.id, "tenant_id": req.tenant_id, "status": req.status, "room_id": req.room_id,
        "room_kind": req.room_kind, "zone": req.zone, "date": req.date.isoformat(), "recurrence": req.recurrence,
        "window_start": req.window_start.strftime("%H:%M"), "window_end": req.window_end.strftime("%H:%M"),
        "minutes": req.minutes, "anchors": req.anchors or [], "note": req.note, "created_at": instant(req.created_at),
        "priority": req.tenant.priority,
        "offer": ({"booking_id": req.offer_booking_id, "expires_at": instant(req.offer_expires_at)}
                  if req.status == "offered" else None),
        "booking_ids": [b.id for b in req.bookings], "decided_at": instant(req.decided_at), "reason": req.reason,
    }
    if fits is not None:
        out["fits"] = [fit_json(f) for f in fits]
    return out


@bp.post("/requests")
@needs("requests.write")
@operation("Ask for time (预约申请): a room, or any room of a kind/zone; a date or a recurrence; a window and a "
           "duration. Checked against the rules at once; `fits` lists places that fit now",
           body=("RequestCreate", REQUEST_SCHEMA), ok=201, errors=(422,), answers=ref("RequestOut"))
def requests_create():
    data = p.parse(REQUEST_SCHEMA, body())
    req, fits = flow.create_request(get_session(), current(), data)
    return jsonify(request_json(req, fits)), 201


@bp.get("/requests")
@needs("requests.read")
@operation("List requests, oldest first (a tenant's account: its own)", query=REQUEST_FILTERS, errors=(422,),
           answers=list_of("RequestOut"))
def requests_index():
    q = p.query(request.args, REQUEST_FILTERS)
    rows = core.list_requests(get_session(), current(), status=q["status"], tenant_id=q["tenant_id"],
                              month=q["month"])
    return jsonify([request_json(r) for r in rows])


@bp.get("/requests/<int:request_id>")
@needs("requests.read")
@operation("Show a request (an open one with what fits now)", errors=(404,), answers=ref("RequestOut"))
def requests_show(request_id: int):
    session = get_session()
    req = core.get_request(session, current(), request_id)
    fits = core.fits_now(session, [req])[req.id] if req.status in core.FITS_SHOWN_FOR else None
    return jsonify(request_json(req, fits))


@bp.post("/requests/<int:request_id>/approve")
@needs("requests.decide")
@operation("Approve: book the place given, else the first that fits (a clash is the bookings' 409 with "
           "alternatives)", body=("RequestApprove", APPROVE_SCHEMA), errors=(404, 409, 422),
           answers=ref("RequestDecision"),
           requestBody={"required": False, "content": {"application/json": {"schema": ref("RequestApprove")}}})
def requests_approve(request_id: int):
    data = p.parse(APPROVE_SCHEMA, body() if request.content_length else {})
    bookings = flow.approve(get_session(), current(), request_id, **data)
    return jsonify({"status": "approved", "booking_ids": [b.id for b in bookings]})


@bp.post("/requests/<int:request_id>/reject")
@needs("requests.decide")
@operation("Reject, with a reason", body=("RequestReject", REJECT_SCHEMA), errors=(404, 422),
           answers=ref("RequestDecision"))
def requests_reject(request_id: int):
    data = p.parse(REJECT_SCHEMA, body())
    req = flow.reject(get_session(), current(), request_id, reason=data["reason"])
    return jsonify({"status": req.status})


@bp.post("/requests/<int:request_id>/withdraw")
@needs("requests.write")
@operation("Withdraw an open request (an offered hold is released)", errors=(404, 422),
           answers=ref("RequestDecision"))
def requests_withdraw(request_id: int):
    req = flow.withdraw(get_session(), current(), request_id)
    return jsonify({"status": req.status})


@bp.post("/requests/<int:request_id>/wait")
@needs("requests.write")
@operation("Put a pending request on the waitlist (候补)", errors=(404, 422), answers=ref("RequestDecision"))
def requests_wait(request_id: int):
    req = flow.wait(get_session(), current(), request_id)
    return jsonify({"status": req.status})


@bp.post("/requests/<int:request_id>/accept")
@needs("requests.write")
@operation("Accept an offered slot before its deadline (the hold is confirmed)", errors=(404, 409, 422),
           answers=ref("RequestDecision"))
def requests_accept(request_id: int):
    bookings = flow.accept(get_session(), current(), request_id)
    return jsonify({"status": "approved", "booking_ids": [b.id for b in bookings]})
