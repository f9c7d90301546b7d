"""A session's sales on its booking page, and its post-live review (复盘):
stats, the lineup with each product's result, the anchors, the team's notes."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from opsroom.db import get_session
from opsroom.domain import metrics
from opsroom.domain import review as review_rules
from opsroom.web.i18n import park_tz
from opsroom.web.guards import permission_required
from opsroom.services.sales import review as service
from opsroom.services.sales import stats as stats_service
from opsroom.views.helpers import attempt

bp = Blueprint("review", __name__, url_prefix="/bookings")


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=service.MAX_NOTE_CHARS)])


def _sales(stats) -> dict:
    tz = park_tz()
    return {"stats": stats, "json": stats_service.stats_json(stats),
            "labels": [t.astimezone(tz).strftime("%H:%M") for t, _ in stats.metrics.per_5min],
            "orders": [n for _, n in stats.metrics.per_5min],
            "session_steps": metrics.session_buckets(stats.metrics.minutes)}


@bp.app_template_global()
def booking_sales(booking) -> dict:
    """The sales block of a booking page: stats, the chart's data, per product."""
    return _sales(stats_service.booking_stats(get_session(), current_user, booking.id))


def _stats_or_abort(booking_id: int):
    return stats_service.booking_stats(get_session(), current_user, booking_id)


def _page(booking_id: int, form: NoteForm, status: int = 200):
    stats = _stats_or_abort(booking_id)
    session = get_session()
    notes = service.notes(session, current_user, booking_id)
    sales = _sales(stats)
    found = review_rules.best_and_worst_quarters(stats.metrics.per_5min, sales["session_steps"])
    quarters = [(start, start + review_rules.QUARTER, n) for start, n in found] if found else None
    unsold = [r.item.product for r in stats.per_product if r.orders == 0]
    return render_template("bookings/review.html", booking=stats.booking, stats=stats, sales=sales,
                           compared=service.comparison(session, current_user, booking_id),
                           quarters=quarters, unsold=unsold, notes=notes, form=form), status


@bp.get("/<int:booking_id>/review")
@permission_required("bookings.read")
def show(booking_id: int):
    return _page(booking_id, NoteForm(formdata=None))


@bp.post("/<int:booking_id>/review/notes")
@permission_required("reviews.write")
def add_note(booking_id: int):
    form = NoteForm()
    _stats_or_abort(booking_id)  # 404/403 before anything else
    if form.validate_on_submit():
        ok, _note = attempt(form, lambda: service.add_note(get_session(), current_user, booking_id, form.body.data))
        if ok:
            flash(_("Note added to the review."))
            return redirect(url_for("review.show", booking_id=booking_id) + "#notes")
    return _page(booking_id, form, 422)
