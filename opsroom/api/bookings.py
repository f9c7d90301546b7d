"""Bookings (场次)."""
from __future__ import annotations

from flask import jsonify, request

from opsroom.api.base import body, bp, current, needs
from opsroom.api import parse as p
from opsroom.web.serialize import booking_json
from opsroom.db import get_session
from opsroom.domain.numbers import MAX_STOCK
from opsroom.domain import hours
from opsroom.web.i18n import park_tz
from opsroom.domain.statuses import BOOKING_STATUSES
from opsroom.services.people_goods import assignments
from opsroom.services.bookings.core import get_booking, list_bookings
from opsroom.services.bookings.create import create_booking
from opsroom.services.bookings.lifecycle import cancel_booking, check_in, confirm_booking
from opsroom.services.bookings.move import update_booking

RECURRENCE_SCHEMA = {
    "freq": p.F(p.string(10, choices=("daily", "weekly")), required=True),
    "interval": p.F(p.integer(1, 52), default=1),
    "weekdays": p.F(p.int_list(0, 6, max_items=7), nullable=True),
    "until": p.F(p.day, nullable=True),
    "count": p.F(p.integer(1, 10000), nullable=True),
}

ANCHOR_ENTRY = {
    "anchor_id": p.F(p.integer(1), required=True),
    "role": p.F(p.string(20, choices=("host", "assistant", "controller")), default="host"),
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


def bound(name: str, *, end: bool, required: bool = False):
    """A query bound: an RFC 3339 instant, or a park-local date (inclusive)."""
    raw = request.args.get(name)
    if not raw:
        return p.query_value(request.args, name, p.day, required=required)
    if len(raw) == 10:
        day = p.query_value(request.args, name, p.day)
        window = hours.local_day(day, park_tz())
        return window.end if end else window.start
    return p.query_value(request.args, name, p.instant)


@bp.post("/bookings")
@needs("bookings.write")
def bookings_create():
    data = p.parse(BOOKING_SCHEMA, body())
    result = create_booking(get_session(), current(), data)
    if data.get("recurrence"):
        return jsonify({"bookings": [booking_json(b) for b in result.bookings], "skipped": result.skipped,
                        "series_id": result.series.id if result.series else None}), 201
    return jsonify(booking_json(result.bookings[0])), 201


@bp.get("/bookings")
@needs("bookings.read")
def bookings_index():
    args = request.args
    rows = list_bookings(
        get_session(), current(),
        start=bound("from", end=False), end=bound("to", end=True),
        room_id=p.query_value(args, "room_id", p.id_param),
        tenant_id=p.query_value(args, "tenant_id", p.id_param),
        status=p.query_value(args, "status", p.string(20, choices=BOOKING_STATUSES)),
    )
    return jsonify([booking_json(b) for b in rows])


@bp.get("/bookings/<int:booking_id>")
@needs("bookings.read")
def bookings_show(booking_id: int):
    return jsonify(booking_json(get_booking(get_session(), current(), booking_id)))


@bp.patch("/bookings/<int:booking_id>")
@needs("bookings.write")
def bookings_update(booking_id: int):
    data = p.parse(PATCH_SCHEMA, body(), partial=True)
    return jsonify(booking_json(update_booking(get_session(), current(), booking_id, data)))


@bp.post("/bookings/<int:booking_id>/confirm")
@needs("bookings.write")
def bookings_confirm(booking_id: int):
    return jsonify(booking_json(confirm_booking(get_session(), current(), booking_id)))


@bp.post("/bookings/<int:booking_id>/cancel")
@needs("bookings.write")
def bookings_cancel(booking_id: int):
    data = p.parse(CANCEL_SCHEMA, body() if request.content_length else {})
    rows = cancel_booking(get_session(), current(), booking_id, **data)
    return jsonify({**booking_json(rows[0]), "cancelled_ids": [b.id for b in rows]})


@bp.post("/bookings/<int:booking_id>/checkin")
def bookings_checkin(booking_id: int):
    return jsonify(booking_json(check_in(get_session(), current(), booking_id)))


@bp.get("/bookings/<int:booking_id>/audit")
@needs("bookings.read")
def bookings_audit(booking_id: int):
    from opsroom.web.serialize import instant
    from opsroom.services import audit

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
def bookings_set_anchors(booking_id: int):
    entries = _list_body(ANCHOR_ENTRY, 10)
    return jsonify(booking_json(assignments.set_anchors(get_session(), current(), booking_id, entries)))


@bp.put("/bookings/<int:booking_id>/lineup")
@needs("bookings.write")
def bookings_set_lineup(booking_id: int):
    items = _list_body(LINEUP_ENTRY, 200)
    booking = assignments.set_lineup(get_session(), current(), booking_id, items)
    return jsonify({**booking_json(booking), "warnings": assignments.stock_warnings(booking)})


@bp.post("/bookings/<int:booking_id>/copy")
@needs("bookings.write")
def bookings_copy(booking_id: int):
    data = p.parse(COPY_SCHEMA, body())
    results = assignments.copy_setup(get_session(), current(), booking_id, data["target_ids"],
                                     anchors=data["anchors"], lineup=data["lineup"])
    return jsonify({"results": results})
