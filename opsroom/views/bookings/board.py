"""The coordinators' booking board: rooms × time, server-rendered.

Positions are CSS grid columns (15-minute steps, 96 a day) given as classes,
since the Content-Security-Policy allows no inline style.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup, escape

from opsroom import clock
from opsroom.db import get_session
from opsroom.services.sales.forecast import expected_loads
from opsroom.domain.intervals import Interval, subtract
from opsroom.domain.names import display_short_name
from opsroom.web.i18n import local_date_today, park_tz
from opsroom.labels import BOOKING_STATUS_LABELS
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.services.permissions import can
from opsroom.web.guards import permission_required
from opsroom.services.bookings import board as service
from opsroom.services.park import rooms as room_service
from opsroom.views.helpers import room_filters
from opsroom.views.planning import plans
from opsroom.domain.numbers import MAX_INT

bp = Blueprint("board", __name__, url_prefix="/board")

SLOT_MINUTES = 15
MIN_YEAR, MAX_YEAR = 2000, 2100  # beyond, day arithmetic overflows and nothing is booked
SLOTS = 24 * 60 // SLOT_MINUTES
SLOT_SECONDS = SLOT_MINUTES * 60


def columns(interval: Interval, window: Interval) -> tuple[int, int] | None:
    """Grid columns [start, end) (1-based) of `interval` clipped to `window`."""
    return _columns(interval.start.timestamp(), interval.end.timestamp(),
                    window.start.timestamp(), window.end.timestamp())


def _columns(start: float, end: float, day_start: float, day_end: float) -> tuple[int, int] | None:
    """columns() on POSIX seconds (cheap enough for every booking of a page)."""
    start, end = max(start, day_start), min(end, day_end)
    if end <= start:
        return None
    first = int((start - day_start) // SLOT_SECONDS)
    last = -int(-(end - day_start) // SLOT_SECONDS)
    first = min(max(first, 0), SLOTS - 1)
    last = min(max(last, first + 1), SLOTS)
    return first + 1, last + 1


class Run(NamedTuple):
    """A stretch of bookable time in a lane, drawn as one link. Without JavaScript
    it books from the run's first free instant; static/js/board.js turns a pointer
    inside it into the hour under the pointer (read from the gs-/ge- columns)."""

    cols: tuple[int, int]
    html: str  # escaped: <a class="free gs-… ge-…" href="…" aria-label="…"></a>
    kind = "run"


class Placed(NamedTuple):
    """A booking drawn in a lane: a link with tenant and title, then `notes` (times,
    status, warnings)."""

    booking: object
    cols: tuple[int, int]
    html: str  # escaped: <a class="booking …" href="…" title="full text">[marks]times <b>tenant</b> title host notes</a>
    kind = "booking"


class LaneView(NamedTuple):
    lane: service.Lane
    items: list  # runs and bookings in time order, so the tab order follows the clock
    blackouts: list[dict]
    closed: list[tuple[int, int]]  # columns outside opening hours
    html: Markup  # the items' links, in order: drawn here, not in Jinja (~2,000 a page)


class Hours(NamedTuple):
    """A lane's day and opening hours as the grid sees them; shared by the lanes
    of rooms with the same hours."""

    start: float  # POSIX seconds of the day's start
    end: float
    slots: int  # quarter hours drawn: 96, or fewer on a short (DST) day
    open: bytes  # one byte a quarter hour: 1 where wholly inside opening hours
    closed: list[tuple[int, int]]  # columns partly or wholly outside them


class PageContext(NamedTuple):
    """What every lane of one page shares: permission, URLs and translated strings,
    computed once per request rather than once per cell."""

    tz: ZoneInfo
    now: float  # POSIX seconds
    book_url: str | None  # bookings.create when the user may book, else None (escaped)
    show_url: str  # a booking's page, "{}" standing for its id (escaped for an attribute)
    statuses: dict[str, str]
    book_label: str  # translated, still to be formatted with room, date, start, end
    may_not_book: str
    host_label: str  # translated "Host: %(name)s"
    short_names: dict  # a tenant's display short name by (name, short_name), filled as bookings are drawn
    hours: dict  # Hours by (window, openings), filled as lanes are drawn
    clock: dict  # local "HH:MM" by POSIX seconds, filled as bookings are drawn
    expected: dict | None = None  # stored forecasts' expected loads by booking id (services/sales/forecast)
    expected_label: str = ""  # translated, still to be formatted with percent
    busy_label: str = ""  # translated "Busy": another tenant's booking as a tenant's account sees it


_SENTINEL = 987654321
_FLAG_MARK = '<span class="flag" aria-hidden="true">⚠</span>'
_ALERT_MARK = '<span class="alert-mark" aria-hidden="true">▲</span>'
_FREE_RUN = re.compile(rb"\x01+")


def _url_pattern(endpoint: str, **values) -> str:
    """url_for(endpoint, ...) once, with "{}" where the value _SENTINEL was: cheaper
    than one url_for per lane or booking."""
    return url_for(endpoint, **values).replace(str(_SENTINEL), "{}")


def page_context() -> PageContext:
    return PageContext(
        tz=park_tz(), now=clock.now().timestamp(),
        book_url=str(escape(url_for("bookings.create"))) if can(current_user, "bookings.write") else None,
        show_url=str(escape(_url_pattern("bookings.show", booking_id=_SENTINEL))),
        statuses={k: str(v) for k, v in BOOKING_STATUS_LABELS.items()},
        book_label=gettext("Book %(room)s, %(date)s %(start)s–%(end)s"),
        may_not_book=gettext("tenant may not book"), host_label=gettext("Host: %(name)s"), short_names={},
        hours={}, clock={}, busy_label=gettext("Busy"),
    )


def _hours(lane: service.Lane, page: PageContext) -> Hours:
    key = (lane.window, *lane.open)
    if key not in page.hours:
        start, end = lane.window.start.timestamp(), lane.window.end.timestamp()
        slots = min(SLOTS, int((end - start) // SLOT_SECONDS))
        mask = bytearray(slots)
        for w in lane.open:  # whole quarter hours only: round inwards
            first = max(0, -int(-(w.start.timestamp() - start) // SLOT_SECONDS))
            last = min(slots, int((w.end.timestamp() - start) // SLOT_SECONDS))
            mask[first:last] = b"\x01" * max(0, last - first)
        closed = [c for gap in subtract([lane.window], lane.open) if (c := columns(gap, lane.window))]
        page.hours[key] = Hours(start, end, slots, bytes(mask), closed)
    return page.hours[key]


def _hm(instant: datetime) -> str:
    return f"{instant.hour:02d}:{instant.minute:02d}"  # strftime is ~5 times slower


def _clock(seconds: float, page: PageContext) -> str:
    """Local "HH:MM" of an instant; bookings of a page share few instants (quarter hours)."""
    hm = page.clock.get(seconds)
    if hm is None:
        hm = page.clock[seconds] = _hm(datetime.fromtimestamp(seconds, page.tz))
    return hm


def _placed(b, lane: service.Lane, day: Hours, page: PageContext) -> Placed | None:
    """A booking (a services.board.BoardBooking row) drawn in its lane, or None when
    it falls outside the lane's day. This runs ~1,200 times a page."""
    status, booking_id = b.status, b.id
    start, end = b.starts_at.timestamp(), b.ends_at.timestamp()
    cols = _columns(start, end, day.start, day.end)
    if not cols:
        return None
    if b.busy:  # another tenant's, for a tenant's account: when the room is taken, nothing more, no link
        times = f"{_clock(start, page)}–{_clock(end, page)}"
        return Placed(b, cols, f'<span class="booking busy gs-{cols[0]} ge-{cols[1]}" title="{escape(page.busy_label)} {times}">'
                               f'<span class="bk-time">{times}</span> <span class="bk-notes">{escape(page.busy_label)}</span></span>')
    flagged = b.tenant_status != "active" and status in ACTIVE_STATUSES
    alert = lane.alerts.get(booking_id)
    times = f"{_clock(start, page)}–{_clock(end, page)}"
    notes = page.statuses.get(status, status)
    if flagged:
        notes += f" {page.may_not_book}"
    if alert:
        notes += " " + gettext("capacity alert: load %(percent)s%%", percent=round(alert * 100))
    expected = page.expected.get(booking_id) if page.expected else None
    data = ""
    if expected is not None and expected.load is not None:
        notes += " " + page.expected_label % {"percent": round(expected.load * 100)}
        data = f' data-expected-load="{expected.load:.2f}"{" data-expected-over" if expected.over else ""}'
    key = (b.tenant_name, b.tenant_short_name)
    short = page.short_names.get(key)
    if short is None:
        short = page.short_names[key] = display_short_name(*key)
    host = lane.hosts.get(booking_id)
    host_text = page.host_label % {"name": host} if host else ""
    # The block shows times, short name, title and host; its title (hover) and
    # its focus tooltip (CSS, from the same attribute) carry the full text.
    full = " · ".join(x for x in (times, b.tenant_name, b.title, host_text, notes) if x)
    classes = (f"booking status-{status} tenant-c{b.tenant_id % 12}{' flagged' if flagged else ''}"
               f"{' capacity-alert' if alert else ''} gs-{cols[0]} ge-{cols[1]}")
    marks = (_FLAG_MARK if flagged else "") + (_ALERT_MARK if alert else "")
    host_html = f' <span class="bk-host">{escape(host)}</span>' if host else ""
    return Placed(b, cols, f'<a class="{escape(classes)}"{data} href="{page.show_url.format(booking_id)}"'
                           f' title="{escape(full)}">{marks}<span class="bk-time">{times}</span> '
                           f'<b>{escape(short)}</b> <span class="bk-title">{escape(b.title)}</span>{host_html}'
                           f' <span class="bk-notes">{escape(notes)}</span></a>')


def _runs(lane: service.Lane, day: Hours, page: PageContext) -> list[Run]:
    """Free time as links: one per run of whole quarter hours that are open and
    not taken (by a booking with its changeover, a blackout, or the past), and
    long enough for the room's shortest booking, plus its changeover when a
    booking follows. A run reaching midnight is kept: it goes on the next day."""
    room, tz = lane.room, page.tz
    free = bytearray(day.open)

    def take(start: float, end: float) -> int:
        """Marks the quarter hours [start, end) touches as taken; returns the first."""
        first = max(0, int((start - day.start) // SLOT_SECONDS))
        last = min(day.slots, -int(-(end - day.start) // SLOT_SECONDS))
        if last > first:
            free[first:last] = bytes(last - first)
        return first

    take(day.start, page.now)
    followed = {take(b.starts_at.timestamp(), b.occupied_until.timestamp())
                for b in lane.bookings if b.status in ACTIVE_STATUSES}
    for x in lane.blackouts:
        take(x.starts_at.timestamp(), x.ends_at.timestamp())
    # In whole quarter hours, rounded up: a booking starts and ends on the grid.
    shortest = -(-(room.min_minutes or 0) * 60 // SLOT_SECONDS)
    changeover = -(-(room.changeover_minutes or 0) * 60 // SLOT_SECONDS)
    runs = []
    for found in _FREE_RUN.finditer(free):
        first, last = found.span()
        if last < day.slots and last - first < shortest + (changeover if last in followed else 0):
            continue  # too short to book
        local = datetime.fromtimestamp(day.start + first * SLOT_SECONDS, tz)
        until = day.start + last * SLOT_SECONDS
        end = "24:00" if until >= day.end else _hm(datetime.fromtimestamp(until, tz))
        # book_url is escaped already; the rest of the link is digits and quote()'s output.
        href = f"{page.book_url}?room_id={room.id}&amp;start={quote(local.isoformat(timespec='minutes'), safe=':')}"
        label = page.book_label % {"room": room.code, "date": local.date().isoformat(), "start": _hm(local), "end": end}
        runs.append(Run((first + 1, last + 1), f'<a class="free gs-{first + 1} ge-{last + 1}" href="{href}"'
                                               f' aria-label="{escape(label)}"></a>'))
    return runs


def lane_view(lane: service.Lane, page: PageContext) -> LaneView:
    """Everything a template needs to draw one lane: bookings and free runs in
    time order, blackouts, and closed hours as one span per stretch."""
    day = _hours(lane, page)
    items: list = [x for b in lane.bookings if (x := _placed(b, lane, day, page))]
    if page.book_url:
        items += _runs(lane, day, page)
    items.sort(key=lambda x: x.cols[0])
    blackouts = [{"blackout": b, "cols": c} for b in lane.blackouts
                 if (c := columns(Interval(b.starts_at, b.ends_at), lane.window))]
    return LaneView(lane, items, blackouts, day.closed, Markup("".join([x.html for x in items])))


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
@permission_required("board.view")
def day():
    """The rooms of a day; a tenant's account sees its own sessions in full and
    other tenants' as plain busy blocks (services/bookings/board)."""
    on = _date_arg("date")
    zone, kind = room_filters()
    session = get_session()
    lanes = service.day(session, current_user, on, zone=zone, kind=kind)
    page = page_context()
    if can(current_user, "forecast.read"):
        page = page._replace(expected=expected_loads(session, current_user, [
            b.id for lane in lanes for b in lane.bookings if b.status in ("hold", "confirmed", "live", "ended")]),
            expected_label=gettext("expected load %(percent)s%%"))
    zones, kinds = service.zones_and_kinds(session)
    now = clock.now()
    now_col = columns(Interval(now, now + timedelta(minutes=1)), lanes[0].window) if lanes else None
    plan_id = None
    if can(current_user, "plans.read"):  # a plan's draft is the planners' (not a tenant's account's)
        plan_id = request.args.get("plan", type=int)
        if request.args.get("plan") and (plan_id is None or not 1 <= plan_id <= MAX_INT):
            abort(400)
    drafts = plans.board_drafts(plan_id, lanes, columns) if plan_id else {}
    return render_template(
        "board/day.html", on=on, zone=zone, kind=kind, zones=zones, kinds=kinds, plan_id=plan_id, drafts=drafts,
        lanes=[lane_view(l, page) for l in lanes], week_url=_url_pattern("board.week", room_id=_SENTINEL, week=on.isoformat()),
        prev=on - timedelta(days=1), next=on + timedelta(days=1),
        today=local_date_today(), now_col=now_col,
    )


@bp.get("/rooms/<int:room_id>")
@permission_required("board.view")
def week(room_id: int):
    session = get_session()
    room = room_service.get_room(session, current_user, room_id)
    first = _date_arg("week")
    first = first - timedelta(days=first.weekday())
    lanes = service.week(session, current_user, room, first)
    page = page_context()
    return render_template("board/week.html", room=room, first=first, lanes=[lane_view(l, page) for l in lanes],
                           prev=first - timedelta(days=7), next=first + timedelta(days=7),
                           today=local_date_today())
