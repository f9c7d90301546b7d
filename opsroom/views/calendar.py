"""An anchor's personal iCalendar feed (RFC 5545), by secret URL.

No login: calendar apps cannot log in. The URL's token is derived with HMAC
from the server secret and a version the anchor can bump to reset it.
"""
from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from flask import Blueprint, Response, abort, current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone

from opsroom import clock
from opsroom.db import get_session
from opsroom.i18n import park_tz
from opsroom.labels import ANCHOR_ROLE_LABELS
from opsroom.services import anchors as anchor_service

bp = Blueprint("calendar", __name__)

PAST_DAYS, FUTURE_DAYS = 30, 180


@lru_cache(maxsize=16)
def _vtimezone(tzid: str) -> Timezone:
    """A zone's VTIMEZONE, built once per process: icalendar walks the zone's offsets from 1970 to
    2038 to build it, a third of a feed's time when done per request (bench/run.py). Read-only after."""
    return Timezone.from_tzid(tzid)


def build_feed(anchor, rows, *, host: str) -> bytes:
    """One VEVENT per session, UID stable across moves; cancelled ones marked CANCELLED."""
    cal = Calendar()
    cal.add("prodid", "-//opsroom//anchor schedule//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{anchor.name} · opsroom")
    cal.add("x-wr-timezone", current_app.config["TIMEZONE"])
    now = clock.now()
    tz = park_tz()
    for booking, assignment in rows:
        event = Event()
        event.add("uid", f"booking-{booking.id}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", booking.starts_at.astimezone(tz))
        event.add("dtend", booking.ends_at.astimezone(tz))
        title = booking.title or booking.tenant.name
        event.add("summary", f"{booking.room.code} · {title}")
        event.add("location", f"{booking.room.code} {booking.room.name} ({booking.room.zone})")
        co = [f"{a.anchor.name} ({ANCHOR_ROLE_LABELS.get(a.role, a.role)})" for a in booking.assignments]
        lines = [f"{_('Role')}: {ANCHOR_ROLE_LABELS.get(assignment.role, assignment.role)}",
                 f"{_('Tenant')}: {booking.tenant.name}", f"{_('Anchors')}: {', '.join(co)}"]
        if booking.lineup:
            lines.append(_("Lineup") + ":")
            lines += [f"{i.position}. {i.product.name} ({i.product.sku})" for i in booking.lineup]
        event.add("description", "\n".join(lines))
        event.add("status", "CANCELLED" if booking.status in ("cancelled", "no_show") else
                  ("TENTATIVE" if booking.status == "hold" else "CONFIRMED"))
        # A higher SEQUENCE on every change tells calendar apps to update the event.
        changed = booking.updated_at or booking.created_at
        event.add("sequence", max(0, int((changed - booking.created_at).total_seconds())))
        event.add("last-modified", changed)
        cal.add_component(event)
    for tzid in sorted(cal.get_missing_tzids()):  # as cal.add_missing_timezones(), with the cached zones
        try:
            cal.subcomponents.insert(len(cal.timezones), _vtimezone(tzid))
        except ValueError:
            continue
    return cal.to_ical()


@bp.get("/calendar/anchors/<feed_token>.ics")
def anchor_feed(feed_token: str):
    session = get_session()
    anchor = anchor_service.anchor_for_feed(session, feed_token)
    if anchor is None:
        abort(404)
    now = clock.now()
    rows = anchor_service.sessions_of(session, anchor.id, now - timedelta(days=PAST_DAYS), now + timedelta(days=FUTURE_DAYS))
    with force_locale("zh_CN"):
        body = build_feed(anchor, rows, host=request.host.split(":")[0] or "opsroom")
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="opsroom-{anchor.id}.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
