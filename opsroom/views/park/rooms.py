"""Rooms and blackouts: everyone reads, admins and managers write."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opsroom import clock
from opsroom.db import get_session
from opsroom.views.forms import BlackoutForm, RoomForm, zone_field_name, zone_order_form
from opsroom.web.guards import permission_required
from opsroom.services.park import rooms as service
from opsroom.services.park import zones as zone_service
from opsroom.services.errors import ServiceError
from opsroom.views.helpers import apply_errors, attempt, local_instant, room_filters

bp = Blueprint("rooms", __name__, url_prefix="/rooms")


def _room_or_404(room_id: int):
    return service.get_room(get_session(), current_user, room_id)


def _equipment(data) -> list[str]:
    # A POST without the field keeps the room's own list (the form was built from the room).
    text = ",".join(data) if isinstance(data, list) else (data or "")
    return [e.strip() for e in text.replace("，", ",").split(",") if e.strip()]


def _form_data(form: RoomForm) -> dict:
    return {
        "code": form.code.data.strip(),
        "name": form.name.data.strip(),
        "zone": (form.zone.data or "").strip(),
        "kind": (form.kind.data or "").strip(),
        "area_m2": form.area_m2.data,
        "equipment": _equipment(form.equipment.data),
        "open_time": form.open_time.data,
        "close_time": form.close_time.data,
        "changeover_minutes": form.changeover_minutes.data,
        "min_minutes": form.min_minutes.data,
        "max_minutes": form.max_minutes.data,
        "order_capacity_per_hour": form.order_capacity_per_hour.data,
        "active": form.active.data,
    }


@bp.get("/")
@permission_required("rooms.read")
def index():
    zone, kind = room_filters()
    session = get_session()
    rooms = service.list_rooms(session, current_user, zone=zone, kind=kind)
    every = service.list_rooms(session, current_user) if (zone or kind) else rooms
    return render_template(
        "rooms/index.html", rooms=rooms, zone=zone, kind=kind,
        zones=sorted({r.zone for r in every if r.zone}), kinds=sorted({r.kind for r in every if r.kind}),
    )


@bp.route("/zones", methods=["GET", "POST"])
@permission_required("rooms.write")
def zones():
    """The zones' order on the board: a whole number per zone, lowest first."""
    listed = zone_service.list_zones(get_session(), current_user)
    form = zone_order_form(listed)
    if form.validate_on_submit():
        orders = {z.name: form[zone_field_name(z.name)].data for z in listed}
        try:
            zone_service.set_zone_orders(get_session(), current_user, orders)
        except ServiceError as exc:
            for detail in exc.details:
                name = zone_field_name(str(detail.get("field", "")))
                if name in form:
                    form[name].errors = [*form[name].errors, str(detail["message"])]
                else:
                    flash(str(detail.get("message", exc.message)), "error")
        else:
            flash(_("Zone order saved."))
            return redirect(url_for("rooms.zones"))
    return (render_template("rooms/zones.html", form=form, zones=listed, zone_field_name=zone_field_name),
            422 if any(f.errors for f in form) else 200)


@bp.route("/new", methods=["GET", "POST"])
@permission_required("rooms.write")
def create():
    form = RoomForm()
    if form.validate_on_submit():
        ok, room = attempt(form, lambda: service.create_room(get_session(), current_user, _form_data(form)))
        if ok:
            flash(_("Room %(code)s created.", code=room.code))
            return redirect(url_for("rooms.show", room_id=room.id))
    return render_template("rooms/form.html", form=form, room=None), 422 if form.errors else 200


@bp.route("/<int:room_id>/edit", methods=["GET", "POST"])
@permission_required("rooms.write")
def edit(room_id: int):
    room = _room_or_404(room_id)
    form = RoomForm(obj=room)
    if request.method == "GET":
        form.equipment.data = ", ".join(room.equipment or [])
    if form.validate_on_submit():
        ok, _saved = attempt(form, lambda: service.update_room(get_session(), current_user, room_id, _form_data(form)))
        if ok:
            flash(_("Room %(code)s saved.", code=form.code.data))
            return redirect(url_for("rooms.show", room_id=room_id))
    return render_template("rooms/form.html", form=form, room=room), 422 if form.errors else 200


@bp.get("/<int:room_id>")
@permission_required("rooms.read")
def show(room_id: int, blackout_form: BlackoutForm | None = None):
    room = _room_or_404(room_id)
    blackouts = service.list_blackouts(get_session(), current_user, room_id, since=clock.now())
    return render_template("rooms/show.html", room=room, blackouts=blackouts,
                           blackout_form=blackout_form or BlackoutForm(formdata=None))


@bp.post("/<int:room_id>/blackouts")
@permission_required("rooms.write")
def add_blackout(room_id: int):
    _room_or_404(room_id)
    form = BlackoutForm()
    if form.validate_on_submit():
        starts_at, ends_at = local_instant(form.starts_at.data), local_instant(form.ends_at.data)
        if starts_at is None:
            form.starts_at.errors.append(_("Enter a date and time."))
        if ends_at is None:
            form.ends_at.errors.append(_("Enter a date and time."))
        if starts_at and ends_at:
            try:
                service.add_blackout(get_session(), current_user, room_id, starts_at=starts_at, ends_at=ends_at,
                                     reason=form.reason.data or "")
            except ServiceError as exc:
                get_session().rollback()
                apply_errors(form, exc)
                for clash in exc.details:
                    if clash.get("booking_id"):
                        flash(_("Booking #%(id)s falls inside this period.", id=clash["booking_id"]), "error")
            else:
                flash(_("Blackout added."))
                return redirect(url_for("rooms.show", room_id=room_id))
    return show(room_id, blackout_form=form), 422


@bp.post("/blackouts/<int:blackout_id>/delete")
@permission_required("rooms.write")
def delete_blackout(blackout_id: int):
    session = get_session()
    from opsroom.models import Blackout

    blackout = session.get(Blackout, blackout_id)
    if blackout is None:
        abort(404)
    room_id = blackout.room_id
    service.delete_blackout(session, current_user, blackout_id)
    flash(_("Blackout removed."))
    return redirect(url_for("rooms.show", room_id=room_id))
