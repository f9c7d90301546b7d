"""Rooms, availability and blackouts."""
from __future__ import annotations

from flask import jsonify, request

from opsroom.api.base import body, bp, current, needs
from opsroom.api import parse as p
from opsroom.web.serialize import blackout_json, interval_json, room_json
from opsroom.db import get_session
from opsroom.domain.booking_rules import MAX_BOOKING_MINUTES, MAX_CHANGEOVER_MINUTES
from opsroom.services.park import rooms as service
from opsroom.services.bookings.availability import free_windows

ROOM_SCHEMA = {
    "code": p.F(p.string(32, min_len=1), required=True),
    "name": p.F(p.string(100, min_len=1), required=True),
    "zone": p.F(p.string(50), default=""),
    "kind": p.F(p.string(50), default=""),
    "area_m2": p.F(p.number(0, 100000), nullable=True),
    "equipment": p.F(p.string_list(), default=list),
    "open_time": p.F(p.time_of_day, required=True),
    "close_time": p.F(p.time_of_day, required=True),
    "changeover_minutes": p.F(p.integer(0, MAX_CHANGEOVER_MINUTES), default=0),
    "min_minutes": p.F(p.integer(1, MAX_BOOKING_MINUTES), default=30),
    "max_minutes": p.F(p.integer(1, MAX_BOOKING_MINUTES), default=720),
    "order_capacity_per_hour": p.F(p.integer(0, 1_000_000), default=0),
    "active": p.F(p.boolean, default=True),
}

BLACKOUT_SCHEMA = {
    "starts_at": p.F(p.instant, required=True),
    "ends_at": p.F(p.instant, required=True),
    "reason": p.F(p.string(200), default=""),
}


@bp.get("/rooms")
def rooms_index():
    zone = p.query_value(request.args, "zone", p.string(50))
    kind = p.query_value(request.args, "kind", p.string(50))
    rows = service.list_rooms(get_session(), current(), zone=zone, kind=kind)
    return jsonify([room_json(r) for r in rows])


@bp.post("/rooms")
@needs("rooms.write")
def rooms_create():
    data = p.parse(ROOM_SCHEMA, body())
    room = service.create_room(get_session(), current(), data)
    return jsonify(room_json(room)), 201


@bp.get("/rooms/<int:room_id>")
def rooms_show(room_id: int):
    return jsonify(room_json(service.get_room(get_session(), current(), room_id)))


@bp.patch("/rooms/<int:room_id>")
@needs("rooms.write")
def rooms_update(room_id: int):
    data = p.parse(ROOM_SCHEMA, body(), partial=True)
    return jsonify(room_json(service.update_room(get_session(), current(), room_id, data)))


@bp.get("/rooms/<int:room_id>/availability")
def rooms_availability(room_id: int):
    day = p.query_value(request.args, "date", p.day, required=True)
    free = free_windows(get_session(), current(), room_id, day)
    return jsonify({"free": [interval_json(i) for i in free]})


@bp.get("/rooms/<int:room_id>/blackouts")
def blackouts_index(room_id: int):
    rows = service.list_blackouts(get_session(), current(), room_id)
    return jsonify([blackout_json(b) for b in rows])


@bp.post("/rooms/<int:room_id>/blackouts")
@needs("rooms.write")
def blackouts_create(room_id: int):
    data = p.parse(BLACKOUT_SCHEMA, body())
    blackout = service.add_blackout(get_session(), current(), room_id, **data)
    return jsonify(blackout_json(blackout)), 201


@bp.delete("/blackouts/<int:blackout_id>")
@needs("rooms.write")
def blackouts_delete(blackout_id: int):
    service.delete_blackout(get_session(), current(), blackout_id)
    return "", 204
