"""The anchor's own pages, built for a phone: my schedule, check-in, my calendar link."""
from __future__ import annotations

from datetime import timedelta
from itertools import groupby

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opsroom import clock
from opsroom.db import get_session
from opsroom.domain import hours
from opsroom.web.i18n import local_date_today, park_tz
from opsroom.web.guards import permission_required
from opsroom.services.people_goods import anchors as anchor_service
from opsroom.services.errors import ServiceError
from opsroom.services.bookings.core import get_booking
from opsroom.services.bookings.lifecycle import check_in, check_in_open

bp = Blueprint("me", __name__, url_prefix="/me")

DAYS_AHEAD = 7


def _anchor():
    anchor = anchor_service.anchor_of(get_session(), current_user)
    if anchor is None:
        return None
    return anchor


def _can_check_in(booking, now) -> bool:
    """Not checked in yet, and inside the check-in window (the rule check_in applies)."""
    return booking.checked_in_at is None and check_in_open(get_session(), booking, now)


@bp.get("/schedule")
@permission_required("schedule.own")
def schedule():
    anchor = _anchor()
    if anchor is None:
        return render_template("me/schedule.html", anchor=None, days=[])
    tz = park_tz()
    today = local_date_today()
    window = hours.local_days(today, today + timedelta(days=DAYS_AHEAD - 1), tz)
    rows = anchor_service.sessions_of(get_session(), anchor.id, window.start, window.end)
    now = clock.now()
    days = [(day, [dict(booking=b, assignment=a, can_check_in=_can_check_in(b, now)) for b, a in items])
            for day, items in groupby(rows, key=lambda r: r[0].starts_at.astimezone(tz).date())]
    feed_url = url_for("calendar.anchor_feed", feed_token=anchor_service.feed_token(get_session(), anchor), _external=True)
    return render_template("me/schedule.html", anchor=anchor, days=days, today=today, feed_url=feed_url)


@bp.get("/sessions/<int:booking_id>")
@permission_required("schedule.own")
def session_detail(booking_id: int):
    session = get_session()
    try:
        booking = get_booking(session, current_user, booking_id)
    except ServiceError as exc:
        abort(exc.status)
    anchor = _anchor()
    assignment = next((a for a in booking.assignments if anchor and a.anchor_id == anchor.id), None)
    return render_template("me/session.html", booking=booking, assignment=assignment,
                           can_check_in=_can_check_in(booking, clock.now()))


@bp.post("/sessions/<int:booking_id>/checkin")
@permission_required("schedule.own")
def checkin(booking_id: int):
    session = get_session()
    try:
        check_in(session, current_user, booking_id)
    except ServiceError as exc:
        session.rollback()
        if exc.status in (403, 404):
            abort(exc.status)
        for detail in exc.details or [{"message": exc.message}]:
            flash(str(detail.get("message", exc.message)), "error")
    else:
        flash(_("Checked in. Have a good session!"))
    return redirect(url_for("me.schedule"))


@bp.post("/feed/reset")
@permission_required("schedule.own")
def reset_feed():
    anchor = _anchor()
    if anchor is None:
        abort(404)
    anchor_service.reset_feed(get_session(), current_user, anchor.id)
    flash(_("Your calendar link was reset. Subscribe again with the new link."))
    return redirect(url_for("me.schedule"))
