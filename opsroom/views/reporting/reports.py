"""The reports page (managers; a tenant's account sees its own tenant's report): a range and filters (a GET form), tables,
charts drawn by static/js/reports.js with the vendored ECharts, downloads."""
from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField

from opsroom import clock
from opsroom.db import get_session
from opsroom.domain.numbers import MAX_INT, whole_number
from opsroom.web.i18n import park_tz
from opsroom.models import Room, Tenant
from opsroom.web.guards import permission_required
from opsroom.services.errors import ValidationFailed
from opsroom.services.reporting.exports import export_name, to_csv, to_xlsx
from opsroom.services.reporting.query import GROUPS, Query, heatmap, utilization, validate

bp = Blueprint("reports", __name__, url_prefix="/reports")

RANKING_SIZE = 10
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FIELD_OF = {"from": "start", "to": "end", "tenant_id": "tenant_id", "zone": "zone", "kind": "kind"}


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that only reads

    # Not "From"/"To": those msgids are an email's sender and recipient (收件人).
    start = DateField(_l("First day"), name="from")
    end = DateField(_l("Last day"), name="to")
    zone = SelectField(_l("Zone"), choices=[], validate_choice=False)
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False)
    tenant_id = SelectField(_l("Tenant"), choices=[], validate_choice=False)


def _form():
    session = get_session()
    form = ReportForm(request.args)
    today = clock.now().astimezone(park_tz()).date()
    if not request.args.get("from"):
        form.start.data = today - timedelta(days=27)
    if not request.args.get("to"):
        form.end.data = today
    zones = sorted(set(session.scalars(sa.select(Room.zone))))
    kinds = sorted(set(session.scalars(sa.select(Room.kind))))
    form.zone.choices = [("", _l("All zones"))] + [(z, z) for z in zones if z]
    form.kind.choices = [("", _l("All kinds"))] + [(k, k) for k in kinds if k]
    if current_user.role == "tenant":
        # A tenant's account: its own report only, the filter forced (the picker is not shown).
        form.tenant_id.data = str(current_user.tenant_id)
        form.tenant_id.choices = [(str(current_user.tenant_id), current_user.tenant.name)]
        return form
    form.tenant_id.choices = [("", _l("All tenants"))] + [
        (str(t.id), t.name) for t in session.scalars(sa.select(Tenant).order_by(Tenant.name))]
    return form


def _query(form) -> Query | None:
    """The form's query, or None with the errors shown on its fields."""
    if not form.validate():
        return None
    raw = form.tenant_id.data or None
    tenant = whole_number(raw, maximum=MAX_INT) if raw else None
    if raw and not tenant:
        form.tenant_id.errors = [str(_l("No such tenant."))]
        return None
    try:
        return validate(get_session(), form.start.data, form.end.data, "room", zone=form.zone.data or None,
                                kind=form.kind.data or None, tenant_id=tenant)
    except ValidationFailed as exc:
        for d in exc.details:
            field = getattr(form, FIELD_OF.get(d["field"], ""), None) or form.start
            field.errors = list(field.errors) + [str(d["message"])]
        return None


def _args(q: Query, **extra) -> dict:
    args = {"from": q.first.isoformat(), "to": q.last.isoformat()}
    if q.zone:
        args["zone"] = q.zone
    if q.kind:
        args["kind"] = q.kind
    if q.tenant_id:
        args["tenant_id"] = q.tenant_id
    args.update(extra)
    return args


WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


@bp.get("/")
@permission_required("reports.own")
def index():
    form = _form()
    q = _query(form)
    if q is None:
        return render_template("reports/index.html", form=form, q=None), 422 if request.args else 200
    session, user = get_session(), current_user
    by = {}
    for group in ("room", "week", "hour", "tenant", "anchor"):
        by[group] = utilization(session, user, Query(q.first, q.last, group, q.zone, q.kind,
                                                                       q.tenant_id))
    heat = heatmap(session, user, q)
    charts = {
        "heatmap": {"weekdays": [str(d) for d in WEEKDAYS], "hours": [f"{h:02d}" for h in range(24)],
                    "cells": [[c["hour"], c["weekday"], None if c["utilization"] is None else
                               round(c["utilization"] * 100, 1), int(c["few_open"]), _pct(c["open_share"])]
                              for c in heat["cells"]],
                    "label": str(_l("Utilization %"))},
        "rooms": {"keys": [r["key"] for r in by["room"]["rows"]],
                  "values": [_pct(r["utilization"]) for r in by["room"]["rows"]], "label": str(_l("Utilization %"))},
        "weeks": {"keys": [r["key"] for r in by["week"]["rows"]],
                  "values": [_pct(r["utilization"]) for r in by["week"]["rows"]],
                  "prime": [_pct(r["prime_utilization"]) for r in by["week"]["rows"]],
                  "label": str(_l("Utilization %")), "prime_label": str(_l("Prime-time utilization %"))},
        "turned": {"keys": [r["label"] for r in by["hour"]["rows"]],
                   "values": [r["turned_away"] for r in by["hour"]["rows"]], "label": str(_l("Turned away"))},
    }
    downloads = {g: {fmt: url_for("reports.export", **_args(q, group_by=g, format=fmt)) for fmt in ("csv", "xlsx")}
                 for g in GROUPS}
    return render_template("reports/index.html", form=form, q=q, by=by, total=by["room"]["total"],
                           tenants=by["tenant"]["rows"][:RANKING_SIZE], anchors=by["anchor"]["rows"][:RANKING_SIZE],
                           charts=json.dumps(charts, ensure_ascii=False), downloads=downloads, groups=GROUPS,
                           heat_few_share=heat["few_open_share"])


def _pct(value):
    return None if value is None else round(value * 100, 1)


@bp.get("/export")
@permission_required("reports.own")
def export():
    """The same rows as the API, as a CSV or XLSX download."""
    form = _form()
    q = _query(form)
    group, fmt = request.args.get("group_by", "room"), request.args.get("format", "csv")
    if q is None or group not in GROUPS or fmt not in ("csv", "xlsx"):
        return render_template("reports/index.html", form=form, q=None), 422
    report = utilization(get_session(), current_user, Query(q.first, q.last, group, q.zone, q.kind,
                                                                            q.tenant_id))
    body = to_csv(report) if fmt == "csv" else to_xlsx(report)
    return Response(body, mimetype=MIME[fmt], headers={
        "Content-Disposition": f'attachment; filename="{export_name(report, fmt)}"'})
