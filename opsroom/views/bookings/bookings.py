"""Booking pages: book (once or recurring), show with history, move, confirm, cancel."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from opsroom.db import get_session
from opsroom.domain.numbers import whole_number
from opsroom.views.forms import options, BookingForm, CancelForm, EndNowForm
from opsroom.web.i18n import park_tz
from opsroom.labels import BOOKING_STATUS_LABELS
from opsroom.models import Booking
from opsroom.web.guards import permission_required
from opsroom.services.bookings.history import describe_history
from opsroom.services.park import rooms as room_service
from opsroom.services.park import tenants as tenant_service
from opsroom.services.errors import Conflict, ServiceError
from opsroom.views.helpers import apply_errors, combine_local
from opsroom.services.bookings.core import get_booking
from opsroom.services.bookings.create import create_booking
from opsroom.services.bookings.lifecycle import (
    can_end_now, cancel_booking, check_in, check_in_open, confirm_booking, end_now)
from opsroom.services.bookings.move import update_booking

bp = Blueprint("bookings", __name__, url_prefix="/bookings")

REPEAT_CHOICES = [("", _l("Does not repeat")), ("daily", _l("Daily")), ("weekly", _l("Weekly"))]
ON_CONFLICT_CHOICES = [("reject", _l("Book nothing and show the clashes")), ("skip", _l("Skip the clashing dates"))]


def booking_or_404(booking_id: int) -> Booking:
    return get_booking(get_session(), current_user, booking_id)


def _form(editing: bool = False) -> BookingForm:
    session = get_session()
    form = BookingForm()
    rooms = room_service.list_rooms(session, current_user, active=True)
    form.room_id.choices = options([(r.id, f"{r.code} · {r.name}") for r in rooms])
    tenants = tenant_service.list_tenants(session, current_user, status=None if editing else "active")
    # A new booking names its tenant on purpose: no company is chosen for the coordinator.
    form.tenant_id.choices = options(([] if editing else [("", _("Choose a tenant…"))]) + [(t.id, t.name) for t in tenants])
    form.status.choices = options([("confirmed", str(BOOKING_STATUS_LABELS["confirmed"])), ("hold", str(BOOKING_STATUS_LABELS["hold"]))])
    form.repeat.choices = options(REPEAT_CHOICES)
    form.on_conflict.choices = options(ON_CONFLICT_CHOICES)
    return form


def _window(form: BookingForm) -> tuple[datetime, datetime]:
    """Start and end from date + times; an end at or before the start is the next day."""
    starts_at = combine_local(form.day.data, form.start.data)
    ends_at = combine_local(form.day.data, form.end.data)
    if ends_at <= starts_at:
        ends_at = combine_local(form.day.data + timedelta(days=1), form.end.data)
    return starts_at, ends_at


def _recurrence(form: BookingForm) -> dict | None:
    if not form.repeat.data:
        return None
    rule = {"freq": form.repeat.data, "interval": form.interval.data or 1,
            "until": form.until.data, "count": form.count.data}
    if form.repeat.data == "weekly":
        rule["weekdays"] = form.weekdays.data or None
    return rule


def _prefill(form: BookingForm) -> None:
    args = request.args
    for field_name in ("room_id", "tenant_id"):
        if (value := whole_number(args.get(field_name))) is not None:
            getattr(form, field_name).data = value
    if args.get("title"):
        form.title.data = args["title"][:200]
    try:
        if args.get("start"):
            start = datetime.fromisoformat(args["start"])
            start = start.astimezone(park_tz()) if start.tzinfo else start
            form.day.data, form.start.data = start.date(), start.time().replace(tzinfo=None)
            end = start + timedelta(hours=2)
            if args.get("end"):
                end = datetime.fromisoformat(args["end"])
                end = end.astimezone(park_tz()) if end.tzinfo else end
            form.end.data = end.time().replace(tzinfo=None)
        elif args.get("date"):
            form.day.data = date.fromisoformat(args["date"])
    except ValueError:
        pass
    if form.start.data is None:
        form.start.data, form.end.data = time(19, 0), time(21, 0)


def _save(form, call):
    """A booking's create or move for the form: (its result, None); or (None, the
    Conflict) to show the clash and the alternatives; or (None, None) with the
    service's other refusals shown on the form's fields."""
    try:
        return call(), None
    except Conflict as exc:
        return None, exc
    except ServiceError as exc:
        apply_errors(form, exc)
        return None, None


@bp.route("/new", methods=["GET", "POST"])
@permission_required("bookings.write")
def create():
    form = _form()
    conflict = None
    if request.method == "GET":
        _prefill(form)
    elif form.validate_on_submit():
        starts_at, ends_at = _window(form)
        data = {"room_id": form.room_id.data, "tenant_id": form.tenant_id.data, "title": form.title.data or "",
                "starts_at": starts_at, "ends_at": ends_at, "status": form.status.data,
                "recurrence": _recurrence(form), "on_conflict": form.on_conflict.data}
        result, conflict = _save(form, lambda: create_booking(get_session(), current_user, data))
        if result is not None:
            if not result.bookings:
                flash(_("Every date clashed; nothing was booked."), "error")
                conflict = Conflict(_("The room is taken at this time."), [d for s in result.skipped for d in s["details"]])
            else:
                if result.skipped:
                    flash(_("%(n)s bookings made, %(m)s dates skipped because they clash.",
                            n=len(result.bookings), m=len(result.skipped)), "warning")
                else:
                    flash(_("Booked."))
                return redirect(url_for("bookings.show", booking_id=result.bookings[0].id))
    status = 409 if conflict else (422 if form.errors or request.method == "POST" else 200)
    return render_template("bookings/form.html", form=form, conflict=conflict, booking=None), status


def _cancel_form(formdata=None) -> CancelForm:
    form = CancelForm(formdata=formdata)
    form.scope.choices = options([("one", _("Only this one")), ("following", _("This and the following ones"))])
    return form


def _show(booking: Booking, *, cancel_form: CancelForm | None = None, end_form: EndNowForm | None = None,
          status: int = 200):
    """The booking's page; the actions offered are those allowed now."""
    session = get_session()
    return render_template(
        "bookings/show.html", booking=booking,
        cancel_form=cancel_form or _cancel_form(), end_form=end_form or EndNowForm(formdata=None),
        may_check_in=check_in_open(session, booking), may_end=can_end_now(booking),
        history=describe_history(session, booking)), status


@bp.get("/<int:booking_id>")
@permission_required("bookings.page")
def show(booking_id: int):
    body, _status = _show(booking_or_404(booking_id))
    return body


@bp.route("/<int:booking_id>/edit", methods=["GET", "POST"])
@permission_required("bookings.write")
def edit(booking_id: int):
    booking = booking_or_404(booking_id)
    form = _form(editing=True)
    conflict = None
    if request.method == "GET":
        local_start, local_end = booking.starts_at.astimezone(park_tz()), booking.ends_at.astimezone(park_tz())
        form.room_id.data, form.tenant_id.data, form.title.data = booking.room_id, booking.tenant_id, booking.title
        form.day.data, form.start.data, form.end.data = local_start.date(), local_start.time(), local_end.time()
    else:
        # The tenant is shown, not asked: a move keeps the booking's tenant.
        form.tenant_id.data = booking.tenant_id
    if request.method == "POST" and form.validate_on_submit():
        starts_at, ends_at = _window(form)
        saved, conflict = _save(form, lambda: update_booking(get_session(), current_user, booking_id, {
            "room_id": form.room_id.data, "title": form.title.data or "", "starts_at": starts_at, "ends_at": ends_at}))
        if saved is not None:
            flash(_("Booking saved."))
            return redirect(url_for("bookings.show", booking_id=booking_id))
    status = 409 if conflict else (422 if request.method == "POST" else 200)
    return render_template("bookings/form.html", form=form, conflict=conflict, booking=booking), status


def _action(booking_id: int, run, done_message: str):
    booking_or_404(booking_id)
    session = get_session()
    try:
        run(session)
    except ServiceError as exc:
        session.rollback()
        messages = [str(d.get("message")) for d in exc.details if d.get("message")] or [str(exc.message)]
        for m in messages:
            flash(m, "error")
    else:
        flash(done_message)
    return redirect(url_for("bookings.show", booking_id=booking_id))


@bp.post("/<int:booking_id>/confirm")
@permission_required("bookings.write")
def confirm(booking_id: int):
    return _action(booking_id, lambda s: confirm_booking(s, current_user, booking_id), _("Booking confirmed."))


@bp.post("/<int:booking_id>/cancel")
@permission_required("bookings.write")
def cancel(booking_id: int):
    booking = booking_or_404(booking_id)
    form = _cancel_form(request.form)
    if not form.validate():
        return _show(booking, cancel_form=form, status=422)
    return _action(booking_id, lambda s: cancel_booking(
        s, current_user, booking_id, reason=form.reason.data or "", scope=form.scope.data), _("Booking cancelled."))


@bp.post("/<int:booking_id>/end")
@permission_required("bookings.write")
def end(booking_id: int):
    booking = booking_or_404(booking_id)
    form = EndNowForm()
    if not form.validate():
        return _show(booking, end_form=form, status=422)
    return _action(booking_id, lambda s: end_now(s, current_user, booking_id, reason=form.reason.data),
                   _("The session was ended."))


@bp.post("/<int:booking_id>/checkin")
@permission_required("bookings.write")
def checkin(booking_id: int):
    return _action(booking_id, lambda s: check_in(s, current_user, booking_id), _("Checked in."))
