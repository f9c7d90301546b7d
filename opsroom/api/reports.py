"""Managers' reports (API.md "Reports"): utilization grouped by room, zone,
kind, day, week, hour of day, tenant or anchor, as JSON, CSV or XLSX."""
from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import lazy_gettext as _l

from opsroom.api.base import bp, current, needs
from opsroom.api import parse as p
from opsroom.api.openapi import PATHS, SCHEMAS, _op, _q, _qenum, _qid, _qs
from opsroom.db import get_session
from opsroom.services.errors import ValidationFailed
from opsroom.services.reporting.exports import FORMATS, export_name, to_csv, to_xlsx
from opsroom.services.reporting.query import GROUPS, Query, utilization, validate

MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
KNOWN = {"from", "to", "group_by", "zone", "kind", "tenant_id", "format"}


def query_from(args) -> Query:
    """The report's query string, every bad parameter named in one 422."""
    errors, values = [], {}
    for name in sorted(set(args) - KNOWN):
        errors.append({"field": name, "message": _l("Unknown parameter.")})
    for name, convert in (("from", p.day), ("to", p.day), ("group_by", p.string(20, choices=GROUPS)),
                          ("zone", p.string(50)), ("kind", p.string(50)), ("tenant_id", p.id_param),
                          ("format", p.string(10, choices=FORMATS))):
        try:
            values[name] = p.query_value(args, name, convert, required=name in ("from", "to"))
        except ValidationFailed as exc:
            errors.extend(exc.details)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    return validate(get_session(), values["from"], values["to"], values["group_by"] or "room",
                            zone=values["zone"], kind=values["kind"], tenant_id=values["tenant_id"])


@bp.get("/reports/utilization")
@needs("reports.read")
def reports_utilization():
    q = query_from(request.args)
    report = utilization(get_session(), current(), q)
    fmt = request.args.get("format") or "json"
    if fmt == "json":
        return jsonify(report)
    body = to_csv(report) if fmt == "csv" else to_xlsx(report)
    return Response(body, mimetype=MIME[fmt], headers={
        "Content-Disposition": f'attachment; filename="{export_name(report, fmt)}"'})


def _enum(name: str, values) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string", "enum": list(values)}}


_ROW = {"type": "object", "properties": {
    "key": {"description": "room code, zone, kind, YYYY-MM-DD, YYYY-Www, hour 0–23, tenant id or anchor id"},
    "label": {"type": "string"},
    "bookable_minutes": {"type": "number", "nullable": True}, "booked_minutes": {"type": "number"},
    "utilization": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1},
    "prime_bookable_minutes": {"type": "number", "nullable": True},
    "prime_booked_minutes": {"type": "number", "nullable": True},
    "prime_utilization": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1},
    "used_minutes": {"type": "number", "nullable": True},
    "bookings": {"type": "integer"}, "no_shows": {"type": "integer"},
    "no_show_rate": {"type": "number", "nullable": True}, "cancellations": {"type": "integer"},
    "late_cancellations": {"type": "integer"}, "orders": {"type": "integer"},
    "gmv": {"type": "string", "example": "129.90"}, "gmv_per_booked_hour": {"type": "string", "nullable": True},
    "capacity_load": {"type": "number", "nullable": True}, "turned_away": {"type": "integer", "nullable": True}}}

SCHEMAS.update({
    "UtilizationRow": _ROW,
    "UtilizationReport": {"type": "object", "required": ["rows", "total"], "properties": {
        "group_by": {"type": "string", "enum": list(GROUPS)},
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/UtilizationRow"}},
        "total": {"$ref": "#/components/schemas/UtilizationRow"}}},
})

_report_op = _op("Utilization, used and prime time, sales and turned-away demand (managers); any other query "
                 "parameter is a 422", errors=(401, 403, 422),
                 params=[_q("from", "date", True), _q("to", "date", True), _qenum("group_by", GROUPS),
                         _qs("zone", 50), _qs("kind", 50), _qid("tenant_id"), _qenum("format", FORMATS)])
_report_op["responses"]["200"] = {"description": "OK", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/UtilizationReport"}},
    "text/csv": {"schema": {"type": "string"}},
    MIME["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}
PATHS.update({"/reports/utilization": {"get": _report_op}})
