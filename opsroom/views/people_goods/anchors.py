"""Anchors (主播) for staff, and the people-and-goods data of a booking page."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from opsroom.db import get_session
from opsroom.views.forms import AnchorForm, BookingAnchorsForm, CopySetupForm, LineupAddForm, LineupOrderForm, options
from opsroom.web.i18n import park_tz
from opsroom.labels import ANCHOR_ROLE_LABELS
from opsroom.models import Anchor, Booking
from opsroom.services.permissions import can
from opsroom.web.guards import permission_required
from opsroom.services.people_goods import anchors as service
from opsroom.services.people_goods import assignments
from opsroom.services.people_goods import products as product_service
from opsroom.services.park import tenants as tenant_service
from opsroom.views.helpers import attempt
from opsroom.services.bookings.core import list_bookings

bp = Blueprint("anchors", __name__, url_prefix="/anchors")

# Platform account keys kept in Anchor.platform_accounts, with their names.
PLATFORMS = {"douyin": _l("Douyin"), "kuaishou": _l("Kuaishou")}


@bp.app_template_global()
def platform_label(key: str) -> str:
    return str(PLATFORMS.get(key, key))


def role_choices():
    return options([(k, str(v)) for k, v in ANCHOR_ROLE_LABELS.items()])


def _form() -> AnchorForm:
    form = AnchorForm()
    tenants = tenant_service.list_tenants(get_session(), current_user)
    form.tenant_id.choices = options([("", _("None: park MCN"))] + [(t.id, t.name) for t in tenants])
    return form


def _form_data(form: AnchorForm, anchor=None) -> dict:
    # Keep accounts of other platforms (set through the API) as they are.
    accounts = {k: v for k, v in ((anchor.platform_accounts if anchor else None) or {}).items() if k not in PLATFORMS}
    for key in PLATFORMS:
        value = (getattr(form, key).data or "").strip()
        if value:
            accounts[key] = value
    return {
        "name": form.name.data.strip(),
        "tenant_id": form.tenant_id.data,
        "user_email": (form.user_email.data or "").strip(),
        "verified": form.verified.data,
        "max_minutes_per_day": form.max_minutes_per_day.data,
        "min_rest_minutes": form.min_rest_minutes.data or 0,
        "platform_accounts": accounts,
        "active": form.active.data,
    }


# The list is for staff: an anchor's own profile lives elsewhere, so the page
# asks for a permission anchors do not have.
@bp.get("/")
@permission_required("anchors.write")
def index():
    anchors = service.list_anchors(get_session(), current_user)
    return render_template("anchors/index.html", anchors=anchors, platforms=PLATFORMS)


@bp.route("/new", methods=["GET", "POST"])
@permission_required("anchors.write")
def create():
    form = _form()
    if form.validate_on_submit():
        ok, anchor = attempt(form, lambda: service.create_anchor(get_session(), current_user, _form_data(form)))
        if ok:
            flash(_("Anchor %(name)s created.", name=anchor.name))
            return redirect(url_for("anchors.index"))
    return render_template("anchors/form.html", form=form, anchor=None), 422 if form.errors else 200


@bp.route("/<int:anchor_id>/edit", methods=["GET", "POST"])
@permission_required("anchors.write")
def edit(anchor_id: int):
    session = get_session()
    anchor = service.get_anchor(session, current_user, anchor_id)
    form = _form()
    if not form.is_submitted():
        form.process(obj=anchor)
        form.user_email.data = anchor.user.email if anchor.user else ""
        for key in PLATFORMS:
            getattr(form, key).data = (anchor.platform_accounts or {}).get(key, "")
    if form.validate_on_submit():
        ok, _saved = attempt(form, lambda: service.update_anchor(session, current_user, anchor_id, _form_data(form, anchor)))
        if ok:
            flash(_("Anchor %(name)s saved.", name=form.name.data.strip()))
            return redirect(url_for("anchors.index"))
    return render_template("anchors/form.html", form=form, anchor=anchor), 422 if form.errors else 200


# ---------------------------------------------------------------------------
# The booking page's people and goods (人、货): one call from the partial
# templates/bookings/_people_goods.html, so the booking view stays as it is.
# A POST route that has to re-show one of these forms with its errors leaves
# it in g.people_goods_forms.


def anchor_options(session, booking: Booking, keep=()) -> list[SelectChoice]:
    """Active anchors of the booking's tenant, then the park MCN's; anchors
    already on the booking stay selectable even if they no longer qualify."""
    own, mcn, other = [], [], []
    for a in service.list_anchors(session, current_user):
        label = a.name if a.verified else _("%(name)s (not verified)", name=a.name)
        if not a.active:
            if a.id in keep:
                other.append((a.id, _("%(name)s (inactive)", name=a.name)))
        elif a.tenant_id == booking.tenant_id:
            own.append((a.id, label))
        elif a.tenant_id is None:
            mcn.append((a.id, label))
        elif a.id in keep:
            other.append((a.id, label))
    groups = [(booking.tenant.name, own), (_("Park MCN"), mcn), (_("Other"), other)]
    choices = [SelectChoice("", _("— nobody —"))]
    for group, rows in groups:
        choices += [SelectChoice(value, label, optgroup=group) for value, label in rows]
    return choices


def product_options(session, booking: Booking, *, offered_only: bool = False) -> list[SelectChoice]:
    """The tenant's products on sale; `offered_only`: those not in the lineup yet
    (what the form offers; a posted duplicate still reaches its own message)."""
    products = product_service.list_products(session, current_user, tenant_id=booking.tenant_id)
    in_lineup = {i.product_id for i in booking.lineup} if offered_only else set()
    return [SelectChoice("", _("Choose a product"))] + [
        SelectChoice(p.id, f"{p.sku} · {p.name}") for p in products if p.active and p.id not in in_lineup]


def week_of(booking: Booking) -> tuple[datetime, datetime]:
    """The park-local Monday-to-Sunday week the booking starts in."""
    tz = park_tz()
    day = booking.starts_at.astimezone(tz).date()
    monday = datetime.combine(day - timedelta(days=day.weekday()), time(0, 0), tzinfo=tz)
    return monday, monday + timedelta(days=7)


def series_week(session, booking: Booking) -> list[Booking]:
    """The other active bookings of the booking's series in its week."""
    if booking.series_id is None:
        return []
    start, end = week_of(booking)
    rows = list_bookings(session, current_user, start=start, end=end, tenant_id=booking.tenant_id)
    return [b for b in rows if b.series_id == booking.series_id and b.id != booking.id and b.is_active]


def copy_options(targets: list[Booking]) -> list[SelectChoice]:
    from flask_babel import format_datetime, format_time

    return [SelectChoice(b.id, f"#{b.id} · {format_datetime(b.starts_at, 'EEE M/d HH:mm')}–"
                               f"{format_time(b.ends_at, 'HH:mm')} · {b.room.code}") for b in targets]


def anchors_form_for(session, booking: Booking, formdata=None) -> BookingAnchorsForm:
    if formdata is None:
        form = BookingAnchorsForm(formdata=None, data={"slots": [
            {"anchor_id": a.anchor_id, "role": a.role} for a in booking.assignments]})
    else:
        form = BookingAnchorsForm()
    choices = anchor_options(session, booking, keep={a.anchor_id for a in booking.assignments})
    for slot in form.slots:
        slot.anchor_id.choices = choices
        slot.role.choices = role_choices()
    return form


def lineup_form_for(session, booking: Booking, formdata=None) -> LineupAddForm:
    form = LineupAddForm() if formdata is not None else LineupAddForm(formdata=None)
    form.product_id.choices = product_options(session, booking, offered_only=formdata is None)
    return form


def copy_form_for(booking: Booking, targets: list[Booking], formdata=None) -> CopySetupForm:
    form = CopySetupForm() if formdata is not None else CopySetupForm(formdata=None)
    form.targets.choices = copy_options(targets)
    return form


@bp.app_template_global()
def people_goods(booking: Booking) -> dict:
    """Everything the people-and-goods section of a booking page shows."""
    session = get_session()
    writable = booking.is_active and can(current_user, "bookings.write")
    # A tenant's account arranges its own lineup (it reaches only its own bookings' pages).
    lineup_writable = booking.is_active and can(current_user, "lineup.write")
    warnings = {w["product_id"]: w for w in assignments.stock_warnings(booking)}
    assigned = list(booking.assignments)
    # One query for every assigned anchor, not one each: the identity map then answers `a.anchor`
    # (it holds objects weakly, so the page keeps them in "anchors_by_id" while it renders).
    anchors_by_id = {a.id: a for a in session.scalars(
        sa.select(Anchor).where(Anchor.id.in_({a.anchor_id for a in assigned})))}
    out = {"writable": writable, "lineup_writable": lineup_writable, "assignments": assigned, "lineup": list(booking.lineup), "anchors_by_id": anchors_by_id,
           "warnings": warnings, "series_week": []}
    overrides = g.get("people_goods_forms", {})
    if lineup_writable:
        out.update(
            lineup_form=overrides.get("lineup") or lineup_form_for(session, booking),
            order_form=LineupOrderForm(formdata=None, data={"order": ",".join(str(i.product_id) for i in booking.lineup)}))
    if not writable:
        return out
    targets = series_week(session, booking)
    out.update(
        series_week=targets,
        anchors_form=overrides.get("anchors") or anchors_form_for(session, booking),
        copy_form=overrides.get("copy") or copy_form_for(booking, targets),
    )
    return out
