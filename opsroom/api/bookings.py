"""Bookings (场次): book, list, move, confirm, cancel, check in; their anchors and lineup."""
from __future__ import annotations

from flask import jsonify, request

from opsroom.api import parse as p
from opsroom.api.base import body, bp, current, needs, operation
from opsroom.api.schemas import AT, AT_OR_NULL, I, S, list_of, ref
from opsroom.db import get_session
from opsroom.domain import hours
from opsroom.domain.numbers import MAX_STOCK
from opsroom.domain.statuses import ANCHOR_ROLES, BOOKING_STATUSES
from opsroom.services import audit
from opsroom.services.bookings.core import get_booking, list_bookings
from opsroom.services.bookings.create import create_booking
from opsroom.services.bookings.lifecycle import cancel_booking, check_in, confirm_booking
from opsroom.services.bookings.move import update_booking
from opsroom.services.people_goods import assignments
from opsroom.services.sales.forecast import forecast_json, forecast_of_booking
from opsroom.web.i18n import park_tz
from opsroom.web.serialize import booking_json, instant

RECURRENCE_SCHEMA = {
    "freq": p.F(p.string(10, choices=("daily", "weekly")), required=True),
    "interval": p.F(p.integer(1, 52), default=1),
    "weekdays": p.F(p.int_list(0, 6, max_items=7), nullable=True),
    "until": p.F(p.day, nullable=True),
    "count": p.F(p.integer(1, 10000), nullable=True),
}

ANCHOR_ENTRY = {
    "anchor_id": p.F(p.integer(1), required=True),
    "role": p.F(p.string(20, choices=ANCHOR_ROLES), default="host"),
}

LINEUP_ENTRY = {
    "product_id": p.F(p.integer(1), required=True),
    "planned_start": p.F(p.instant, nullable=True),
    "planned_end": p.F(p.instant, nullable=True),
    "planned_quantity": p.F(p.integer(0, MAX_STOCK), nullable=True),
}

BOOKING_SCHEMA = {
    "room_id": p.F(p.integer(1), required=True),
    "tenant_id": p.F(p.integer(1), required=True),
    "starts_at": p.F(p.instant, required=True),
    "ends_at": p.F(p.instant, required=True),
    "title": p.F(p.string(200), default=""),
    "status": p.F(p.string(10, choices=("hold", "confirmed")), default="confirmed"),
    "recurrence": p.F(p.obj(RECURRENCE_SCHEMA), nullable=True),
    "on_conflict": p.F(p.string(10, choices=("reject", "skip")), default="reject"),
    "anchors": p.F(p.obj_list(ANCHOR_ENTRY, 10), default=list),
    "lineup": p.F(p.obj_list(LINEUP_ENTRY, 200), default=list),
}

COPY_SCHEMA = {
    "target_ids": p.F(p.int_list(1, 2**31, max_items=100), required=True),
    "anchors": p.F(p.boolean, default=True),
    "lineup": p.F(p.boolean, default=True),
}

PATCH_SCHEMA = {
    "room_id": p.F(p.integer(1)),
    "starts_at": p.F(p.instant),
    "ends_at": p.F(p.instant),
    "title": p.F(p.string(200)),
}

CANCEL_SCHEMA = {
    "reason": p.F(p.string(200), default=""),
    "scope": p.F(p.string(10, choices=("one", "following")), default="one"),
}

BOOKING_FILTERS = {
    "from": p.F(p.bound), "to": p.F(p.bound), "room_id": p.F(p.id_param), "tenant_id": p.F(p.id_param),
    "status": p.F(p.string(20, choices=BOOKING_STATUSES)),
}

ANCHOR_ENTRIES = {"type": "array", "maxItems": 10, "items": p.json_schema(ANCHOR_ENTRY)}
LINEUP_ENTRIES = {"type": "array", "maxItems": 200, "items": p.json_schema(LINEUP_ENTRY)}

SCHEMAS = {
    "BookingOut": {"type": "object", "required": ["id", "room_id", "tenant_id", "starts_at", "ends_at", "status"],
                   "properties": {
        "id": I, "room_id": I, "tenant_id": I, "title": S, "starts_at": AT, "ends_at": AT,
        "status": {"type": "string", "enum": list(BOOKING_STATUSES)}, "hold_expires_at": AT_OR_NULL,
        "series_id": {"type": "integer", "nullable": True},
        "anchors": {"type": "array", "items": {"type": "object", "properties": {"anchor_id": I, "name": S, "role": S}}},
        "lineup": {"type": "array", "items": {"type": "object", "properties": {
            "product_id": I, "sku": S, "name": S, "position": I, "planned_start": AT_OR_NULL, "planned_end": AT_OR_NULL,
            "planned_quantity": {"type": "integer", "nullable": True}}}},
        "checked_in_at": AT_OR_NULL, "created_at": AT_OR_NULL,
        # A created or fetched booking (not a listed one): null for a role that may not read forecasts.
        "forecast": {"nullable": True, "allOf": [ref("Forecast")]}}},
}


def range_bound(value, *, end: bool):
    """A bound as parsed by `p.bound`: a park-local day reads as its start (or, as
    the end of a range, its end), an instant as itself."""
    if value is None or hasattr(value, "hour"):
        return value
    window = hours.local_day(value, park_tz())
    return window.end if end else window.start


def with_forecast(booking) -> dict:
    """A booking as created or fetched: its JSON with its `forecast` (docs/api.md, Forecast)."""
    result = forecast_of_booking(get_session(), current(), booking)
    return {**booking_json(booking), "forecast": forecast_json(result) if result else None}


@bp.post("/bookings")
@needs("bookings.write")
@operation("Book a room, once or recurring (one booking, or {bookings, skipped, series_id} for a series)",
           body=("BookingCreate", BOOKING_SCHEMA), ok=201, errors=(404, 409, 422), answers={"oneOf": [
               ref("BookingOut"), {"type": "object", "required": ["bookings", "skipped", "series_id"], "properties": {
                   "bookings": list_of("BookingOut"), "skipped": {"type": "array", "items": {"type": "object"}},
                   "series_id": {"type": "integer", "nullable": True}}}]})
def bookings_create():
    data = p.parse(BOOKING_SCHEMA, body())
    result = create_booking(get_session(), current(), data)
    if data.get("recurrence"):
        return jsonify({"bookings": [booking_json(b) for b in result.bookings], "skipped": result.skipped,
                        "series_id": result.series.id if result.series else None}), 201
    return jsonify(with_forecast(result.bookings[0])), 201


@bp.get("/bookings")
@needs("bookings.read")
@operation("List bookings (an anchor: only their own sessions); from/to: a park-local date or an instant",
           query=BOOKING_FILTERS, errors=(422,), answers=list_of("BookingOut"))
def bookings_index():
    q = p.query(request.args, BOOKING_FILTERS)
    rows = list_bookings(
        get_session(), current(), start=range_bound(q["from"], end=False), end=range_bound(q["to"], end=True),
        room_id=q["room_id"], tenant_id=q["tenant_id"], status=q["status"],
    )
    return jsonify([booking_json(b) for b in rows])


@bp.get("/bookings/<int:booking_id>")
@needs("bookings.read")
@operation("Show a booking", errors=(404,), answers=ref("BookingOut"))
def bookings_show(booking_id: int):
    return jsonify(with_forecast(get_booking(get_session(), current(), booking_id)))


@bp.patch("/bookings/<int:booking_id>")
@needs("bookings.write")
@operation("Move, resize, retitle", body=("BookingPatch", PATCH_SCHEMA), errors=(404, 409, 422),
           answers=ref("BookingOut"))
def bookings_update(booking_id: int):
    data = p.parse(PATCH_SCHEMA, body(), partial=True)
    return jsonify(booking_json(update_booking(get_session(), current(), booking_id, data)))


@bp.post("/bookings/<int:booking_id>/confirm")
@needs("bookings.write")
@operation("Confirm a hold", errors=(404, 409, 422), answers=ref("BookingOut"))
def bookings_confirm(booking_id: int):
    return jsonify(booking_json(confirm_booking(get_session(), current(), booking_id)))


@bp.post("/bookings/<int:booking_id>/cancel")
@needs("bookings.write")
@operation("Cancel one or this-and-following (the body may be left out)", body=("Cancel", CANCEL_SCHEMA),
           errors=(404, 409, 422), answers={"allOf": [ref("BookingOut"), {"type": "object", "properties": {
               "cancelled_ids": {"type": "array", "items": {"type": "integer"}}}}]},
           requestBody={"required": False, "content": {"application/json": {"schema": ref("Cancel")}}})
def bookings_cancel(booking_id: int):
    data = p.parse(CANCEL_SCHEMA, body() if request.content_length else {})
    rows = cancel_booking(get_session(), current(), booking_id, **data)
    return jsonify({**booking_json(rows[0]), "cancelled_ids": [b.id for b in rows]})


@bp.post("/bookings/<int:booking_id>/checkin")
@operation("Check in", errors=(404, 409, 422), answers=ref("BookingOut"))
def bookings_checkin(booking_id: int):
    return jsonify(booking_json(check_in(get_session(), current(), booking_id)))


@bp.get("/bookings/<int:booking_id>/audit")
@needs("bookings.read")
@operation("Who changed what", errors=(404,), answers={"type": "array", "items": {"type": "object", "properties": {
    "at": AT, "user": {"type": "string", "nullable": True}, "action": {"type": "string"},
    "changes": {"type": "object", "nullable": True}}}})
def bookings_audit(booking_id: int):
    get_booking(get_session(), current(), booking_id)
    return jsonify([
        {"at": instant(e.at), "user": e.user.email if e.user else None, "action": e.action, "changes": e.changes}
        for e in audit.history(get_session(), "booking", booking_id)
    ])


def _list_body(schema, max_items):
    data = body()
    return p.parse({"items": p.F(p.obj_list(schema, max_items), required=True)}, {"items": data})["items"]


@bp.put("/bookings/<int:booking_id>/anchors")
@needs("bookings.write")
@operation("Set the anchors and their roles", body=("AnchorEntries", ANCHOR_ENTRIES), errors=(404, 409, 422),
           answers=ref("BookingOut"))
def bookings_set_anchors(booking_id: int):
    entries = _list_body(ANCHOR_ENTRY, 10)
    return jsonify(booking_json(assignments.set_anchors(get_session(), current(), booking_id, entries)))


@bp.put("/bookings/<int:booking_id>/lineup")
@needs("lineup.write")
@operation("Set the ordered lineup; answers stock warnings", body=("LineupEntries", LINEUP_ENTRIES),
           errors=(404, 409, 422), answers={"allOf": [ref("BookingOut"), {"type": "object", "properties": {
               "warnings": {"type": "array", "items": {"type": "object"}}}}]})
def bookings_set_lineup(booking_id: int):
    items = _list_body(LINEUP_ENTRY, 200)
    booking = assignments.set_lineup(get_session(), current(), booking_id, items)
    return jsonify({**booking_json(booking), "warnings": assignments.stock_warnings(booking)})


@bp.post("/bookings/<int:booking_id>/copy")
@needs("bookings.write")
@operation("Copy anchors and lineup to other bookings", body=("Copy", COPY_SCHEMA), errors=(404, 409, 422),
           answers={"type": "object", "properties": {"results": {"type": "array", "items": {"type": "object"}}}})
def bookings_copy(booking_id: int):
    data = p.parse(COPY_SCHEMA, body())
    results = assignments.copy_setup(get_session(), current(), booking_id, data["target_ids"],
                                     anchors=data["anchors"], lineup=data["lineup"])
    return jsonify({"results": results})
