"""The OpenAPI 3 document of /api/v1, generated from the routes themselves: each
route's `operation` (api/base.py) names its query and body parse tables, whose
converters carry the JSON Schema of what they take (api/parse.py), and each area
module of the API lists its answers' schemas as `SCHEMAS`."""
from __future__ import annotations

import copy
import re

from flask import current_app, jsonify

from opsroom.api import bookings, forecast, integrations, operations, park, people_goods, plans, reporting, requests, sales
from opsroom.api.base import bp, operation
from opsroom.api.parse import F, ID_SCHEMA, json_schema, query_parameter
from opsroom.api.schemas import ERROR

AREAS = (park, bookings, people_goods, sales, reporting, operations, requests, forecast, integrations, plans)

_ID = [{"name": "id", "in": "path", "required": True, "schema": ID_SCHEMA}]
_DB_DOWN = {"description": "The database cannot be reached (Retry-After)", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
# Answered by gunicorn itself (HTML), before the app: a request line past 4,094 bytes.
_URI_TOO_LONG = {"description": "The query string makes the request line too long for the server"}

ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "details"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "details": {"type": "array", "items": {"type": "object"}}, "alternatives": {"type": "object"}}}}}


def _path(rule: str) -> str:
    """/api/v1/rooms/<int:room_id>/blackouts → /rooms/{id}/blackouts"""
    return re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "{id}", rule[len(bp.url_prefix):])


def _body_schema(spec) -> dict:
    table, partial = spec[1], (spec[2] if len(spec) > 2 else False)
    if table and all(isinstance(v, F) for v in table.values()):
        return json_schema(table, partial=partial)
    return table


def _operation(meta: dict) -> dict:
    op: dict = {"summary": meta["summary"], "responses": {str(meta["ok"]): {"description": "OK"}}}
    if meta["answers"] is not None:
        op["responses"][str(meta["ok"])]["content"] = {"application/json": {"schema": meta["answers"]}}
    for status in meta["errors"]:
        op["responses"][str(status)] = ERROR
    if meta["body"]:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{meta['body'][0]}"}}}}
    if meta["query"]:
        op["parameters"] = [query_parameter(name, spec) for name, spec in meta["query"].items()]
    op.update(copy.deepcopy(meta["extra"]))
    return op


def _complete(item: dict) -> None:
    """The statuses any operation of a kind can answer."""
    for method, op in item.items():
        if method == "parameters":
            continue
        responses = op["responses"]
        security = op.get("security")
        if security != []:
            responses.setdefault("401", ERROR)  # no token, or one that is unknown or revoked
            if security is None:  # a role without the permission, or a screen token elsewhere
                responses.setdefault("403", ERROR)
        if "requestBody" in op:
            responses.setdefault("400", ERROR)  # not JSON / no file part
            responses.setdefault("413", ERROR)  # past the body limit
            responses.setdefault("422", ERROR)
        if op.get("parameters"):
            responses.setdefault("422", ERROR)
            if any(p["in"] == "query" for p in op["parameters"]):
                responses.setdefault("414", _URI_TOO_LONG)
        if item.get("parameters"):
            responses.setdefault("404", ERROR)
        responses.setdefault("503", _DB_DOWN)


def spec() -> dict:
    paths: dict[str, dict] = {}
    bodies: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith(bp.name + "."):
            continue
        meta = current_app.view_functions[rule.endpoint].openapi
        item = paths.setdefault(_path(rule.rule), {})
        if rule.arguments:
            item["parameters"] = _ID
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            item[method.lower()] = _operation(meta)
        if meta["body"]:
            bodies[meta["body"][0]] = _body_schema(meta["body"])
    for item in paths.values():
        _complete(item)
    schemas = {"Error": ERROR_SCHEMA}
    for area in AREAS:
        schemas.update(area.SCHEMAS)
    return {
        "openapi": "3.0.3",
        "info": {"title": "opsroom API", "version": "1"},
        "servers": [{"url": bp.url_prefix}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**schemas, **bodies},
            "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Error"}}}}},
        },
    }


@bp.get("/openapi.json")
@operation("This document", security=[], responses={
    "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}})
def openapi():
    return jsonify(spec())
