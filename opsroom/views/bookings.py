"""Booking pages: book (once or recurring), show with history, move, confirm, cancel."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from opsroom.db import get_session
from opsroom.domain.numbers import whole_number
from opsroom.forms import options, BookingForm, CancelForm
from opsroom.i18n import park_tz
from opsroom.labels import BOOKING_STATUS_LABELS
from opsroom.models import Booking
from opsroom.web.guards import permission_required
from opsroom.services import audit
from opsroom.services.park import rooms as room_service
from opsroom.services.park import tenants as tenant_service
from opsroom.services.errors import Conflict, NotFound, ServiceError
from opsroom.views import apply_errors, combine_local

bp = Blueprint("bookings", __name__, url_prefix="/bookings")

REPEAT_CHOICES = [("", _l("Does not repeat")), ("daily", _l("Daily")), ("weekly", _l("Weekly"))]
ON_CONFLICT_CHOICES = [("reject", _l("Book nothing and show the clashes")), ("skip", _l("Skip the clashing dates"))]


def _booking_or_404(booking_id: int) -> Booking:
    try:
        return get_booking(get_session(), current_user, booking_id)
    except NotFound:
        abort(404)


def _form(editing: bool = False) -> BookingForm:
    session = get_session()
    form = BookingForm()
    rooms = room_service.list_rooms(session, current_user, active=True)
    form.room_id.choices = options([(r.id, f"{r.code} · {r.name}") for r in rooms])
    tenants = tenant_service.list_tenants(session, current_user, status=None if editing else "active")
    form.tenant_id.choices = options([(t.id, t.name) for t in tenants])
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
        session = get_session()
        try:
            result = create_booking(session, current_user, data)
        except Conflict as exc:
            session.rollback()
            conflict = exc
        except ServiceError as exc:
            session.rollback()
            apply_errors(form, exc)
        else:
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


@bp.get("/<int:booking_id>")
@permission_required("board.read")
def show(booking_id: int):
    booking = _booking_or_404(booking_id)
    cancel_form = CancelForm(formdata=None)
    cancel_form.scope.choices = options([("one", _("Only this one")), ("following", _("This and the following ones"))])
    return render_template("bookings/show.html", booking=booking, cancel_form=cancel_form,
                           history=audit.history(get_session(), "booking", booking.id))


@bp.route("/<int:booking_id>/edit", methods=["GET", "POST"])
@permission_required("bookings.write")
def edit(booking_id: int):
    booking = _booking_or_404(booking_id)
    form = _form(editing=True)
    conflict = None
    if request.method == "GET":
        local_start, local_end = booking.starts_at.astimezone(park_tz()), booking.ends_at.astimezone(park_tz())
        form.room_id.data, form.tenant_id.data, form.title.data = booking.room_id, booking.tenant_id, booking.title
        form.day.data, form.start.data, form.end.data = local_start.date(), local_start.time(), local_end.time()
    elif form.validate_on_submit():
        starts_at, ends_at = _window(form)
        session = get_session()
        try:
            update_booking(session, current_user, booking_id, {
                "room_id": form.room_id.data, "title": form.title.data or "",
                "starts_at": starts_at, "ends_at": ends_at})
        except Conflict as exc:
            session.rollback()
            conflict = exc
        except ServiceError as exc:
            session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("Booking saved."))
            return redirect(url_for("bookings.show", booking_id=booking_id))
    status = 409 if conflict else (422 if request.method == "POST" else 200)
    return render_template("bookings/form.html", form=form, conflict=conflict, booking=booking), status


def _action(booking_id: int, run, done_message: str):
    _booking_or_404(booking_id)
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
    form = CancelForm()
    form.scope.choices = options([("one", "one"), ("following", "following")])
    if not form.validate():
        abort(400)
    return _action(booking_id, lambda s: cancel_booking(
        s, current_user, booking_id, reason=form.reason.data or "", scope=form.scope.data), _("Booking cancelled."))


@bp.post("/<int:booking_id>/checkin")
@permission_required("bookings.write")
def checkin(booking_id: int):
    return _action(booking_id, lambda s: check_in(s, current_user, booking_id), _("Checked in."))


# ---------------------------------------------------------------------------
# People and goods of a booking (人、货): anchors, lineup, copying them to the
# rest of a series' week, and the printable run sheet. The booking page shows
# them through templates/bookings/_people_goods.html and the `people_goods`
# template global (views/anchors.py). A form with bad input is re-shown on the
# booking page with its messages (422); a broken rule or a clash comes back as
# flash messages that name the rule or link to the clashing booking.
from collections import defaultdict, deque  # noqa: E402

from flask import g  # noqa: E402
from flask_babel import format_datetime, format_time  # noqa: E402
from markupsafe import Markup, escape  # noqa: E402

from opsroom.forms import AddAnchorForm, LineupOrderForm  # noqa: E402
from opsroom.models import Anchor  # noqa: E402
from opsroom.services.people_goods import anchors as anchor_service  # noqa: E402
from opsroom.services.people_goods import assignments  # noqa: E402
from opsroom.services.errors import ValidationFailed  # noqa: E402
from opsroom.views import anchors as people  # noqa: E402
from opsroom.services.bookings.core import get_booking
from opsroom.services.bookings.create import create_booking
from opsroom.services.bookings.lifecycle import cancel_booking, check_in, confirm_booking
from opsroom.services.bookings.move import update_booking


def _reshow(booking_id: int, status: int, **forms):
    """The booking page again, with the given people-and-goods forms and their errors."""
    g.people_goods_forms = forms
    try:
        return show(booking_id), status
    finally:
        g.pop("people_goods_forms", None)


def _booking_link(booking_id: int) -> Markup:
    return Markup('<a href="{}">{}</a>').format(
        url_for("bookings.show", booking_id=booking_id), _("booking #%(id)s", id=booking_id))


def _clash_message(detail: dict) -> Markup | str:
    """An anchor clash as a message linking to the other booking."""
    anchor = get_session().get(Anchor, detail.get("anchor_id") or 0)
    try:
        start, end = datetime.fromisoformat(detail["starts_at"]), datetime.fromisoformat(detail["ends_at"])
    except (KeyError, TypeError, ValueError):
        return _("An anchor is in another session at this time.")
    template = Markup(escape(_("%(anchor)s is already in %(booking)s, %(start)s – %(end)s.")))
    return template % {"anchor": anchor.name if anchor else "?", "booking": _booking_link(detail["booking_id"]),
                       "start": format_datetime(start, "short"), "end": format_time(end, "HH:mm")}


def _flash_error(error: ServiceError | dict, prefix: Markup | str = "") -> None:
    """Flash a service error: clashes link to the other booking, rules say which rule."""
    body = error.body()["error"] if isinstance(error, ServiceError) else error
    shown = False
    for detail in body.get("details") or []:
        if detail.get("kind") == "anchor" and detail.get("booking_id"):
            message = _clash_message(detail)
        elif detail.get("message"):
            message = str(detail["message"])
        else:
            continue
        flash(Markup(escape(prefix)) + message if prefix else message, "error")
        shown = True
    if not shown:
        flash(Markup(escape(prefix)) + str(body.get("message", "")) if prefix else str(body.get("message", "")), "error")


def _editable_or_404(booking_id: int) -> Booking:
    booking = _booking_or_404(booking_id)
    if not booking.is_active:
        flash(_("This booking can no longer be changed."), "error")
        abort(redirect(url_for("bookings.show", booking_id=booking_id)))
    return booking


@bp.post("/<int:booking_id>/anchors")
@permission_required("bookings.write")
def set_anchors(booking_id: int):
    session = get_session()
    booking = _editable_or_404(booking_id)
    form = people.anchors_form_for(session, booking, formdata=True)
    if not form.validate_on_submit():
        return _reshow(booking_id, 422, anchors=form)
    used = [slot for slot in form.slots if slot.anchor_id.data]
    entries = [{"anchor_id": slot.anchor_id.data, "role": slot.role.data} for slot in used]
    try:
        assignments.set_anchors(session, current_user, booking_id, entries)
    except ValidationFailed as exc:
        session.rollback()
        form = people.anchors_form_for(session, _booking_or_404(booking_id), formdata=True)
        form.validate()
        used = [slot for slot in form.slots if slot.anchor_id.data]
        for detail in exc.details:
            index, _sep, name = str(detail.get("field", "")).removeprefix("anchors[").partition("].")
            if index.isdigit() and int(index) < len(used) and name in ("anchor_id", "role"):
                used[int(index)][name].errors = list(used[int(index)][name].errors) + [str(detail["message"])]
            else:
                flash(str(detail.get("message", exc.message)), "error")
        return _reshow(booking_id, 422, anchors=form)
    except ServiceError as exc:
        session.rollback()
        _flash_error(exc)
    else:
        flash(_("Anchors saved."))
    return redirect(url_for("bookings.show", booking_id=booking_id) + "#people")


@bp.get("/<int:booking_id>/free-anchors")
@permission_required("bookings.write")
def free_anchors(booking_id: int):
    booking = _booking_or_404(booking_id)
    # Everyone free as an assistant; the host button is offered to verified ones.
    anchors = anchor_service.free_anchors(get_session(), current_user, booking.starts_at, booking.ends_at,
                                          role="assistant", tenant_id=booking.tenant_id)
    return render_template("anchors/free.html", booking=booking, anchors=anchors,
                           add_form=AddAnchorForm(formdata=None))


@bp.post("/<int:booking_id>/anchors/add")
@permission_required("bookings.write")
def add_anchor(booking_id: int):
    booking = _editable_or_404(booking_id)
    form = AddAnchorForm()
    form.role.choices = people.role_choices()
    if not form.validate_on_submit():
        flash(_("Choose an anchor and a role."), "error")
        return redirect(url_for("bookings.free_anchors", booking_id=booking_id))
    entries = [{"anchor_id": a.anchor_id, "role": a.role} for a in booking.assignments
               if a.anchor_id != form.anchor_id.data]
    entries.append({"anchor_id": form.anchor_id.data, "role": form.role.data})
    session = get_session()
    try:
        assignments.set_anchors(session, current_user, booking_id, entries)
    except ServiceError as exc:
        session.rollback()
        _flash_error(exc)
        return redirect(url_for("bookings.free_anchors", booking_id=booking_id))
    flash(_("Anchor added."))
    return redirect(url_for("bookings.show", booking_id=booking_id) + "#people")


def _lineup_entries(booking: Booking) -> list[dict]:
    return [{"product_id": i.product_id, "planned_start": i.planned_start, "planned_end": i.planned_end,
             "planned_quantity": i.planned_quantity} for i in booking.lineup]


def _save_lineup(booking_id: int, items: list[dict], done: str):
    session = get_session()
    try:
        assignments.set_lineup(session, current_user, booking_id, items)
    except ServiceError as exc:
        session.rollback()
        _flash_error(exc)
    else:
        flash(done)
    return redirect(url_for("bookings.show", booking_id=booking_id) + "#goods")


def _in_session(booking: Booking, at: time | None) -> datetime | None:
    """A clock time (HH:MM) as the instant it falls on during the session,
    which may run past midnight."""
    if at is None:
        return None
    start = booking.starts_at.astimezone(park_tz())
    when = datetime.combine(start.date(), at, tzinfo=park_tz())
    return when + timedelta(days=1) if when < start else when


@bp.post("/<int:booking_id>/lineup/add")
@permission_required("bookings.write")
def lineup_add(booking_id: int):
    session = get_session()
    booking = _editable_or_404(booking_id)
    form = people.lineup_form_for(session, booking, formdata=True)
    if form.validate_on_submit():
        items = _lineup_entries(booking)
        planned_start, planned_end = _in_session(booking, form.planned_start.data), _in_session(booking, form.planned_end.data)
        if any(i["product_id"] == form.product_id.data for i in items):
            form.product_id.errors.append(_("This product is in the lineup already."))
        else:
            items.append({"product_id": form.product_id.data, "planned_start": planned_start,
                          "planned_end": planned_end, "planned_quantity": form.planned_quantity.data})
            try:
                assignments.set_lineup(session, current_user, booking_id, items)
            except ServiceError as exc:
                session.rollback()
                times = [d for d in exc.details if d.get("rule") == "planned_times"]  # the service's rule
                for detail in times:
                    if detail["field"].endswith("planned_end"):
                        form.planned_end.errors.append(str(detail["message"]))
                    else:
                        form.planned_start.errors.append(_("Planned times must lie inside the session (%(start)s–%(end)s).",
                                                           start=format_time(booking.starts_at, "HH:mm"),
                                                           end=format_time(booking.ends_at, "HH:mm")))
                if not times:
                    _flash_error(exc)
                    return redirect(url_for("bookings.show", booking_id=booking_id) + "#goods")
            else:
                flash(_("Product added to the lineup."))
                return redirect(url_for("bookings.show", booking_id=booking_id) + "#goods")
    return _reshow(booking_id, 422, lineup=form)


@bp.post("/<int:booking_id>/lineup/<int:item_id>/<any(up, down, remove):action>")
@permission_required("bookings.write")
def lineup_item(booking_id: int, item_id: int, action: str):
    booking = _editable_or_404(booking_id)
    ids = [i.id for i in booking.lineup]
    if item_id not in ids:
        flash(_("The lineup has changed meanwhile; please try again."), "error")
        return redirect(url_for("bookings.show", booking_id=booking_id) + "#goods")
    items, n = _lineup_entries(booking), ids.index(item_id)
    if action == "remove":
        del items[n]
        return _save_lineup(booking_id, items, _("Product removed from the lineup."))
    other = n - 1 if action == "up" else n + 1
    if 0 <= other < len(items):
        items[n], items[other] = items[other], items[n]
    return _save_lineup(booking_id, items, _("Lineup order saved."))


@bp.post("/<int:booking_id>/lineup/order")
@permission_required("bookings.write")
def lineup_order(booking_id: int):
    booking = _editable_or_404(booking_id)
    form = LineupOrderForm()
    by_product: dict[int, deque] = defaultdict(deque)
    for entry in _lineup_entries(booking):
        by_product[entry["product_id"]].append(entry)
    order = [n for x in (form.order.data or "").split(",") if (n := whole_number(x)) is not None]
    if not form.validate_on_submit() or sorted(order) != sorted(i.product_id for i in booking.lineup):
        flash(_("The lineup has changed meanwhile; please try again."), "error")
        return redirect(url_for("bookings.show", booking_id=booking_id) + "#goods")
    return _save_lineup(booking_id, [by_product[pid].popleft() for pid in order], _("Lineup order saved."))


@bp.post("/<int:booking_id>/copy")
@permission_required("bookings.write")
def copy_setup(booking_id: int):
    session = get_session()
    booking = _editable_or_404(booking_id)
    targets = people.series_week(session, booking)
    form = people.copy_form_for(booking, targets, formdata=True)
    if not form.validate_on_submit():
        return _reshow(booking_id, 422, copy=form)
    target_ids = [b.id for b in targets] if form.whole_week.data else list(form.targets.data or [])
    if not target_ids:
        form.targets.errors = list(form.targets.errors) + [_("Choose at least one booking.")]
        return _reshow(booking_id, 422, copy=form)
    results = assignments.copy_setup(session, current_user, booking_id, target_ids)
    for result in results:
        link = _booking_link(result["booking_id"])
        if result["ok"]:
            flash(Markup(escape(_("Copied to %(booking)s."))) % {"booking": link})
        else:
            _flash_error(result["error"], prefix=Markup(escape(_("Not copied to %(booking)s: "))) % {"booking": link})
    return redirect(url_for("bookings.show", booking_id=booking_id) + "#copy")


@bp.get("/<int:booking_id>/runsheet")
@permission_required("products.read")  # staff only: prices and stock
def runsheet(booking_id: int):
    booking = _booking_or_404(booking_id)
    return render_template("bookings/runsheet.html", booking=booking,
                           warnings={w["product_id"]: w for w in assignments.stock_warnings(booking)})
