"""What the requests services share: reading a request under its visibility rule,
the rooms a request may use, the places that fit it now, the prime-time quota
and priority checks, and telling the other side."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.domain import booking_rules, hours, recurrence
from opsroom.domain import requests as rules
from opsroom.domain.intervals import Interval, subtract
from opsroom.domain.statuses import ACTIVE_STATUSES, OPEN_REQUEST_STATUSES
from opsroom.models import Blackout, Booking, BookingRequest, Room, Tenant, User
from opsroom.services.bookings.availability import blackouts_by_room, busy_bookings
from opsroom.services.bookings.core import rule_breach
from opsroom.services.errors import NotFound, RuleViolation, found
from opsroom.services.operations import notifications
from opsroom.services.permissions import require
from opsroom.settings import settings_of


class Place(NamedTuple):
    room: Room
    slot: Interval


def get_request(session: so.Session, user, request_id: int, *, lock: bool = False) -> BookingRequest:
    """A request; a tenant's account sees only its own tenant's (another's is not found)."""
    require(user, "requests.read")
    q = sa.select(BookingRequest).where(BookingRequest.id == request_id)
    if lock:  # decisions on one request run one after another (PostgreSQL; SQLite serializes writers)
        q = q.with_for_update()
    req = found(session.scalar(q), _l("No such request."))
    if user.role == "tenant" and req.tenant_id != user.tenant_id:
        raise NotFound(_l("No such request."))
    return req


def list_requests(session: so.Session, user, *, status: str | None = None, tenant_id: int | None = None,
                  month: date | None = None, limit: int = 1000) -> list[BookingRequest]:
    """Requests, oldest first; a tenant's account sees only its own."""
    require(user, "requests.read")
    q = sa.select(BookingRequest).options(so.joinedload(BookingRequest.tenant), so.joinedload(BookingRequest.room),
                                          so.selectinload(BookingRequest.bookings))  # the API lists their ids
    if user.role == "tenant":
        q = q.where(BookingRequest.tenant_id == user.tenant_id)
    if tenant_id is not None:
        q = q.where(BookingRequest.tenant_id == tenant_id)
    if status is not None:
        q = q.where(BookingRequest.status == status)
    if month is not None:
        first, days = hours.month_bounds(month)
        q = q.where(BookingRequest.date >= first, BookingRequest.date < first + timedelta(days=days))
    return list(session.scalars(q.order_by(BookingRequest.created_at, BookingRequest.id).limit(limit)))


def queue(session: so.Session, user, *, limit: int = 200) -> list[BookingRequest]:
    """The coordinators' queue: open requests, oldest first."""
    require(user, "requests.decide")
    return list(session.scalars(
        sa.select(BookingRequest).options(so.joinedload(BookingRequest.tenant), so.joinedload(BookingRequest.room))
        .where(BookingRequest.status.in_(OPEN_REQUEST_STATUSES))
        .order_by(BookingRequest.created_at, BookingRequest.id).limit(limit)))


# ---------------------------------------------------------------------------
# Where and when


def candidate_rooms(session: so.Session, req: BookingRequest) -> list[Room]:
    """The room asked for, or the active rooms of the kind and zone asked for (by code)."""
    if req.room_id is not None:
        room = session.get(Room, req.room_id)
        return [room] if room is not None and room.active else []
    q = sa.select(Room).where(Room.active.is_(True))
    if req.room_kind:
        q = q.where(Room.kind == req.room_kind)
    if req.zone:
        q = q.where(Room.zone == req.zone)
    return list(session.scalars(q.order_by(Room.code)))


def recurrence_rule(req: BookingRequest) -> dict | None:
    """The stored rule as the bookings' services take it (`until` as a date)."""
    if not req.recurrence:
        return None
    rule = dict(req.recurrence)
    if isinstance(rule.get("until"), str):
        rule["until"] = date.fromisoformat(rule["until"])
    return rule


def windows(session: so.Session, req: BookingRequest) -> list[Interval]:
    """The request's window on each of its days (the recurrence expanded)."""
    settings = settings_of(session)
    first = rules.window_on(req.date, req.window_start, req.window_end, settings.tz)
    rule = recurrence_rule(req)
    if not rule:
        return [first]
    try:
        return recurrence.expand(first.start, first.end, freq=rule.get("freq"), tz=settings.tz,
                                 interval=rule.get("interval") or 1, weekdays=rule.get("weekdays"),
                                 until=rule.get("until"), count=rule.get("count"),
                                 max_occurrences=settings.max_recurrence_occurrences) or [first]
    except recurrence.RecurrenceError:
        return [first]


def fits(session: so.Session, req: BookingRequest, *, window: Interval | None = None,
         rooms: list[Room] | None = None, limit: int | None = None, exclude: set[int] | None = None) -> list[Place]:
    """Places that fit the request now in its (first) window, earliest first,
    then by room code: inside the room's open hours and outside blackouts, its
    occupied range clear of every active booking, the room's duration limits kept."""
    settings = settings_of(session)
    limit = limit or settings.request_fits_limit
    window = window or windows(session, req)[0]
    rooms = [r for r in (rooms if rooms is not None else candidate_rooms(session, req))
             if r.min_minutes <= req.minutes <= r.max_minutes]
    if not rooms:
        return []
    ids = [r.id for r in rooms]
    busy = busy_bookings(session, ids, _busy_span(window, rooms), exclude or set())
    blk = blackouts_by_room(session, ids, window)
    return _places(session, req, window, rooms, busy, blk, limit)


def _busy_span(window: Interval, rooms: list[Room]) -> Interval:
    """The time whose bookings may keep a place in `window` from the rooms (their changeover after it)."""
    return Interval(window.start, window.end + timedelta(minutes=max(r.changeover_minutes for r in rooms)))


def _places(session: so.Session, req: BookingRequest, window: Interval, rooms: list[Room],
            busy: dict[int, list[Booking]], blk: dict[int, list[Blackout]], limit: int) -> list[Place]:
    """The places in `window` given the rooms' bookings and blackouts meeting it (see `fits`)."""
    settings = settings_of(session)
    now = clock.now()
    out: list[Place] = []
    for room in rooms:
        bookable = subtract(hours.open_windows(room.open_time, room.close_time, window, settings.tz),
                            [Interval(b.starts_at, b.ends_at) for b in blk.get(room.id, ())])
        occupied = [Interval(b.starts_at, b.occupied_until) for b in busy.get(room.id, ())
                    if not (b.status == "hold" and b.hold_expires_at and b.hold_expires_at <= now)]
        for slot in rules.slots_in(window, req.minutes, bookable=bookable, busy_occupied=occupied,
                                   changeover_minutes=room.changeover_minutes,
                                   granularity_minutes=settings.booking_granularity_minutes, tz=settings.tz,
                                   not_before=now, limit=limit):
            out.append(Place(room, slot))
    out.sort(key=lambda p: (p.slot.start, p.room.code))
    return out[:limit]


# The requests whose pages and answers show what fits now: open, and not yet
# offered a place (an offered one shows its offer instead).
FITS_SHOWN_FOR = ("pending", "waiting")


def fits_now(session: so.Session, reqs: list[BookingRequest], *, limit: int | None = None) -> dict[int, list[Place]]:
    """What fits each request now (request id → places, earliest first, at most
    `limit`, default the park's `request_fits_limit`); empty for a request not
    pending or waiting. Three queries whatever the number of requests: the
    active rooms, and the bookings and blackouts meeting any request's window."""
    settings = settings_of(session)
    limit = limit or settings.request_fits_limit
    out: dict[int, list[Place]] = {r.id: [] for r in reqs}
    shown = [r for r in reqs if r.status in FITS_SHOWN_FOR]
    if not shown:
        return out
    active = list(session.scalars(sa.select(Room).where(Room.active.is_(True)).order_by(Room.code)))
    wanted: list[tuple[BookingRequest, Interval, list[Room]]] = []
    for req in shown:
        rooms = [r for r in active if (r.id == req.room_id if req.room_id is not None else
                                       (not req.room_kind or r.kind == req.room_kind)
                                       and (not req.zone or r.zone == req.zone))
                 and r.min_minutes <= req.minutes <= r.max_minutes]
        if rooms:
            wanted.append((req, windows(session, req)[0], rooms))
    if not wanted:
        return out
    room_ids = sorted({r.id for _req, _w, rooms in wanted for r in rooms})
    spans = {(w, _busy_span(w, rooms)) for _req, w, rooms in wanted}
    busy_rows = session.scalars(sa.select(Booking).where(
        Booking.room_id.in_(room_ids), Booking.status.in_(ACTIVE_STATUSES),
        sa.or_(*(sa.and_(Booking.starts_at < span.end, Booking.starts_at >= span.start - booking_rules.LONGEST_OCCUPANCY,
                         Booking.occupied_until > span.start) for span in {s for _w, s in spans})))).all()
    blackout_rows = session.scalars(sa.select(Blackout).where(
        Blackout.room_id.in_(room_ids),
        sa.or_(*(sa.and_(Blackout.starts_at < w.end, Blackout.ends_at > w.start) for w in {w for w, _s in spans})))).all()
    for req, window, rooms in wanted:
        span = _busy_span(window, rooms)
        busy: dict[int, list[Booking]] = {}
        for b in busy_rows:
            if b.starts_at < span.end and b.occupied_until > span.start:
                busy.setdefault(b.room_id, []).append(b)
        blk: dict[int, list[Blackout]] = {}
        for b in blackout_rows:
            if b.starts_at < window.end and b.ends_at > window.start:
                blk.setdefault(b.room_id, []).append(b)
        out[req.id] = _places(session, req, window, rooms, busy, blk, limit)
    return out


def with_fits(session: so.Session, reqs: list[BookingRequest], *, limit: int | None = None) -> list[dict[str, Any]]:
    """The rows of the request pages (the queue, a request's own page): each
    request with its age in whole hours and what fits it now (`fits_now`: one
    rule for every page, and no query per request)."""
    found_now = fits_now(session, reqs, limit=limit)
    now = clock.now()
    return [{"req": r, "age_hours": int((now - r.created_at).total_seconds() // 3600), "fits": found_now[r.id]}
            for r in reqs]


def queue_rows(session: so.Session, user, *, limit: int = 200) -> list[dict[str, Any]]:
    """The coordinators' queue (`queue`) as rows (`with_fits`), the first place that fits each."""
    return with_fits(session, queue(session, user, limit=limit), limit=1)


def shape_breaches(session: so.Session, req: BookingRequest, rooms: list[Room]) -> list[dict[str, Any]]:
    """Rule breaches of the request itself, bookings aside: no matching room,
    a window no matching room is open long enough in, one every room is
    blacked out in, a window in the past, a duration longer than the window
    or off the park's steps."""
    settings = settings_of(session)
    out: list[dict[str, Any]] = []
    gran = settings.booking_granularity_minutes
    if req.minutes % gran:
        out.append(rule_breach("granularity", "minutes", minutes=gran))
    if req.minutes > rules.window_minutes(req.window_start, req.window_end):
        out.append(rule_breach("window_short", "minutes"))
        return out
    if not rooms:
        out.append(rule_breach("no_room", "room_id"))
        return out
    window = windows(session, req)[0]
    if window.end <= clock.now():
        out.append(rule_breach("window_past", "date"))
    fitting = [r for r in rooms if r.min_minutes <= req.minutes <= r.max_minutes]
    if not fitting:
        r = rooms[0]
        code = "min_duration" if req.minutes < r.min_minutes else "max_duration"
        out.append(rule_breach(code, "minutes", minutes=r.min_minutes if code == "min_duration" else r.max_minutes))
        return out
    long_enough = timedelta(minutes=req.minutes)

    def any_piece(pieces):
        return any(p.end - p.start >= long_enough for p in pieces)

    opened = {r.id: hours.open_windows(r.open_time, r.close_time, window, settings.tz) for r in fitting}
    if not any(any_piece(o) for o in opened.values()):
        out.append(rule_breach("window_hours", "window_start", minutes=req.minutes))
        return out
    blk = blackouts_by_room(session, [r.id for r in fitting], window)
    if not any(any_piece(subtract(opened[r.id], [Interval(b.starts_at, b.ends_at) for b in blk[r.id]]))
               for r in fitting):
        out.append(rule_breach("window_blackout", "window_start"))
    return out


# ---------------------------------------------------------------------------
# Priority and the weekly prime-time quota


def quota_breaches(session: so.Session, tenant: Tenant, slots: list[Interval]) -> list[dict[str, Any]]:
    """The tenant's prime-time minutes in each week the new `slots` touch, its
    active and counted bookings included, may not pass its weekly quota. One
    query for every week (a year of weekly sessions touches 52)."""
    if tenant.prime_quota_hours_per_week is None or not slots:
        return []
    settings = settings_of(session)
    tz, prime = settings.tz, settings.prime_hours
    limit = tenant.prime_quota_hours_per_week * 60
    weeks = sorted({rules.week_of(s.start, tz) for s in slots})
    held = session.execute(sa.select(Booking.starts_at, Booking.ends_at).where(
        Booking.tenant_id == tenant.id, Booking.status.in_(ACTIVE_STATUSES + ("ended",)),
        sa.or_(*(sa.and_(Booking.starts_at < week.end, Booking.ends_at > week.start) for week in weeks)))).all()
    for week in weeks:
        pieces = [Interval(a, b) for a, b in held if a < week.end and b > week.start]
        pieces += [s for s in slots if week.start <= s.start < week.end]
        if rules.prime_minutes(pieces, prime, tz) > limit:
            return [rule_breach("prime_quota", "tenant_id", hours=tenant.prime_quota_hours_per_week)]
    return []


def priority_breaches(session: so.Session, req: BookingRequest, room: Room, slots: list[Interval]) -> list[dict]:
    """An open request of a tenant with a higher priority (a smaller number)
    that could use the same room at the same time comes first."""
    mine = req.tenant.priority
    days = {s.start.astimezone(settings_of(session).tz).date() for s in slots}
    rivals = session.scalars(
        sa.select(BookingRequest).join(Tenant, Tenant.id == BookingRequest.tenant_id).where(
            BookingRequest.id != req.id, BookingRequest.status.in_(("pending", "waiting")),
            Tenant.priority < mine,
            BookingRequest.date.in_({d for d in days} | {d - timedelta(days=1) for d in days}),
        ).order_by(Tenant.priority, BookingRequest.created_at)).all()
    for rival in rivals:
        if rival.room_id not in (None, room.id):
            continue
        if (rival.room_kind and rival.room_kind != room.kind) or (rival.zone and rival.zone != room.zone):
            continue
        if any(w.overlaps(s) for w in windows(session, rival) for s in slots):
            return [rule_breach("priority", "tenant_id", id=rival.id)]
    return []


def check_limits(session: so.Session, user, req: BookingRequest, room: Room, slots: list[Interval],
                 override_reason: str | None) -> bool:
    """Raise 422 for a broken quota or priority unless staff override with a
    reason; returns whether an override was used."""
    breaches = quota_breaches(session, req.tenant, slots) + priority_breaches(session, req, room, slots)
    if not breaches:
        return False
    if override_reason and user.role in ("admin", "manager", "coordinator"):
        return True
    raise RuleViolation(_l("The request breaks a rule of the park."), breaches)


# ---------------------------------------------------------------------------
# Telling the other side


def tenant_users(session: so.Session, tenant_id: int) -> list[User]:
    return list(session.scalars(sa.select(User).where(User.tenant_id == tenant_id, User.active.is_(True))))


def coordinators(session: so.Session) -> list[User]:
    return list(session.scalars(sa.select(User).where(User.role == "coordinator", User.active.is_(True))))


def place_text(req: BookingRequest) -> str:
    if req.room is not None:
        return req.room.code
    return " / ".join(x for x in (req.zone, req.room_kind) if x) or str(_l("any room"))


def params(req: BookingRequest, **extra) -> dict[str, Any]:
    return {"id": req.id, "tenant": req.tenant.name, "date": req.date, "recurring": bool(req.recurrence),
            "minutes": req.minutes, "window_start": req.window_start.strftime("%H:%M"),
            "window_end": req.window_end.strftime("%H:%M"), "place": place_text(req), **extra}


def notify(session: so.Session, req: BookingRequest, kind: str, users: list[User], *, key_extra: str = "",
           booking_id: int | None = None, **extra) -> None:
    """Send `kind` about `req` to each of `users` once (the key names the request and the step)."""
    p = params(req, **extra)
    for user in users:
        notifications.send(session, user, kind, f"request:{req.id}:{kind}{key_extra}:{user.id}", p,
                           booking_id=booking_id)


def tell_tenant(session: so.Session, req: BookingRequest, kind: str, **kw) -> None:
    notify(session, req, kind, tenant_users(session, req.tenant_id), **kw)


def tell_staff(session: so.Session, req: BookingRequest, kind: str, **kw) -> None:
    notify(session, req, kind, coordinators(session), **kw)


def sessions_text(bookings: list[Booking], tz) -> str:
    return ", ".join(f"{b.room.code} {b.starts_at.astimezone(tz):%m-%d %H:%M}–{b.ends_at.astimezone(tz):%H:%M}"
                     for b in bookings[:5]) + ("…" if len(bookings) > 5 else "")


def is_staff(user) -> bool:
    return user.role in ("admin", "manager", "coordinator")


def set_status(session: so.Session, req: BookingRequest, new: str, *, from_: tuple[str, ...],
               **values) -> bool:
    """Move `req` to `new` only if it is still in one of `from_` (a conditional
    UPDATE: of two writers, one wins); refreshes the object. Returns whether it moved."""
    session.flush()
    done = session.execute(
        sa.update(BookingRequest).where(BookingRequest.id == req.id, BookingRequest.status.in_(from_))
        .values(status=new, updated_at=clock.now(), **values)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(req)
    return bool(done)




def tenant_quota_left(session: so.Session, req: BookingRequest, slot: Interval) -> bool:
    """Whether the tenant's weekly prime-time quota still takes `slot` (the waitlist skips it otherwise)."""
    return not quota_breaches(session, req.tenant, [slot])
