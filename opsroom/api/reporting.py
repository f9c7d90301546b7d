"""Managers' reports: utilization grouped by room, zone, kind, day, week, hour of
day, tenant or anchor, as JSON, CSV or XLSX."""
from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import lazy_gettext as _l

from opsroom.api import parse as p
from opsroom.api.base import bp, current, needs, operation
from opsroom.db import get_session
from opsroom.services.errors import ValidationFailed
from opsroom.services.reporting.exports import FORMATS, export_name, to_csv, to_xlsx
from opsroom.services.reporting.query import GROUPS, utilization, validate

MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
REPORT_QUERY = {
    "from": p.F(p.day, required=True), "to": p.F(p.day, required=True),
    "group_by": p.F(p.string(20, choices=GROUPS)), "zone": p.F(p.string(50)), "kind": p.F(p.string(50)),
    "tenant_id": p.F(p.id_param), "format": p.F(p.string(10, choices=FORMATS)),
}

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

SCHEMAS = {
    "UtilizationRow": _ROW,
    "UtilizationReport": {"type": "object", "required": ["rows", "total"], "properties": {
        "group_by": {"type": "string", "enum": list(GROUPS)},
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/UtilizationRow"}},
        "total": {"$ref": "#/components/schemas/UtilizationRow"}}},
}


@bp.get("/reports/utilization")
@needs("reports.own")
@operation("Utilization, used and prime time, sales and turned-away demand (managers; a tenant's account: "
           "its own tenant's, whatever tenant_id says); any other query parameter is a 422", query=REPORT_QUERY, errors=(401, 403, 422), responses={
               "200": {"description": "OK", "content": {
                   "application/json": {"schema": {"$ref": "#/components/schemas/UtilizationReport"}},
                   "text/csv": {"schema": {"type": "string"}},
                   MIME["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}},
               "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
               "422": {"$ref": "#/components/responses/Error"}})
def reports_utilization():
    unknown = [{"field": name, "message": _l("Unknown parameter.")} for name in sorted(set(request.args) - set(REPORT_QUERY))]
    try:
        q = p.query(request.args, REPORT_QUERY)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, unknown + exc.details) from None
    if unknown:
        raise ValidationFailed(_l("Please correct the marked fields."), unknown)
    report = utilization(get_session(), current(), validate(
        get_session(), q["from"], q["to"], q["group_by"] or "room", zone=q["zone"], kind=q["kind"],
        tenant_id=q["tenant_id"]))
    fmt = q["format"] or "json"
    if fmt == "json":
        return jsonify(report)
    body = to_csv(report) if fmt == "csv" else to_xlsx(report)
    return Response(body, mimetype=MIME[fmt], headers={
        "Content-Disposition": f'attachment; filename="{export_name(report, fmt)}"'})
