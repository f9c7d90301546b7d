"""The forecast's pages: the booking form's forecast panel (an HTML fragment the
form's script fetches as the user picks tenant, room and time) and the managers'
page of forecast quality and capacity planning."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user

from opsroom.db import get_session
from opsroom.domain.numbers import whole_number
from opsroom.services.errors import NotFound, ValidationFailed
from opsroom.services.sales.forecast import forecast_for
from opsroom.services.sales.forecast_quality import QUALITY_HISTORY_DAYS, SCORED_LIMIT, forecast_report
from opsroom.views.helpers import combine_local
from opsroom.web.guards import permission_required

bp = Blueprint("forecast", __name__, url_prefix="/forecast")


def _window(args) -> tuple[datetime, datetime] | None:
    """The booking form's day, start and end (an end at or before the start is the next day)."""
    try:
        day = date.fromisoformat(args.get("day", ""))
        start, end = time.fromisoformat(args.get("start", "")), time.fromisoformat(args.get("end", ""))
    except ValueError:
        return None
    starts_at, ends_at = combine_local(day, start), combine_local(day, end)
    if ends_at <= starts_at:
        ends_at = combine_local(day + timedelta(days=1), end)
    return starts_at, ends_at


def _ids(raw: str) -> list[int]:
    ids = [whole_number(x) for x in raw.split(",")[:20] if x.strip()]
    return [i for i in ids if i]


@bp.get("/panel")
@permission_required("forecast.read")
def panel():
    """The booking form's forecast panel for ?tenant_id=&room_id=&day=&start=&end=[&anchor_ids=]:
    422 with an empty body until the form holds enough to forecast."""
    args = request.args
    tenant_id, room_id = whole_number(args.get("tenant_id")), whole_number(args.get("room_id"))
    window = _window(args)
    if not tenant_id or not room_id or window is None:
        return "", 422
    try:
        result = forecast_for(get_session(), current_user, tenant_id, room_id, *window,
                              _ids(args.get("anchor_ids", "")))
    except (ValidationFailed, NotFound):
        return "", 422
    return render_template("forecast/_panel.html", r=result, f=result.forecast)


@bp.get("/")
@permission_required("reports.read")
def index():
    report = forecast_report(get_session(), current_user)
    chart = {
        "tenants": [g.label for g in report.per_tenant[:30]],
        "actual": [round(g.actual, 1) for g in report.per_tenant[:30]],
        "forecast": [round(g.forecast, 1) for g in report.per_tenant[:30]],
    }
    return render_template("forecast/index.html", report=report, chart=json.dumps(chart, ensure_ascii=False),
                           limit=SCORED_LIMIT, history_days=QUALITY_HISTORY_DAYS)
