"""OpenAPI 3 description of /api/v1, kept beside the routes it describes."""
from __future__ import annotations

from flask import jsonify

from opsroom.api import bp

_ERR = {"$ref": "#/components/responses/Error"}


def _op(summary: str, *, body: str | None = None, ok: int = 200, params: list | None = None,
        errors: tuple[int, ...] = (401, 403, 404, 422)) -> dict:
    op: dict = {"summary": summary, "responses": {str(ok): {"description": "OK"}}}
    for status in errors:
        op["responses"][str(status)] = _ERR
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
    if params:
        op["parameters"] = params
    return op


def _q(name: str, fmt: str = "string", required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string", "format": fmt}}


_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]

PATHS = {
    "/me": {"get": _op("The token's user", errors=(401,))},
    "/rooms": {"get": _op("List rooms", params=[_q("zone"), _q("kind")]),
               "post": _op("Create a room", body="Room", ok=201)},
    "/rooms/{id}": {"parameters": _ID, "get": _op("Show a room"), "patch": _op("Change a room", body="Room")},
    "/rooms/{id}/availability": {"parameters": _ID, "get": _op("Free windows on a park-local day", params=[_q("date", "date", True)])},
    "/rooms/{id}/blackouts": {"parameters": _ID, "get": _op("List blackouts"),
                              "post": _op("Close the room for a while", body="Blackout", ok=201, errors=(401, 403, 404, 409, 422))},
    "/blackouts/{id}": {"parameters": _ID, "delete": _op("Remove a blackout", ok=204)},
    "/tenants": {"get": _op("List tenants", params=[_q("status")]), "post": _op("Create a tenant", body="Tenant", ok=201)},
    "/tenants/{id}": {"parameters": _ID, "get": _op("Show a tenant"), "patch": _op("Change a tenant", body="Tenant")},
    "/bookings": {
        "get": _op("List bookings", params=[_q("from", "date-time"), _q("to", "date-time"), _q("room_id"), _q("tenant_id"), _q("status")]),
        "post": _op("Book a room, once or recurring", body="BookingCreate", ok=201, errors=(401, 403, 409, 422)),
    },
    "/bookings/{id}": {"parameters": _ID, "get": _op("Show a booking"),
                       "patch": _op("Move, resize, retitle", body="BookingPatch", errors=(401, 403, 404, 409, 422))},
    "/bookings/{id}/confirm": {"parameters": _ID, "post": _op("Confirm a hold")},
    "/bookings/{id}/cancel": {"parameters": _ID, "post": _op("Cancel one or this-and-following", body="Cancel")},
    "/bookings/{id}/checkin": {"parameters": _ID, "post": _op("Check in")},
    "/bookings/{id}/audit": {"parameters": _ID, "get": _op("Who changed what")},
    "/bookings/{id}/anchors": {"parameters": _ID, "put": _op(
        "Set the anchors and their roles", body="AnchorEntries", errors=(401, 403, 404, 409, 422))},
    "/bookings/{id}/lineup": {"parameters": _ID, "put": _op(
        "Set the ordered lineup; answers stock warnings", body="LineupEntries")},
    "/bookings/{id}/copy": {"parameters": _ID, "post": _op(
        "Copy anchors and lineup to other bookings", body="Copy")},
    "/anchors": {"get": _op("List anchors (an anchor sees only themself)", params=[_q("tenant_id")]),
                 "post": _op("Create an anchor", body="Anchor", ok=201)},
    "/anchors/free": {"get": _op("Anchors free for a window and within their limits", params=[
        _q("starts_at", "date-time", True), _q("ends_at", "date-time", True), _q("role"), _q("tenant_id")])},
    "/anchors/{id}": {"parameters": _ID, "get": _op("Show an anchor"), "patch": _op("Change an anchor", body="Anchor")},
    "/anchors/{id}/schedule": {"parameters": _ID, "get": _op(
        "The anchor's sessions", params=[_q("from", "date", True), _q("to", "date", True)])},
    "/anchors/{id}/feed/reset": {"parameters": _ID, "post": _op("Reset the calendar feed URL")},
    "/products": {"get": _op("List products", params=[_q("tenant_id")]),
                  "post": _op("Create a product", body="Product", ok=201)},
    "/products/{id}": {"parameters": _ID, "get": _op("Show a product"), "patch": _op("Change a product", body="Product")},
    "/products/import": {"post": {**_op("Import a catalogue CSV (UTF-8 or GBK)"), "requestBody": {
        "required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "tenant_id"],
            "properties": {"file": {"type": "string", "format": "binary"}, "tenant_id": {"type": "integer"}}}}}}}},
    "/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OK"}}}},
}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "array", "items": {"type": "object"}},
                       "alternatives": {"type": "object"}}}}},
    "Room": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "zone": {"type": "string"}, "kind": {"type": "string"},
        "area_m2": {"type": "number", "nullable": True}, "equipment": {"type": "array", "items": {"type": "string"}},
        "open_time": {"type": "string", "pattern": "^\\d{2}:\\d{2}$"}, "close_time": {"type": "string", "pattern": "^\\d{2}:\\d{2}$"},
        "changeover_minutes": {"type": "integer"}, "min_minutes": {"type": "integer"}, "max_minutes": {"type": "integer"},
        "order_capacity_per_hour": {"type": "integer"}, "active": {"type": "boolean"}}},
    "Blackout": {"type": "object", "required": ["starts_at", "ends_at"], "properties": {
        "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"}, "reason": {"type": "string"}}},
    "Tenant": {"type": "object", "properties": {"name": {"type": "string"}, "contact": {"type": "string"},
               "credit_code": {"type": "string"}, "status": {"type": "string", "enum": ["active", "suspended", "blacklisted"]}}},
    "BookingCreate": {"type": "object", "required": ["room_id", "tenant_id", "starts_at", "ends_at"], "properties": {
        "room_id": {"type": "integer"}, "tenant_id": {"type": "integer"}, "title": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["hold", "confirmed"]},
        "recurrence": {"type": "object", "properties": {"freq": {"type": "string", "enum": ["daily", "weekly"]},
                       "interval": {"type": "integer"}, "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}},
                       "until": {"type": "string", "format": "date"}, "count": {"type": "integer"}}},
        "on_conflict": {"type": "string", "enum": ["reject", "skip"]},
        "anchors": {"$ref": "#/components/schemas/AnchorEntries"}, "lineup": {"$ref": "#/components/schemas/LineupEntries"}}},
    "BookingPatch": {"type": "object", "properties": {"room_id": {"type": "integer"}, "title": {"type": "string"},
                     "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"}}},
    "AnchorEntries": {"type": "array", "items": {"type": "object", "required": ["anchor_id"], "properties": {
        "anchor_id": {"type": "integer"}, "role": {"type": "string", "enum": ["host", "assistant", "controller"]}}}},
    "LineupEntries": {"type": "array", "items": {"type": "object", "required": ["product_id"], "properties": {
        "product_id": {"type": "integer"}, "planned_start": {"type": "string", "format": "date-time"},
        "planned_end": {"type": "string", "format": "date-time"}, "planned_quantity": {"type": "integer"}}}},
    "Copy": {"type": "object", "required": ["target_ids"], "properties": {
        "target_ids": {"type": "array", "items": {"type": "integer"}}, "anchors": {"type": "boolean"},
        "lineup": {"type": "boolean"}}},
    "Anchor": {"type": "object", "properties": {
        "name": {"type": "string"}, "tenant_id": {"type": "integer", "nullable": True},
        "user_email": {"type": "string", "nullable": True}, "verified": {"type": "boolean"},
        "max_minutes_per_day": {"type": "integer"}, "min_rest_minutes": {"type": "integer"},
        "platform_accounts": {"type": "object", "additionalProperties": {"type": "string"}},
        "active": {"type": "boolean"}}},
    "Product": {"type": "object", "properties": {
        "tenant_id": {"type": "integer"}, "sku": {"type": "string"}, "name": {"type": "string"},
        "category": {"type": "string"}, "price": {"type": "string", "example": "129.90"}, "stock": {"type": "integer"},
        "certifications": {"type": "array", "items": {"type": "string"}}, "active": {"type": "boolean"}}},
    "Cancel": {"type": "object", "properties": {"reason": {"type": "string"}, "scope": {"type": "string", "enum": ["one", "following"]}}},
}


def spec() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "opsroom API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())
