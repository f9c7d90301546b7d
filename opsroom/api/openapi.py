"""OpenAPI 3 description of /api/v1, kept beside the routes it describes."""
from __future__ import annotations

import copy

from flask import jsonify

from opsroom.api.base import bp

from opsroom.api.parse import DATE_SCHEMA, ID_SCHEMA, INSTANT_SCHEMA
from opsroom.domain.statuses import BOOKING_STATUSES, TENANT_STATUSES

_ERR = {"$ref": "#/components/responses/Error"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _op(summary: str, *, body: str | None = None, ok: int = 200, params: list | None = None,
        errors: tuple[int, ...] = (401, 403, 404, 422), schema: dict | None = None) -> dict:
    """One operation. spec() adds the statuses every operation of its kind can
    answer (401/403 with a token, 400/413 with a body, 503)."""
    op: dict = {"summary": summary, "responses": {str(ok): {"description": "OK"}}}
    if schema is not None:
        op["responses"][str(ok)]["content"] = {"application/json": {"schema": schema}}
    for status in errors:
        op["responses"][str(status)] = _ERR
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def _q(name: str, fmt: str = "string", required: bool = False, schema: dict | None = None) -> dict:
    """A query parameter. An optional one sent empty (`?to=`) counts as absent."""
    if schema is None:
        schema = {"date": DATE_SCHEMA, "date-time": INSTANT_SCHEMA}.get(fmt) or {"type": "string", "format": fmt}
    param = {"name": name, "in": "query", "required": required, "schema": schema}
    if not required:
        param["allowEmptyValue"] = True
    return param


def _qs(name: str, max_len: int) -> dict:
    """An optional text filter: at most `max_len` characters as sent, no NUL."""
    return _q(name, schema={"type": "string", "maxLength": max_len, "pattern": "^[^\\u0000]*$"})


def _qid(name: str, required: bool = False) -> dict:
    return _q(name, required=required, schema=ID_SCHEMA)


def _qenum(name: str, values) -> dict:
    return _q(name, schema={"type": "string", "enum": list(values)})


# A bound of a listed range: a park-local day (whole day, inclusive) or an RFC 3339 instant.
_BOUND = {"oneOf": [DATE_SCHEMA, INSTANT_SCHEMA]}

_ID = [{"name": "id", "in": "path", "required": True, "schema": ID_SCHEMA}]
# Instants the API answers with: RFC 3339 in the park's offset (UTC for a local mean time offset).
_AT = {"type": "string", "format": "date-time"}
_T = {**_AT, "nullable": True}
_LIST = lambda name: {"type": "array", "items": _ref(name)}  # noqa: E731

_MULTIPART_CSV = {"type": "string", "format": "binary"}

PATHS = {
    "/me": {"get": _op("The token's user", errors=(), schema=_ref("Me"))},
    "/rooms": {"get": _op("List rooms", params=[_qs("zone", 50), _qs("kind", 50)], errors=(422,), schema=_LIST("RoomOut")),
               "post": _op("Create a room", body="Room", ok=201, errors=(409, 422), schema=_ref("RoomOut"))},
    "/rooms/{id}": {"parameters": _ID, "get": _op("Show a room", errors=(404,), schema=_ref("RoomOut")),
                    "patch": _op("Change a room", body="RoomPatch", errors=(404, 409, 422), schema=_ref("RoomOut"))},
    "/rooms/{id}/availability": {"parameters": _ID, "get": _op(
        "Free windows on a park-local day", params=[_q("date", "date", True)], schema={
            "type": "object", "properties": {"free": _LIST("Interval")}})},
    "/rooms/{id}/blackouts": {"parameters": _ID, "get": _op("List blackouts", errors=(404,), schema=_LIST("BlackoutOut")),
                              "post": _op("Close the room for a while", body="Blackout", ok=201, errors=(404, 409, 422),
                                          schema=_ref("BlackoutOut"))},
    "/blackouts/{id}": {"parameters": _ID, "delete": {**_op("Remove a blackout", ok=204, errors=(404,)),
                                                      "responses": {"204": {"description": "Removed"}, "404": _ERR}}},
    "/tenants": {"get": _op("List tenants", params=[_qenum("status", TENANT_STATUSES)], errors=(422,),
                            schema=_LIST("TenantOut")),
                 "post": _op("Create a tenant", body="Tenant", ok=201, errors=(409, 422), schema=_ref("TenantOut"))},
    "/tenants/{id}": {"parameters": _ID, "get": _op("Show a tenant", errors=(404,), schema=_ref("TenantOut")),
                      "patch": _op("Change a tenant", body="TenantPatch", errors=(404, 409, 422), schema=_ref("TenantOut"))},
    "/bookings": {
        "get": _op("List bookings (an anchor: only their own sessions); from/to: a park-local date or an instant",
                   params=[_q("from", schema=_BOUND), _q("to", schema=_BOUND), _qid("room_id"), _qid("tenant_id"),
                           _qenum("status", BOOKING_STATUSES)], errors=(422,), schema=_LIST("BookingOut")),
        "post": _op("Book a room, once or recurring (one booking, or {bookings, skipped, series_id} for a series)",
                    body="BookingCreate", ok=201, errors=(404, 409, 422), schema={"oneOf": [_ref("BookingOut"), {
                        "type": "object", "required": ["bookings", "skipped", "series_id"], "properties": {
                            "bookings": _LIST("BookingOut"), "skipped": {"type": "array", "items": {"type": "object"}},
                            "series_id": {"type": "integer", "nullable": True}}}]}),
    },
    "/bookings/{id}": {"parameters": _ID, "get": _op("Show a booking", errors=(404,), schema=_ref("BookingOut")),
                       "patch": _op("Move, resize, retitle", body="BookingPatch", errors=(404, 409, 422),
                                    schema=_ref("BookingOut"))},
    "/bookings/{id}/confirm": {"parameters": _ID, "post": _op("Confirm a hold", errors=(404, 409, 422),
                                                              schema=_ref("BookingOut"))},
    "/bookings/{id}/cancel": {"parameters": _ID, "post": {**_op(
        "Cancel one or this-and-following (the body may be left out)", errors=(404, 409, 422), schema={
            "allOf": [_ref("BookingOut"), {"type": "object", "properties": {
                "cancelled_ids": {"type": "array", "items": {"type": "integer"}}}}]}),
        "requestBody": {"required": False, "content": {"application/json": {"schema": _ref("Cancel")}}}}},
    "/bookings/{id}/checkin": {"parameters": _ID, "post": _op("Check in", errors=(404, 409, 422),
                                                              schema=_ref("BookingOut"))},
    "/bookings/{id}/audit": {"parameters": _ID, "get": _op("Who changed what", errors=(404,), schema={
        "type": "array", "items": {"type": "object", "properties": {
            "at": _AT, "user": {"type": "string", "nullable": True}, "action": {"type": "string"},
            "changes": {"type": "object", "nullable": True}}}})},
    "/bookings/{id}/anchors": {"parameters": _ID, "put": _op(
        "Set the anchors and their roles", body="AnchorEntries", errors=(404, 409, 422), schema=_ref("BookingOut"))},
    "/bookings/{id}/lineup": {"parameters": _ID, "put": _op(
        "Set the ordered lineup; answers stock warnings", body="LineupEntries", errors=(404, 409, 422), schema={
            "allOf": [_ref("BookingOut"), {"type": "object", "properties": {
                "warnings": {"type": "array", "items": {"type": "object"}}}}]})},
    "/bookings/{id}/copy": {"parameters": _ID, "post": _op(
        "Copy anchors and lineup to other bookings", body="Copy", errors=(404, 409, 422), schema={
            "type": "object", "properties": {"results": {"type": "array", "items": {"type": "object"}}}})},
    "/anchors": {"get": _op("List anchors (an anchor sees only themself)", params=[_qid("tenant_id")],
                            errors=(422,), schema=_LIST("AnchorOut")),
                 "post": _op("Create an anchor", body="Anchor", ok=201, errors=(404, 409, 422), schema=_ref("AnchorOut"))},
    "/anchors/free": {"get": _op("Anchors free for a window and within their limits", params=[
        _q("starts_at", "date-time", True), _q("ends_at", "date-time", True), _qenum("role", ("host", "assistant", "controller")),
        _qid("tenant_id")], errors=(422,), schema=_LIST("AnchorOut"))},
    "/anchors/{id}": {"parameters": _ID, "get": _op("Show an anchor", errors=(404,), schema=_ref("AnchorOut")),
                      "patch": _op("Change an anchor", body="AnchorPatch", errors=(404, 409, 422), schema=_ref("AnchorOut"))},
    "/anchors/{id}/schedule": {"parameters": _ID, "get": _op(
        "The anchor's sessions; from/to: a park-local date or an instant",
        params=[_q("from", required=True, schema=_BOUND), _q("to", required=True, schema=_BOUND)], schema={
            "type": "array", "items": {"allOf": [_ref("BookingOut"), {"type": "object", "properties": {
                "role": {"type": "string"}}}]}})},
    "/anchors/{id}/feed/reset": {"parameters": _ID, "post": _op("Reset the calendar feed URL", errors=(404,),
                                                                schema=_ref("AnchorOut"))},
    "/products": {"get": _op("List products", params=[_qid("tenant_id")], errors=(422,), schema=_LIST("ProductOut")),
                  "post": _op("Create a product", body="Product", ok=201, errors=(404, 409, 422), schema=_ref("ProductOut"))},
    "/products/{id}": {"parameters": _ID, "get": _op("Show a product", errors=(404,), schema=_ref("ProductOut")),
                       "patch": _op("Change a product", body="ProductPatch", errors=(404, 409, 422),
                                    schema=_ref("ProductOut"))},
    "/products/import": {"post": {**_op("Import a catalogue CSV (UTF-8 or GBK)", errors=(404, 409, 422), schema={
        "type": "object"}), "requestBody": {
        "required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "tenant_id"],
            "properties": {"file": _MULTIPART_CSV, "tenant_id": ID_SCHEMA}}}}}}},
    "/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {
        "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
}

_S = {"type": "string"}
_I = {"type": "integer"}
_B = {"type": "boolean"}
SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "array", "items": {"type": "object"}},
                       "alternatives": {"type": "object"}}}}},
    "Interval": {"type": "object", "required": ["starts_at", "ends_at"], "properties": {"starts_at": _AT,
                                                                                        "ends_at": _AT}},
    "RoomOut": {"type": "object", "required": ["id", "code", "name", "open_time", "close_time"], "properties": {
        "id": _I, "code": _S, "name": _S, "zone": _S, "kind": _S, "area_m2": {"type": "number", "nullable": True},
        "equipment": {"type": "array", "items": _S}, "open_time": _S, "close_time": _S, "changeover_minutes": _I,
        "min_minutes": _I, "max_minutes": _I, "order_capacity_per_hour": _I, "active": _B}},
    "BlackoutOut": {"type": "object", "required": ["id", "room_id", "starts_at", "ends_at"], "properties": {
        "id": _I, "room_id": _I, "starts_at": _AT, "ends_at": _AT, "reason": _S}},
    "TenantOut": {"type": "object", "required": ["id", "name", "status"], "properties": {
        "id": _I, "name": _S, "contact": _S, "credit_code": _S, "status": {"type": "string", "enum": list(TENANT_STATUSES)}}},
    "BookingOut": {"type": "object", "required": ["id", "room_id", "tenant_id", "starts_at", "ends_at", "status"], "properties": {
        "id": _I, "room_id": _I, "tenant_id": _I, "title": _S, "starts_at": _AT, "ends_at": _AT,
        "status": {"type": "string", "enum": list(BOOKING_STATUSES)}, "hold_expires_at": _T,
        "series_id": {"type": "integer", "nullable": True},
        "anchors": {"type": "array", "items": {"type": "object", "properties": {"anchor_id": _I, "name": _S, "role": _S}}},
        "lineup": {"type": "array", "items": {"type": "object", "properties": {
            "product_id": _I, "sku": _S, "name": _S, "position": _I, "planned_start": _T, "planned_end": _T,
            "planned_quantity": {"type": "integer", "nullable": True}}}},
        "checked_in_at": _T, "created_at": _T}},
    "AnchorOut": {"type": "object", "required": ["id", "name"], "properties": {
        "id": _I, "name": _S, "tenant_id": {"type": "integer", "nullable": True},
        "user_email": {"type": "string", "nullable": True}, "verified": _B, "max_minutes_per_day": _I,
        "min_rest_minutes": _I, "platform_accounts": {"type": "object", "additionalProperties": _S}, "active": _B,
        "feed_url": {"type": "string", "format": "uri"}}},
    "ProductOut": {"type": "object", "required": ["id", "tenant_id", "sku", "name"], "properties": {
        "id": _I, "tenant_id": _I, "sku": _S, "name": _S, "category": _S,
        "price": {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"}, "stock": _I,
        "certifications": {"type": "array", "items": _S}, "active": _B}},
    "Me": {"type": "object", "required": ["id", "email", "role"], "properties": {
        "id": _I, "email": _S, "name": _S, "role": {"type": "string", "enum": ["admin", "manager", "coordinator", "anchor"]},
        "anchor": {"allOf": [_ref("AnchorOut")], "nullable": True}}},
}


def _bodies() -> dict:
    """Request bodies, read off the parsers' own field tables (opsroom/api/parse.py)."""
    from opsroom.api import anchors, bookings, products, rooms, tenants
    from opsroom.api.parse import json_schema

    out = {}
    for name, fields in (("Room", rooms.ROOM_SCHEMA), ("Tenant", tenants.TENANT_SCHEMA),
                         ("Anchor", anchors.ANCHOR_SCHEMA), ("Product", products.PRODUCT_SCHEMA),
                         ("BookingPatch", bookings.PATCH_SCHEMA)):
        out[name] = json_schema(fields)
        if name != "BookingPatch":
            out[name + "Patch"] = json_schema(fields, partial=True)
    out.update({
        "Blackout": json_schema(rooms.BLACKOUT_SCHEMA),
        "BookingCreate": json_schema(bookings.BOOKING_SCHEMA),
        "AnchorEntries": {"type": "array", "maxItems": 10, "items": json_schema(bookings.ANCHOR_ENTRY)},
        "LineupEntries": {"type": "array", "maxItems": 200, "items": json_schema(bookings.LINEUP_ENTRY)},
        "Copy": json_schema(bookings.COPY_SCHEMA),
        "Cancel": json_schema(bookings.CANCEL_SCHEMA),
    })
    return out


# Statuses any operation of a kind can answer, added by spec() to each.
_DB_DOWN = {"description": "The database cannot be reached (Retry-After)", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


# Answered by gunicorn itself (HTML), before the app: a request line past 4,094 bytes.
_URI_TOO_LONG = {"description": "The query string makes the request line too long for the server"}


def _complete(paths: dict) -> dict:
    paths = copy.deepcopy(paths)
    for item in paths.values():
        for method, op in item.items():
            if method == "parameters":
                continue
            responses = op["responses"]
            security = op.get("security")
            if security != []:
                responses.setdefault("401", _ERR)  # no token, or one that is unknown or revoked
                if security is None:  # a role without the permission, or a screen token elsewhere
                    responses.setdefault("403", _ERR)
            if "requestBody" in op:
                responses.setdefault("400", _ERR)  # not JSON / no file part
                responses.setdefault("413", _ERR)  # past the body limit
                responses.setdefault("422", _ERR)
            if op.get("parameters"):
                responses.setdefault("422", _ERR)
                if any(p["in"] == "query" for p in op["parameters"]):
                    responses.setdefault("414", _URI_TOO_LONG)
            if item.get("parameters"):
                responses.setdefault("404", _ERR)
            responses.setdefault("503", _DB_DOWN)
    return paths


def spec() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "opsroom API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _complete(PATHS),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**SCHEMAS, **_bodies()},
            "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())
