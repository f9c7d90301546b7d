"""An anchor's personal iCalendar feed (RFC 5545), by secret URL.

No login: calendar apps cannot log in. The URL's token is derived with HMAC
from the server secret and a version the anchor can bump to reset it.
"""
from __future__ import annotations

from datetime import timedelta, timezone
from functools import lru_cache

from flask import Blueprint, Response, abort, current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Timezone
from icalendar.prop import vDDDTypes

from opsroom import clock
from opsroom.db import get_session
from opsroom.web.i18n import park_tz
from opsroom.labels import ANCHOR_ROLE_LABELS
from opsroom.services.people_goods import anchors as anchor_service

bp = Blueprint("calendar", __name__)

PAST_DAYS, FUTURE_DAYS = 30, 180


@lru_cache(maxsize=16)
def _vtimezone(tzid: str) -> bytes:
    """A zone's VTIMEZONE, built once per process: icalendar walks the zone's offsets from 1970 to
    2038 to build it, a third of a feed's time when done per request (bench/run.py)."""
    return Timezone.from_tzid(tzid).to_ical()


def _fold(line: str) -> str:
    """RFC 5545 §3.1 folding exactly as icalendar writes it: a line reaches at most 74 octets,
    continuations start with a space, never inside a UTF-8 character, and a backslash or caret
    moves to the next line rather than end one (an escape is never split)."""
    if len(line) < 75 and (line.isascii() or len(line.encode()) < 75):
        return line
    parts: list[str] = []
    chars: list[str] = []
    size = 0
    for char in line:
        code = ord(char)  # its UTF-8 length
        width = 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        if chars and size + width >= 75:
            if len(chars) > 1 and chars[-1] in "\\^":
                carried = chars.pop()
                parts.append("".join(chars))
                chars, size = [carried], len(carried.encode())
            else:
                parts.append("".join(chars))
                chars, size = [], 0
        chars.append(char)
        size += width
    parts.append("".join(chars))
    return "\r\n ".join(parts)


def _text(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT escaping, in icalendar's order (a backslash first, then ; and ,
    and every line break as \\n)."""
    return (value.replace("\\N", "\n").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _utc(instant) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def build_feed(anchor, rows, *, host: str) -> bytes:
    """One VEVENT per session, UID stable across moves; cancelled ones marked CANCELLED.

    The events are written line by line (what icalendar's generic property objects cost
    ≈ 1.3 ms each): the same bytes as icalendar's `to_ical` — its property order
    (SUMMARY, DTSTART, DTEND, DTSTAMP, UID, SEQUENCE, then by name), escaping and
    folding; tests/views/test_anchor_feed_and_pages.py parses the feed back with icalendar."""
    cal = Calendar()
    cal.add("prodid", "-//opsroom//anchor schedule//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{anchor.name} · opsroom")
    cal.add("x-wr-timezone", current_app.config["TIMEZONE"])
    head = cal.to_ical()  # BEGIN:VCALENDAR … END:VCALENDAR, without components
    now = clock.now()
    tz = park_tz()
    tzid = vDDDTypes(now.astimezone(tz)).params.get("TZID")  # None for UTC: times end in Z

    def local(instant) -> str:
        return f";TZID={tzid}:{instant.astimezone(tz):%Y%m%dT%H%M%S}" if tzid else f":{_utc(instant)}"

    stamp = _utc(now)
    role_label, tenant_label, anchors_label, lineup_label = _("Role"), _("Tenant"), _("Anchors"), _("Lineup")
    roles = {role: str(label) for role, label in ANCHOR_ROLE_LABELS.items()}  # translated once, not per use
    out: list[str] = []
    for booking, assignment in rows:
        room = booking.room
        title = booking.title or booking.tenant.name
        co = [f"{a.anchor.name} ({roles.get(a.role, a.role)})" for a in booking.assignments]
        lines = [f"{role_label}: {roles.get(assignment.role, assignment.role)}",
                 f"{tenant_label}: {booking.tenant.name}", f"{anchors_label}: {', '.join(co)}"]
        if booking.lineup:
            lines.append(lineup_label + ":")
            lines += [f"{i.position}. {i.product.name} ({i.product.sku})" for i in booking.lineup]
        status = ("CANCELLED" if booking.status in ("cancelled", "no_show") else
                  ("TENTATIVE" if booking.status == "hold" else "CONFIRMED"))
        # A higher SEQUENCE on every change tells calendar apps to update the event.
        changed = booking.updated_at or booking.created_at
        out += ["BEGIN:VEVENT",
                _fold("SUMMARY:" + _text(f"{room.code} · {title}")),
                "DTSTART" + local(booking.starts_at),
                "DTEND" + local(booking.ends_at),
                "DTSTAMP:" + stamp,
                _fold("UID:" + _text(f"booking-{booking.id}@{host}")),
                f"SEQUENCE:{max(0, int((changed - booking.created_at).total_seconds()))}",
                _fold("DESCRIPTION:" + _text("\n".join(lines))),
                "LAST-MODIFIED:" + _utc(changed),
                _fold("LOCATION:" + _text(f"{room.code} {room.name} ({room.zone})")),
                "STATUS:" + status,
                "END:VEVENT"]
    if not out:
        return head
    try:
        zone = _vtimezone(tzid) if tzid else b""
    except ValueError:  # a zone icalendar cannot describe: the events still name it
        zone = b""
    end = b"END:VCALENDAR\r\n"
    return head[: -len(end)] + zone + ("\r\n".join(out) + "\r\n").encode() + end


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
