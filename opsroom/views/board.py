"""The coordinators' booking board: rooms × time, server-rendered.

Positions are CSS grid columns (15-minute steps, 96 a day) given as classes,
since the Content-Security-Policy allows no inline style.
"""
from __future__ import annotations

from datetime import date, timedelta

from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from opsroom import clock
from opsroom.db import get_session
from opsroom.domain.intervals import Interval, subtract
from opsroom.i18n import local_date_today, park_tz
from opsroom.security import can, permission_required
from opsroom.services import board as service
from opsroom.services import rooms as room_service
from opsroom.services.errors import NotFound
from opsroom.views import room_filters

bp = Blueprint("board", __name__, url_prefix="/board")

SLOT_MINUTES = 15
MIN_YEAR, MAX_YEAR = 2000, 2100  # beyond, day arithmetic overflows and nothing is booked
SLOTS = 24 * 60 // SLOT_MINUTES


def columns(interval: Interval, window: Interval) -> tuple[int, int] | None:
    """Grid columns [start, end) (1-based) of `interval` clipped to `window`."""
    start, end = max(interval.start, window.start), min(interval.end, window.end)
    if end <= start:
        return None
    first = int((start - window.start).total_seconds() // (SLOT_MINUTES * 60))
    last = -int(-(end - window.start).total_seconds() // (SLOT_MINUTES * 60))
    first = min(max(first, 0), SLOTS - 1)
    last = min(max(last, first + 1), SLOTS)
    return first + 1, last + 1


def lane_view(lane: service.Lane, book_url: str | None) -> dict:
    """Everything a template needs to draw one lane, computed once per page:
    an hour is a "book here" link only where it really has free time, and the
    link starts at that hour's first free instant."""
    window = lane.window
    tz = park_tz()
    now = clock.now()
    items = []
    for b in lane.bookings:
        cols = columns(Interval(b.starts_at, b.ends_at), window)
        if cols:
            start, end = b.starts_at.astimezone(tz), b.ends_at.astimezone(tz)
            items.append({"booking": b, "cols": cols, "times": f"{start:%H:%M}–{end:%H:%M}",
                          "flagged": b.tenant.status != "active" and b.is_active,
                          "alert": lane.alerts.get(b.id)})
    blackouts = [{"blackout": b, "cols": c} for b in lane.blackouts
                 if (c := columns(Interval(b.starts_at, b.ends_at), window))]
    taken = [Interval(b.starts_at, b.occupied_until) for b in lane.bookings if b.is_active]
    taken += [Interval(b.starts_at, b.ends_at) for b in lane.blackouts]
    taken.append(Interval(window.start - timedelta(days=1), now))
    free = subtract(lane.open, taken)
    step = timedelta(minutes=SLOT_MINUTES)
    cells = []
    for hour in range(24):
        start = window.start + timedelta(hours=hour)
        cell = Interval(start, start + timedelta(hours=1))
        first = next((max(f.start, cell.start) for f in free if f.overlaps(cell)
                      and min(f.end, cell.end) - max(f.start, cell.start) >= step), None)
        link = None
        if first is not None and book_url:
            first = window.start + step * -(-(first - window.start) // step)  # up to the grid
            local = first.astimezone(tz)
            link = {"href": f"{book_url}?{urlencode({'room_id': lane.room.id, 'start': local.isoformat()})}",
                    "time": f"{local:%H:%M}", "date": local.date().isoformat()}
        cells.append({"col": hour * 4 + 1, "open": any(w.overlaps(cell) for w in lane.open), "link": link})
    return {"lane": lane, "placed": items, "blackouts": blackouts, "cells": cells}


def _book_url() -> str | None:
    return url_for("bookings.create") if can(current_user, "bookings.write") else None


def _date_arg(name: str) -> date:
    raw = request.args.get(name)
    if not raw:
        return local_date_today()
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        abort(400)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        abort(400)
    return value


@bp.get("/")
@permission_required("board.read")
def day():
    on = _date_arg("date")
    zone, kind = room_filters()
    session = get_session()
    lanes = service.day(session, current_user, on, zone=zone, kind=kind)
    zones, kinds = service.zones_and_kinds(session)
    now_col = columns(Interval(clock.now(), clock.now() + timedelta(minutes=1)), lanes[0].window) if lanes else None
    return render_template(
        "board/day.html", on=on, zone=zone, kind=kind, zones=zones, kinds=kinds,
        lanes=[lane_view(l, _book_url()) for l in lanes], prev=on - timedelta(days=1), next=on + timedelta(days=1),
        today=local_date_today(), now_col=now_col,
    )


@bp.get("/rooms/<int:room_id>")
@permission_required("board.read")
def week(room_id: int):
    session = get_session()
    try:
        room = room_service.get_room(session, current_user, room_id)
    except NotFound:
        abort(404)
    first = _date_arg("week")
    first = first - timedelta(days=first.weekday())
    lanes = service.week(session, current_user, room, first)
    return render_template("board/week.html", room=room, first=first, lanes=[lane_view(l, _book_url()) for l in lanes],
                           prev=first - timedelta(days=7), next=first + timedelta(days=7),
                           today=local_date_today())
