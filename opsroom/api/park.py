"""The park: rooms with their availability and blackouts, tenants, and the token's own user."""
from __future__ import annotations

from flask import g, jsonify, request

from opsroom.api import parse as p
from opsroom.api.base import body, bp, current, needs, operation, principal
from opsroom.api.schemas import AT, ERROR, B, I, S, list_of, ref
from opsroom.db import get_session
from opsroom.domain.booking_rules import MAX_BOOKING_MINUTES, MAX_CHANGEOVER_MINUTES
from opsroom.domain.statuses import DEFAULT_TENANT_PRIORITY, ROLES, TENANT_PRIORITIES, TENANT_STATUSES
from opsroom.models import Anchor
from opsroom.services.bookings.availability import free_windows
from opsroom.services.park import rooms as room_service
from opsroom.services.park import tenants as tenant_service
from opsroom.web.serialize import blackout_json, interval_json, room_json, tenant_json, user_json

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
ROOM_FILTERS = {"zone": p.F(p.string(50)), "kind": p.F(p.string(50))}
DAY = {"date": p.F(p.day, required=True)}

BLACKOUT_SCHEMA = {
    "starts_at": p.F(p.instant, required=True),
    "ends_at": p.F(p.instant, required=True),
    "reason": p.F(p.string(200), default=""),
}

TENANT_SCHEMA = {
    "name": p.F(p.string(100, min_len=1), required=True),
    "short_name": p.F(p.string(16), nullable=True, default=None),
    "contact": p.F(p.string(200), default=""),
    "credit_code": p.F(p.string(18), default=""),
    "status": p.F(p.string(20, choices=TENANT_STATUSES), default="active"),
    "priority": p.F(p.integer(min(TENANT_PRIORITIES), max(TENANT_PRIORITIES)), default=DEFAULT_TENANT_PRIORITY,
                    extra={"description": "1 = highest; the waitlist offers by priority, then age"}),
    "prime_quota_hours_per_week": p.F(p.integer(0, 168), nullable=True, default=None,
                                      extra={"description": "hours per week inside prime time; null = no quota"}),
}
TENANT_FILTERS = {"status": p.F(p.string(20, choices=TENANT_STATUSES))}

SCHEMAS = {
    "Interval": {"type": "object", "required": ["starts_at", "ends_at"], "properties": {"starts_at": AT,
                                                                                        "ends_at": AT}},
    "RoomOut": {"type": "object", "required": ["id", "code", "name", "open_time", "close_time"], "properties": {
        "id": I, "code": S, "name": S, "zone": S, "kind": S, "area_m2": {"type": "number", "nullable": True},
        "equipment": {"type": "array", "items": S}, "open_time": S, "close_time": S, "changeover_minutes": I,
        "min_minutes": I, "max_minutes": I, "order_capacity_per_hour": I, "active": B}},
    "BlackoutOut": {"type": "object", "required": ["id", "room_id", "starts_at", "ends_at"], "properties": {
        "id": I, "room_id": I, "starts_at": AT, "ends_at": AT, "reason": S}},
    "TenantOut": {"type": "object", "required": ["id", "name", "status"], "properties": {
        "id": I, "name": S, "short_name": {"type": "string", "nullable": True},
        "contact": S, "credit_code": S, "status": {"type": "string", "enum": list(TENANT_STATUSES)},
        "priority": {"type": "integer", "minimum": 1, "maximum": 3},
        "prime_quota_hours_per_week": {"type": "integer", "nullable": True}}},
    "Me": {"type": "object", "required": ["id", "email", "role"], "properties": {
        "id": I, "email": S, "name": S, "role": {"type": "string", "enum": list(ROLES)},
        "tenant_id": {"type": "integer", "nullable": True},
        "anchor": {"allOf": [ref("AnchorOut")], "nullable": True}}},
}


@bp.get("/me")
@operation("The token's user", errors=(), answers=ref("Me"))
def me():
    # The linked anchor's id came with the token's user (one statement); most users have none,
    # and their answer needs no ORM session. An anchor's profile is read in the session the
    # user is merged into (without SQL), so the profile's link back to its user costs nothing.
    anchor_id = g.get("api_anchor_id")
    if anchor_id is None:
        return jsonify(user_json(principal(), None))
    return jsonify(user_json(current(), get_session().get(Anchor, anchor_id)))


@bp.get("/rooms")
@operation("List rooms", query=ROOM_FILTERS, errors=(422,), answers=list_of("RoomOut"))
def rooms_index():
    q = p.query(request.args, ROOM_FILTERS)
    rows = room_service.list_rooms(get_session(), current(), zone=q["zone"], kind=q["kind"])
    return jsonify([room_json(r) for r in rows])


@bp.post("/rooms")
@needs("rooms.write")
@operation("Create a room", body=("Room", ROOM_SCHEMA), ok=201, errors=(409, 422), answers=ref("RoomOut"))
def rooms_create():
    data = p.parse(ROOM_SCHEMA, body())
    return jsonify(room_json(room_service.create_room(get_session(), current(), data))), 201


@bp.get("/rooms/<int:room_id>")
@operation("Show a room", errors=(404,), answers=ref("RoomOut"))
def rooms_show(room_id: int):
    return jsonify(room_json(room_service.get_room(get_session(), current(), room_id)))


@bp.patch("/rooms/<int:room_id>")
@needs("rooms.write")
@operation("Change a room", body=("RoomPatch", ROOM_SCHEMA, True), errors=(404, 409, 422), answers=ref("RoomOut"))
def rooms_update(room_id: int):
    data = p.parse(ROOM_SCHEMA, body(), partial=True)
    return jsonify(room_json(room_service.update_room(get_session(), current(), room_id, data)))


@bp.get("/rooms/<int:room_id>/availability")
@operation("Free windows on a park-local day", query=DAY, answers={
    "type": "object", "properties": {"free": list_of("Interval")}})
def rooms_availability(room_id: int):
    day = p.query(request.args, DAY)["date"]
    free = free_windows(get_session(), current(), room_id, day)
    return jsonify({"free": [interval_json(i) for i in free]})


@bp.get("/rooms/<int:room_id>/blackouts")
@operation("List blackouts", errors=(404,), answers=list_of("BlackoutOut"))
def blackouts_index(room_id: int):
    rows = room_service.list_blackouts(get_session(), current(), room_id)
    return jsonify([blackout_json(b) for b in rows])


@bp.post("/rooms/<int:room_id>/blackouts")
@needs("rooms.write")
@operation("Close the room for a while", body=("Blackout", BLACKOUT_SCHEMA), ok=201, errors=(404, 409, 422),
           answers=ref("BlackoutOut"))
def blackouts_create(room_id: int):
    data = p.parse(BLACKOUT_SCHEMA, body())
    blackout = room_service.add_blackout(get_session(), current(), room_id, **data)
    return jsonify(blackout_json(blackout)), 201


@bp.delete("/blackouts/<int:blackout_id>")
@needs("rooms.write")
@operation("Remove a blackout", ok=204, errors=(404,), responses={"204": {"description": "Removed"}, "404": ERROR})
def blackouts_delete(blackout_id: int):
    room_service.delete_blackout(get_session(), current(), blackout_id)
    return "", 204


@bp.get("/tenants")
@operation("List tenants", query=TENANT_FILTERS, errors=(422,), answers=list_of("TenantOut"))
def tenants_index():
    status = p.query(request.args, TENANT_FILTERS)["status"]
    return jsonify([tenant_json(t) for t in tenant_service.list_tenants(get_session(), current(), status=status)])


@bp.post("/tenants")
@needs("tenants.write")
@operation("Create a tenant", body=("Tenant", TENANT_SCHEMA), ok=201, errors=(409, 422), answers=ref("TenantOut"))
def tenants_create():
    data = p.parse(TENANT_SCHEMA, body())
    return jsonify(tenant_json(tenant_service.create_tenant(get_session(), current(), data))), 201


@bp.get("/tenants/<int:tenant_id>")
@operation("Show a tenant", errors=(404,), answers=ref("TenantOut"))
def tenants_show(tenant_id: int):
    return jsonify(tenant_json(tenant_service.get_tenant(get_session(), current(), tenant_id)))


@bp.patch("/tenants/<int:tenant_id>")
@needs("tenants.write")
@operation("Change a tenant", body=("TenantPatch", TENANT_SCHEMA, True), errors=(404, 409, 422),
           answers=ref("TenantOut"))
def tenants_update(tenant_id: int):
    data = p.parse(TENANT_SCHEMA, body(), partial=True)
    return jsonify(tenant_json(tenant_service.update_tenant(get_session(), current(), tenant_id, data)))
