"""The month planner as pages (docs/planner.md): start a run for a month, watch
its progress (the page polls the run's status), then review the draft: placed
requests (accept all or the chosen ones, pin chosen ones and re-run) and the
unplaced ones with the reason and the nearest free alternatives. The draft is
also drawn on the booking board (`/board/?plan=<id>`)."""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opsroom.db import get_session
from opsroom.domain import hours
from opsroom.domain.intervals import Interval
from opsroom.labels import PLAN_STATUS_LABELS
from opsroom.services.errors import ServiceError
from opsroom.services.planning import accept as accepting
from opsroom.services.planning import runs
from opsroom.views.forms import PostForm
from opsroom.web.guards import permission_required
from opsroom.web.i18n import local_date_today

bp = Blueprint("plans", __name__, url_prefix="/plans")


@bp.app_context_processor
def _labels():
    return {"plan_status_label": lambda s: PLAN_STATUS_LABELS.get(s, s)}


def board_drafts(plan_id: int, lanes, columns) -> dict[int, list[dict]]:
    """The draft's sessions on the board's lanes (room → [{cols, label}]); a
    request already accepted is booked and drawn as a booking instead."""
    plan = runs.get(get_session(), current_user, plan_id)
    accepted = set(plan.accepted or [])
    rooms = {lane.room.id: lane for lane in lanes}
    out: dict[int, list[dict]] = {}
    for p in (plan.result or {}).get("placed", []):
        lane = rooms.get(p["room_id"])
        if lane is None or p["request_id"] in accepted:
            continue
        start, end = datetime.fromisoformat(p["starts_at"]), datetime.fromisoformat(p["ends_at"])
        cols = columns(Interval(start, end), lane.window)
        if cols:
            out.setdefault(p["room_id"], []).append(
                {"cols": cols, "label": _("Draft: request #%(id)s", id=p["request_id"])})
    return out


def _status_json(plan) -> dict:
    progress = plan.progress or {}
    return {"id": plan.id, "status": plan.status, "placed": progress.get("placed", 0),
            "objective": progress.get("objective", 0), "bound": progress.get("bound", 0), "gap": progress.get("gap"),
            "phase": progress.get("phase", "")}


def _flash_error(exc: ServiceError) -> None:
    flash(str(exc.message), "error")
    for d in exc.details[:5]:
        if d.get("message"):
            flash(str(d["message"]), "error")


@bp.get("/")
@permission_required("plans.read")
def index():
    today = local_date_today()
    nxt = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return render_template("plans/index.html", plans=runs.list_plans(get_session(), current_user),
                           form=PostForm(), month=nxt.strftime("%Y-%m"), limit=runs.DEFAULT_TIME_LIMIT,
                           max_limit=runs.MAX_TIME_LIMIT)


@bp.post("/")
@permission_required("plans.write")
def create():
    if not PostForm().validate_on_submit():
        abort(400)
    month = hours.parse_month(request.form.get("month", ""))
    try:
        limit = int(request.form.get("time_limit_seconds") or runs.DEFAULT_TIME_LIMIT)
    except ValueError:
        limit = 0
    if month is None:
        flash(_("Choose a month."), "error")
        return redirect(url_for("plans.index"))
    try:
        plan = runs.start(get_session(), current_user, month,
                          time_limit_seconds=limit)
    except ServiceError as exc:
        _flash_error(exc)
        return redirect(url_for("plans.index"))
    current_app.extensions["opsroom.planner"].submit(plan.id)
    return redirect(url_for("plans.show", plan_id=plan.id))


@bp.get("/<int:plan_id>")
@permission_required("plans.read")
def show(plan_id: int):
    draft = runs.review(get_session(), current_user, plan_id)
    return render_template("plans/show.html", status=_status_json(draft["plan"]), form=PostForm(), **draft)


@bp.get("/<int:plan_id>/status")
@permission_required("plans.read")
def status(plan_id: int):
    """The run's progress for the page's poller."""
    return jsonify(_status_json(runs.get(get_session(), current_user, plan_id)))


def _ids(name: str) -> list[int]:
    try:
        return sorted({int(v) for v in request.form.getlist(name)})
    except ValueError:
        abort(400)


@bp.post("/<int:plan_id>/accept")
@permission_required("plans.write")
def accept(plan_id: int):
    if not PostForm().validate_on_submit():
        abort(400)
    chosen = None if request.form.get("all") else _ids("request_id")
    if chosen is not None and not chosen:
        flash(_("Choose the requests to accept."), "error")
        return redirect(url_for("plans.show", plan_id=plan_id))
    try:
        out = accepting.accept(get_session(), current_user, plan_id, chosen)
    except ServiceError as exc:
        _flash_error(exc)
        return redirect(url_for("plans.show", plan_id=plan_id))
    flash(_("%(n)s bookings made.", n=out["created"]))
    for c in out["conflicts"]:
        flash(_("Request #%(id)s not accepted: %(why)s", id=c["request_id"], why=c.get("message", "")), "error")
    return redirect(url_for("plans.show", plan_id=plan_id))


@bp.post("/<int:plan_id>/rerun")
@permission_required("plans.write")
def rerun(plan_id: int):
    if not PostForm().validate_on_submit():
        abort(400)
    pins = []
    for v in request.form.getlist("pin"):
        rid, _sep, day = v.partition("@")
        try:
            pins.append((int(rid), date.fromisoformat(day).isoformat()))
        except ValueError:
            abort(400)
    try:
        plan = runs.rerun(get_session(), current_user, plan_id, pin=pins)
    except ServiceError as exc:
        _flash_error(exc)
        return redirect(url_for("plans.show", plan_id=plan_id))
    current_app.extensions["opsroom.planner"].submit(plan.id)
    return redirect(url_for("plans.show", plan_id=plan.id))


@bp.post("/<int:plan_id>/cancel")
@permission_required("plans.write")
def cancel(plan_id: int):
    if not PostForm().validate_on_submit():
        abort(400)
    try:
        runs.cancel(get_session(), current_user, plan_id)
        flash(_("The run was stopped; the best draft so far is kept."))
    except ServiceError as exc:
        _flash_error(exc)
    return redirect(url_for("plans.show", plan_id=plan_id))
