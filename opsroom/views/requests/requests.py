"""Requests (预约申请) as pages: a tenant asks and follows its requests (withdraw,
wait, accept an offer); coordinators work the queue (oldest first, with age,
the tenant's priority and what fits now) and approve or reject with a reason."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opsroom.db import get_session
from opsroom.labels import REQUEST_STATUS_LABELS
from opsroom.services.errors import NotFound, ServiceError
from opsroom.services.park import rooms as room_service
from opsroom.services.park import tenants as tenant_service
from opsroom.services.requests import core, flow
from opsroom.services.requests import waitlist  # noqa: F401  (the waitlist listens for freed time)
from opsroom.views.forms import ApproveForm, PostForm, RejectForm, RequestForm, options
from opsroom.views.helpers import attempt
from opsroom.web.guards import permission_required
from opsroom.web.i18n import park_tz

bp = Blueprint("requests", __name__, url_prefix="/requests")


@bp.app_context_processor
def _labels():
    return {"request_status_label": lambda s: REQUEST_STATUS_LABELS.get(s, s)}


def _form() -> RequestForm:
    session = get_session()
    form = RequestForm()
    rooms = room_service.list_rooms(session, current_user)
    form.room_id.choices = options([(0, _("Any room of the kind and zone"))] +
                                   [(r.id, f"{r.code} {r.name}") for r in rooms if r.active])
    form.room_kind.choices = options([("", _("Any kind"))] + [(k, k) for k in sorted({r.kind for r in rooms if r.kind})])
    form.zone.choices = options([("", _("Any zone"))] + [(z, z) for z in sorted({r.zone for r in rooms if r.zone})])
    if current_user.role == "tenant":
        del form.tenant_id
    else:
        form.tenant_id.choices = options([(t.id, t.name) for t in tenant_service.list_tenants(session, current_user)])
    return form


def _data(form: RequestForm) -> dict:
    data = {"room_id": form.room_id.data or None, "room_kind": form.room_kind.data or None,
            "zone": form.zone.data or None, "date": form.day.data, "window_start": form.window_start.data,
            "window_end": form.window_end.data, "minutes": form.minutes.data or None,
            "note": (form.note.data or "").strip(), "anchors": []}
    if getattr(form, "tenant_id", None) is not None:
        data["tenant_id"] = form.tenant_id.data
    return data


@bp.get("/")
@permission_required("requests.read")
def index():
    """Staff: the queue of open requests; a tenant's account: its own requests."""
    session = get_session()
    if current_user.role == "tenant":
        rows = list(reversed(core.list_requests(session, current_user)))
        return render_template("requests/mine.html", requests=rows, post_form=PostForm())
    return render_template("requests/queue.html", queue=core.queue_rows(session, current_user))


@bp.route("/new", methods=["GET", "POST"])
@permission_required("requests.write")
def create():
    form = _form()
    if form.validate_on_submit():
        ok, result = attempt(form, lambda: flow.create_request(get_session(), current_user, _data(form)))
        if ok:
            flash(_("Request #%(id)s sent.", id=result[0].id))
            return redirect(url_for("requests.show", request_id=result[0].id))
    return render_template("requests/form.html", form=form), 422 if form.errors else 200


@bp.get("/<int:request_id>")
@permission_required("requests.read")
def show(request_id: int):
    session = get_session()
    (row,) = core.with_fits(session, [core.get_request(session, current_user, request_id)])
    req, fits = row["req"], row["fits"]
    approve_form = ApproveForm(formdata=None)
    tz = park_tz()
    approve_form.place.choices = options([("", _("The first that fits"))] + [
        (f"{f.room.id}@{f.slot.start.isoformat()}",
         f"{f.room.code} {f.slot.start.astimezone(tz):%m-%d %H:%M}–{f.slot.end.astimezone(tz):%H:%M}") for f in fits])
    return render_template("requests/show.html", req=req, fits=fits, approve_form=approve_form,
                           reject_form=RejectForm(formdata=None), post_form=PostForm(),
                           may_decide=core.is_staff(current_user))


def _back(request_id: int):
    return redirect(url_for("requests.show", request_id=request_id))


def _run(request_id: int, call, done: str):
    try:
        call()
        flash(done)
    except NotFound:  # another tenant's request: the 404 page, ids reveal nothing
        raise
    except ServiceError as exc:
        flash(str(exc.message), "error")
        for d in exc.details[:5]:
            if d.get("message"):
                flash(str(d["message"]), "error")
    return _back(request_id)


@bp.post("/<int:request_id>/approve")
@permission_required("requests.decide")
def approve(request_id: int):
    form = ApproveForm()
    form.place.choices = []
    if not form.validate_on_submit():
        abort(400)
    room_id = starts_at = None
    if form.place.data:
        room, _sep, start = form.place.data.partition("@")
        try:
            room_id, starts_at = int(room), datetime.fromisoformat(start)
        except ValueError:
            abort(400)
        if starts_at.tzinfo is None:
            abort(400)
    return _run(request_id, lambda: flow.approve(get_session(), current_user, request_id, room_id=room_id,
                                                 starts_at=starts_at,
                                                 override_reason=(form.override_reason.data or "").strip() or None),
                _("Request #%(id)s approved.", id=request_id))


@bp.post("/<int:request_id>/reject")
@permission_required("requests.decide")
def reject(request_id: int):
    form = RejectForm()
    if not form.validate_on_submit():
        flash(_("Give a reason."), "error")
        return _back(request_id)
    return _run(request_id, lambda: flow.reject(get_session(), current_user, request_id, reason=form.reason.data),
                _("Request #%(id)s rejected.", id=request_id))


@bp.post("/<int:request_id>/withdraw")
@permission_required("requests.write")
def withdraw(request_id: int):
    if not PostForm().validate_on_submit():
        abort(400)
    return _run(request_id, lambda: flow.withdraw(get_session(), current_user, request_id),
                _("Request #%(id)s withdrawn.", id=request_id))


@bp.post("/<int:request_id>/wait")
@permission_required("requests.write")
def wait(request_id: int):
    if not PostForm().validate_on_submit():
        abort(400)
    return _run(request_id, lambda: flow.wait(get_session(), current_user, request_id),
                _("Request #%(id)s is on the waitlist.", id=request_id))


@bp.post("/<int:request_id>/accept")
@permission_required("requests.write")
def accept(request_id: int):
    if not PostForm().validate_on_submit():
        abort(400)
    return _run(request_id, lambda: flow.accept(get_session(), current_user, request_id),
                _("The offered slot is yours: request #%(id)s approved.", id=request_id))
