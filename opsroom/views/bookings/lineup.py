"""People and goods of a booking (人、货): anchors, lineup, copying them to the rest of a
series' week, and the printable run sheet. The booking page shows them through
templates/bookings/_people_goods.html and the `people_goods` template global
(views/people_goods/anchors.py). A form with bad input is re-shown on the booking page
with its messages (422); a broken rule or a clash comes back as flash messages that name
the rule or link to the clashing booking."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opsroom.db import get_session
from opsroom.domain.numbers import whole_number
from opsroom.web.i18n import park_tz
from opsroom.models import Booking
from opsroom.web.guards import permission_required
from opsroom.services.errors import ServiceError
from opsroom.views.bookings.bookings import booking_or_404, bp, show


from collections import defaultdict, deque

from flask import g
from flask_babel import format_datetime, format_time
from markupsafe import Markup, escape

from opsroom.views.forms import AddAnchorForm, LineupOrderForm
from opsroom.models import Anchor
from opsroom.services.people_goods import anchors as anchor_service
from opsroom.services.people_goods import assignments
from opsroom.services.errors import ValidationFailed
from opsroom.views.people_goods import anchors as people


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
    booking = booking_or_404(booking_id)
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
        form = people.anchors_form_for(session, booking_or_404(booking_id), formdata=True)
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
    booking = booking_or_404(booking_id)
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
@permission_required("lineup.write")
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
@permission_required("lineup.write")
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
@permission_required("lineup.write")
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
@permission_required("products.pages")  # prices and stock: staff, and a tenant's account for its own
def runsheet(booking_id: int):
    booking = booking_or_404(booking_id)
    return render_template("bookings/runsheet.html", booking=booking,
                           warnings={w["product_id"]: w for w in assignments.stock_warnings(booking)})
