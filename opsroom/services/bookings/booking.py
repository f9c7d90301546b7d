"""Bookings (场次): create, recur, move, confirm, cancel, check in.

Rules are checked here before writing (DESIGN.md §4); the database refuses any
overlap that slips past (exclusion constraint on PostgreSQL, triggers on
SQLite), and a refusal is turned into the same 409 a checked clash gets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.domain import availability, booking_rules, hours, recurrence
from opsroom.domain.intervals import Interval, subtract
from opsroom.i18n import park_tz
from opsroom.models import Anchor, Assignment, Blackout, Booking, LineupItem, Room, Series, Tenant
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.services.permissions import require
from opsroom.services import audit
from opsroom.services.operations import notifications
from opsroom.services.people_goods import assignments
from opsroom.services.bookings.core import (  # noqa: F401  (re-exported: callers import them from here)
    flush_or_conflict, get_booking, is_assigned, lock_booking, lock_contenders, rule_breach,
)
from opsroom.services.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationFailed

AUDIT_FIELDS = ("room_id", "tenant_id", "title", "starts_at", "ends_at", "status")
ANCHOR_RACE = _l("An anchor was assigned elsewhere a moment ago.")


@dataclass
class CreateResult:
    bookings: list[Booking]
    skipped: list[dict[str, Any]] = field(default_factory=list)
    series: Series | None = None


# ---------------------------------------------------------------------------
# Reading


def list_bookings(session: so.Session, user, *, start: datetime | None = None, end: datetime | None = None,
                  room_id: int | None = None, tenant_id: int | None = None, status: str | None = None,
                  limit: int = 1000) -> list[Booking]:
    """Bookings overlapping [start, end), oldest first."""
    require(user, "bookings.read")
    q = sa.select(Booking).options(
        so.joinedload(Booking.room), so.joinedload(Booking.tenant),
        so.selectinload(Booking.assignments).joinedload(Assignment.anchor),
        so.selectinload(Booking.lineup).joinedload(LineupItem.product),
    )
    if user.role == "anchor":  # only their own sessions
        q = q.where(Booking.id.in_(
            sa.select(Assignment.booking_id).join(Anchor, Anchor.id == Assignment.anchor_id)
            .where(Anchor.user_id == user.id)))
    if start is not None:
        q = q.where(Booking.ends_at > start)
    if end is not None:
        q = q.where(Booking.starts_at < end)
    if room_id is not None:
        q = q.where(Booking.room_id == room_id)
    if tenant_id is not None:
        q = q.where(Booking.tenant_id == tenant_id)
    if status is not None:
        q = q.where(Booking.status == status)
    return list(session.scalars(q.order_by(Booking.starts_at, Booking.id).limit(limit)))


def clash_detail(kind: str, obj) -> dict[str, Any]:
    """One clash as API.md lists it; instants in the park timezone."""
    tz = park_tz()
    detail: dict[str, Any] = {"kind": kind}
    if kind == "blackout":
        detail["blackout_id"] = obj.id
        detail["reason"] = obj.reason
    else:
        detail["booking_id"] = obj.id
    detail["starts_at"] = obj.starts_at.astimezone(tz).isoformat()
    detail["ends_at"] = obj.ends_at.astimezone(tz).isoformat()
    if kind == "room":  # the room is free again only after the changeover
        detail["occupied_until"] = obj.occupied_until.astimezone(tz).isoformat()
    return detail


# ---------------------------------------------------------------------------
# Holds


def expire_holds(session: so.Session, *, room_ids: list[int] | None = None,
                 booking_ids: list[int] | None = None) -> int:
    """Cancel every hold whose time is up (of the rooms, of the bookings). Idempotent conditional update."""
    now = clock.now()
    q = (
        sa.update(Booking)
        .where(Booking.status == "hold", Booking.hold_expires_at <= now)
        .values(status="cancelled", cancelled_at=now, cancel_reason="hold_expired")
    )
    if room_ids is not None:
        q = q.where(Booking.room_id.in_(room_ids))
    if booking_ids is not None:
        q = q.where(Booking.id.in_(booking_ids))
    # A Core statement: nothing in the session needs synchronizing (the ORM's
    # bulk-update path cost more than the statement).
    return session.connection().execute(q).rowcount or 0


# ---------------------------------------------------------------------------
# Rules


def _settings() -> dict[str, int]:
    cfg = current_app.config
    return {
        "granularity": cfg["BOOKING_GRANULARITY_MINUTES"],
        "hold_minutes": cfg["HOLD_MINUTES"],
        "max_occurrences": cfg["MAX_RECURRENCE_OCCURRENCES"],
        "alternatives": cfg["ALTERNATIVES_LIMIT"],
        "checkin_before": cfg["CHECKIN_OPENS_MINUTES_BEFORE"],
    }


def rule_breaches(room: Room, tenant: Tenant, starts_at: datetime, ends_at: datetime, *, user,
                  check_past: bool = True) -> list[dict[str, Any]]:
    """Every rule a booking of `room` for `tenant` over [starts_at, ends_at) breaks:
    open hours, granularity, min/max duration, start in the future (admins
    excepted), an active tenant and a bookable room."""
    settings = _settings()
    breaches = []
    if not room.active:
        breaches.append(rule_breach("room_inactive", "room_id"))
    if tenant.status != "active":
        breaches.append(rule_breach("tenant_status", "tenant_id"))
    if check_past and starts_at < clock.now() and user.role != "admin":
        breaches.append(rule_breach("past", "starts_at"))
    for b in booking_rules.check_shape(
        starts_at, ends_at, open_time=room.open_time, close_time=room.close_time, tz=park_tz(),
        granularity_minutes=settings["granularity"], min_minutes=room.min_minutes, max_minutes=room.max_minutes,
    ):
        breaches.append(rule_breach(b.code, b.field, **b.params))
    return breaches


def _busy(session: so.Session, room_ids: list[int], window: Interval, exclude: set[int]) -> dict[int, list[Booking]]:
    """Active bookings of the rooms whose occupied range meets `window`."""
    rows = session.scalars(
        sa.select(Booking).where(
            Booking.room_id.in_(room_ids),
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at < window.end,
            Booking.starts_at >= window.start - booking_rules.LONGEST_OCCUPANCY,
            Booking.occupied_until > window.start,
        )
    ).all()
    out: dict[int, list[Booking]] = {rid: [] for rid in room_ids}
    for b in rows:
        if b.id not in exclude:
            out[b.room_id].append(b)
    return out


def _blackouts(session: so.Session, room_ids: list[int], window: Interval) -> dict[int, list[Blackout]]:
    rows = session.scalars(
        sa.select(Blackout).where(
            Blackout.room_id.in_(room_ids), Blackout.starts_at < window.end, Blackout.ends_at > window.start
        )
    ).all()
    out: dict[int, list[Blackout]] = {rid: [] for rid in room_ids}
    for b in rows:
        out[b.room_id].append(b)
    return out


def _clashes_of(occ: Interval, changeover: int, busy: list[Booking], blackouts: list[Blackout]) -> list[dict]:
    """A booking over `occ` clashes with a booking whose occupied range meets its
    own occupied range [start, end + changeover), and with a blackout over [start, end)."""
    mine = booking_rules.occupied(occ.start, occ.end, changeover)
    found = [clash_detail("room", b) for b in busy if Interval(b.starts_at, b.occupied_until).overlaps(mine)]
    found += [clash_detail("blackout", b) for b in blackouts if Interval(b.starts_at, b.ends_at).overlaps(occ)]
    return found


def _clashes_any(occ: Interval, changeover: int, busy: list[Booking], blackouts: list[Blackout]) -> bool:
    """Whether _clashes_of would find any (without describing them)."""
    mine = booking_rules.occupied(occ.start, occ.end, changeover)
    return (any(Interval(b.starts_at, b.occupied_until).overlaps(mine) for b in busy)
            or any(Interval(b.starts_at, b.ends_at).overlaps(occ) for b in blackouts))


def find_clashes(session: so.Session, room: Room, starts_at: datetime, ends_at: datetime,
                 exclude: set[int] | None = None) -> list[dict]:
    occ = Interval(starts_at, ends_at)
    span = booking_rules.occupied(starts_at, ends_at, room.changeover_minutes)
    busy = _busy(session, [room.id], span, exclude or set())[room.id]
    blackouts = _blackouts(session, [room.id], occ)[room.id]
    return _clashes_of(occ, room.changeover_minutes, busy, blackouts)


# ---------------------------------------------------------------------------
# Alternatives


def bookable_windows(session: so.Session, room: Room, window: Interval) -> list[Interval]:
    """Open hours ∩ window, minus blackouts."""
    opened = hours.open_windows(room.open_time, room.close_time, window, park_tz())
    closed = [Interval(b.starts_at, b.ends_at) for b in _blackouts(session, [room.id], window)[room.id]]
    return subtract(opened, closed)


def alternatives(session: so.Session, room: Room, starts_at: datetime, ends_at: datetime,
                 exclude: set[int] | None = None) -> dict[str, list[dict]]:
    """Where else the wanted slot fits: the same window in other free rooms of
    the same kind, and the nearest free windows in the asked room that day."""
    settings = _settings()
    tz = park_tz()
    exclude = exclude or set()
    want = Interval(starts_at, ends_at)
    limit = settings["alternatives"]

    others = session.scalars(
        sa.select(Room).where(Room.kind == room.kind, Room.id != room.id, Room.active.is_(True)).order_by(Room.code)
    ).all()
    rooms_out: list[dict] = []
    if others:
        ids = [r.id for r in others]
        span = Interval(starts_at, ends_at + timedelta(minutes=max(r.changeover_minutes for r in others)))
        busy = _busy(session, ids, span, exclude)
        blk = _blackouts(session, ids, want)
        misshapen: dict[tuple, bool] = {}  # rooms of a kind mostly share their hours and limits
        for other in others:
            if _clashes_any(want, other.changeover_minutes, busy[other.id], blk[other.id]):
                continue
            key = (other.open_time, other.close_time, other.min_minutes, other.max_minutes)
            if key not in misshapen:
                misshapen[key] = bool(booking_rules.check_shape(
                    starts_at, ends_at, open_time=other.open_time, close_time=other.close_time, tz=tz,
                    granularity_minutes=settings["granularity"], min_minutes=other.min_minutes,
                    max_minutes=other.max_minutes,
                ))
            if misshapen[key]:
                continue
            rooms_out.append({"room_id": other.id, "code": other.code, "name": other.name,
                              "starts_at": starts_at.astimezone(tz).isoformat(),
                              "ends_at": ends_at.astimezone(tz).isoformat()})
            if len(rooms_out) >= limit:
                break

    day = hours.local_day(starts_at.astimezone(tz).date(), tz)
    now = clock.now()
    bookable = subtract(bookable_windows(session, room, day), [Interval(day.start, max(day.start, now))])
    busy_here = _busy(session, [room.id], Interval(day.start, day.end + timedelta(days=1)), exclude)[room.id]
    slots = availability.nearest_slots(
        want=want, bookable=bookable, busy_occupied=[Interval(b.starts_at, b.occupied_until) for b in busy_here],
        changeover_minutes=room.changeover_minutes, granularity_minutes=settings["granularity"], tz=tz, limit=limit,
    )
    return {
        "rooms": rooms_out,
        "slots": [{"starts_at": s.start.astimezone(tz).isoformat(), "ends_at": s.end.astimezone(tz).isoformat()}
                  for s in slots],
    }


def free_windows(session: so.Session, user, room_id: int, day: date) -> list[Interval]:
    """The room's free time on a park-local day: open hours, minus blackouts,
    minus what active bookings occupy (their changeover included)."""
    require(user, "rooms.read")
    room = session.get(Room, room_id)
    if room is None:
        raise NotFound(_l("No such room."))
    window = hours.local_day(day, park_tz())
    busy = _busy(session, [room.id], window, set())[room.id]
    return availability.free_windows(
        bookable_windows(session, room, window), [Interval(b.starts_at, b.occupied_until) for b in busy]
    )


# ---------------------------------------------------------------------------
# Writing


def _load_refs(session: so.Session, room_id: int, tenant_id: int) -> tuple[Room, Tenant]:
    # Both in one statement; when one is missing, each on its own to name it.
    found = session.execute(
        sa.select(Room, Tenant).join(Tenant, Tenant.id == tenant_id).where(Room.id == room_id)).first()
    if found is not None:
        return found[0], found[1]
    room, tenant = session.get(Room, room_id), session.get(Tenant, tenant_id)
    errors = []
    if room is None:
        errors.append({"field": "room_id", "message": _l("No such room.")})
    if tenant is None:
        errors.append({"field": "tenant_id", "message": _l("No such tenant.")})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    return room, tenant


def _occurrences(starts_at: datetime, ends_at: datetime, rule: dict | None) -> list[Interval]:
    if not rule:
        return [Interval(starts_at, ends_at)]
    try:
        found = recurrence.expand(
            starts_at, ends_at, freq=rule.get("freq"), tz=park_tz(), interval=rule.get("interval") or 1,
            weekdays=rule.get("weekdays"), until=rule.get("until"), count=rule.get("count"),
            max_occurrences=_settings()["max_occurrences"],
        )
    except recurrence.RecurrenceError as exc:
        raise RuleViolation(
            _l("The recurrence rule is not valid."),
            [rule_breach(exc.code, f"recurrence.{exc.field}", max=_settings()["max_occurrences"])],
        ) from None
    if not found:  # e.g. until ends before the first chosen weekday
        raise RuleViolation(_l("The recurrence rule is not valid."), [rule_breach("until", "recurrence.until")])
    return found


def _raise_conflict(session: so.Session, room: Room, clashes: list[dict], want: Interval | None,
                    exclude: set[int] | None = None, *, user=None, tenant_id: int | None = None,
                    refused: list[Interval] | None = None) -> None:
    extra = {}
    if want is not None:
        extra["alternatives"] = alternatives(session, room, want.start, want.end, exclude)
    from opsroom.services.reporting import reports  # turned-away demand, in a transaction of its own

    reports.record_turned_away(session, user, room, refused if refused is not None else [want] if want else [],
                               tenant_id)
    raise Conflict(_l("The room is taken at this time."), clashes, **extra)


def create_booking(session: so.Session, user, data: dict[str, Any]) -> CreateResult:
    """Book a room for a tenant, once or by a recurrence rule.

    Every occurrence must keep the rules (else 422 rule_violation naming each)
    and clash with no active booking's occupied range nor a blackout. With
    on_conflict "reject" one clash creates nothing and the 409 lists every
    clash; with "skip" the clashing occurrences are left out and reported.
    Commits.
    """
    require(user, "bookings.write")
    room, tenant = _load_refs(session, data["room_id"], data["tenant_id"])
    status = data.get("status") or "confirmed"
    rule = data.get("recurrence")
    occurrences = _occurrences(data["starts_at"], data["ends_at"], rule)

    breaches: list[dict] = []
    for occ in occurrences:
        for b in rule_breaches(room, tenant, occ.start, occ.end, user=user):
            if b not in breaches:
                breaches.append(b)
    if breaches:
        raise RuleViolation(_l("The booking breaks a rule of the park."), breaches)

    # Other writers of this room and these anchors wait from here to our commit.
    lock_contenders(session, rooms=[room.id], anchors=[e["anchor_id"] for e in data.get("anchors") or []])
    span = Interval(occurrences[0].start, occurrences[-1].end + timedelta(minutes=room.changeover_minutes))
    busy = _busy(session, [room.id], span, set())[room.id]
    # An expired hold blocks nothing: those in the way are cancelled here, the
    # rest by the scheduler's sweep (a room-wide update read all the room's
    # ~2,000 bookings a year; usually there is none, and no statement).
    stale = [b.id for b in busy if b.status == "hold" and b.hold_expires_at and b.hold_expires_at <= clock.now()]
    if stale:
        expire_holds(session, booking_ids=stale)
        busy = [b for b in busy if b.id not in stale]
    blk = _blackouts(session, [room.id], span)[room.id]
    keep, skipped, all_clashes = [], [], []
    tz = park_tz()
    for occ in occurrences:
        clashes = _clashes_of(occ, room.changeover_minutes, busy, blk)
        if clashes:
            all_clashes.extend(clashes)
            skipped.append({"starts_at": occ.start.astimezone(tz).isoformat(),
                            "ends_at": occ.end.astimezone(tz).isoformat(), "details": clashes})
        else:
            keep.append(occ)
    if all_clashes and (data.get("on_conflict") or "reject") == "reject":
        _raise_conflict(session, room, all_clashes, occurrences[0] if not rule else None, user=user,
                        tenant_id=tenant.id, refused=[o for o in occurrences if o not in keep])
    if not keep:
        return CreateResult([], skipped)

    now = clock.now()
    series = None
    if rule:
        series = Series(rule={k: (v.isoformat() if isinstance(v, date) else v) for k, v in rule.items()},
                        created_by_id=user.id)
        session.add(series)
        session.flush()
    hold_until = now + timedelta(minutes=_settings()["hold_minutes"])
    created = []
    for occ in keep:
        created.append(Booking(
            room_id=room.id, tenant_id=tenant.id, title=data.get("title") or "", starts_at=occ.start,
            ends_at=occ.end, occupied_until=booking_rules.occupied(occ.start, occ.end, room.changeover_minutes).end,
            status=status, hold_expires_at=min(hold_until, occ.start) if status == "hold" else None,
            series_id=series.id if series else None, created_by_id=user.id, created_at=now,
        ))
    # One booking: its anchors and lineup are checked before it is written, and
    # one flush writes it with them (occurrences of a series are checked one
    # after another instead, each against those written before it).
    together = len(created) == 1
    if together:
        assignments.setup_new(session, created[0], data.get("anchors"), _shifted_lineup(created[0], data))
    session.add_all(created)

    def on_overlap():
        fresh_room = session.get(Room, data["room_id"])
        clashes = [c for occ in keep for c in find_clashes(session, fresh_room, occ.start, occ.end)]
        _raise_conflict(session, fresh_room, clashes, keep[0] if not rule else None, user=user,
                        tenant_id=data["tenant_id"], refused=keep)

    flush_or_conflict(session, on_overlap, anchor_message=ANCHOR_RACE)
    if not together:
        _attach_people_and_goods(session, created, data)
    for booking in created:
        audit.record(session, user, "booking", booking.id, "created", audit.snapshot(booking, AUDIT_FIELDS))
    session.commit()
    return CreateResult(created, skipped, series)


def _shifted_lineup(booking: Booking, data: dict) -> list[dict]:
    """The lineup asked for, its planned product times keeping their offset
    from the first occurrence's start."""
    shift = booking.starts_at - data["starts_at"]
    if not shift:
        return data.get("lineup") or []
    return [{**item, "planned_start": item.get("planned_start") and item["planned_start"] + shift,
             "planned_end": item.get("planned_end") and item["planned_end"] + shift}
            for item in data.get("lineup") or []]


def _attach_people_and_goods(session: so.Session, created: list[Booking], data: dict) -> None:
    """Anchors and lineup given with new bookings of a series follow the same
    rules as PUT /anchors and /lineup; each occurrence is checked, and planned
    product times keep their offset from the start."""
    if not data.get("anchors") and not data.get("lineup"):
        return
    for booking in created:
        if data.get("anchors"):
            assignments.apply_anchors(session, booking, data["anchors"])
        if data.get("lineup"):
            assignments.apply_lineup(session, booking, _shifted_lineup(booking, data))

    def on_overlap():
        raise Conflict(ANCHOR_RACE, [])

    flush_or_conflict(session, on_overlap)


def update_booking(session: so.Session, user, booking_id: int, data: dict[str, Any]) -> Booking:
    """Move, resize, retitle or re-room one booking under the same rules as a
    new one. Other occurrences of its series are untouched. Commits."""
    require(user, "bookings.write")
    lock_booking(session, booking_id)
    booking = get_booking(session, user, booking_id)
    if booking.status not in ACTIVE_STATUSES:
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    # Other writers of both rooms and of its anchors wait from here to our commit.
    lock_contenders(session, rooms=[booking.room_id, data.get("room_id", booking.room_id)],
                    anchors=[a.anchor_id for a in booking.assignments])
    expire_holds(session, room_ids=[booking.room_id])
    session.refresh(booking)
    if booking.status not in ACTIVE_STATUSES:
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("hold_expired", "status")])

    room_id = data.get("room_id", booking.room_id)
    room, tenant = _load_refs(session, room_id, booking.tenant_id)
    starts_at = data.get("starts_at", booking.starts_at)
    ends_at = data.get("ends_at", booking.ends_at)
    before = audit.snapshot(booking, AUDIT_FIELDS)
    moved = (room.id, starts_at, ends_at) != (booking.room_id, booking.starts_at, booking.ends_at)
    was = {"old_room": booking.room.code, "old_starts_at": booking.starts_at, "old_ends_at": booking.ends_at}
    if moved:
        breaches = rule_breaches(room, tenant, starts_at, ends_at, user=user,
                                 check_past=starts_at != booking.starts_at)
        if breaches:
            raise RuleViolation(_l("The booking breaks a rule of the park."), breaches)
        clashes = find_clashes(session, room, starts_at, ends_at, exclude={booking.id})
        if clashes:
            _raise_conflict(session, room, clashes, Interval(starts_at, ends_at), {booking.id}, user=user,
                            tenant_id=booking.tenant_id)
        pairs = [(a.anchor, a.role) for a in booking.assignments]
        if pairs:
            assignments.check_anchors(session, booking, pairs, starts_at, ends_at)
        assignments.shift_lineup(booking, starts_at - booking.starts_at)
    booking.room_id = room.id
    booking.starts_at, booking.ends_at = starts_at, ends_at
    booking.occupied_until = booking_rules.occupied(starts_at, ends_at, room.changeover_minutes).end
    if "title" in data:
        booking.title = data["title"]

    def on_overlap():
        fresh_room = session.get(Room, room_id)
        clashes = find_clashes(session, fresh_room, starts_at, ends_at, exclude={booking_id})
        _raise_conflict(session, fresh_room, clashes, Interval(starts_at, ends_at), {booking_id})

    flush_or_conflict(session, on_overlap)
    if moved:  # its anchors are told, in this same transaction
        notifications.booking_moved(session, booking, **was)
    changes = audit.diff(before, audit.snapshot(booking, AUDIT_FIELDS))
    if changes:
        audit.record(session, user, "booking", booking.id, "moved" if moved else "updated", changes)
    session.commit()
    return booking


def confirm_booking(session: so.Session, user, booking_id: int) -> Booking:
    """A hold becomes confirmed, if it has not expired and the tenant may still book. Commits."""
    require(user, "bookings.write")
    booking = get_booking(session, user, booking_id)
    if booking.status == "confirmed":
        return booking
    if booking.status == "hold" and booking.hold_expires_at and booking.hold_expires_at <= clock.now():
        expire_holds(session, room_ids=[booking.room_id])
        session.commit()
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("hold_expired", "status")])
    if booking.status != "hold":
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    if booking.tenant.status != "active":
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("tenant_status", "tenant_id")])
    booking.status, booking.hold_expires_at = "confirmed", None
    audit.record(session, user, "booking", booking.id, "confirmed", {"status": ["hold", "confirmed"]})
    session.commit()
    return booking


def cancel_booking(session: so.Session, user, booking_id: int, *, reason: str = "",
                   scope: str = "one") -> list[Booking]:
    """Cancel one booking, or it and the following ones of its series. The rows
    stay for reports; the room is free again at once. Commits."""
    require(user, "bookings.write")
    booking = get_booking(session, user, booking_id)
    if booking.status not in ACTIVE_STATUSES:
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    targets = [booking]
    if scope == "following" and booking.series_id is not None:
        targets = list(session.scalars(
            sa.select(Booking).where(
                Booking.series_id == booking.series_id,
                Booking.starts_at >= booking.starts_at,
                Booking.status.in_(ACTIVE_STATUSES),
            ).order_by(Booking.starts_at)
        ))
    now = clock.now()
    for b in targets:
        old = b.status
        b.status, b.cancelled_at, b.cancel_reason = "cancelled", now, reason[:200]
        audit.record(session, user, "booking", b.id, "cancelled",
                     {"status": [old, "cancelled"], "reason": reason[:200], "scope": scope})
        notifications.booking_cancelled(session, b)
    session.commit()
    return targets


def check_in(session: so.Session, user, booking_id: int) -> Booking:
    """Record that the team is in the room: from a set time before the start
    until the end; a started booking goes live. Commits."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(_l("No such booking."))
    may_check_in(session, user, booking)
    now = clock.now()
    opens = booking.starts_at - timedelta(minutes=_settings()["checkin_before"])
    if booking.status not in ("confirmed", "live"):
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    if not (opens <= now < booking.ends_at):
        raise RuleViolation(_l("The booking breaks a rule of the park."),
                            [rule_breach("checkin_window", "checked_in_at", minutes=_settings()["checkin_before"])])
    if booking.checked_in_at is None:
        booking.checked_in_at = now
        if now >= booking.starts_at:
            booking.status = "live"
        audit.record(session, user, "booking", booking.id, "checked_in", {"checked_in_at": now.isoformat()})
        session.commit()
    return booking


def may_check_in(session: so.Session, user, booking: Booking) -> None:
    """Staff may check any booking in; an anchor only a session they are in."""
    if user.role == "anchor":
        if not is_assigned(session, user, booking.id):
            raise Forbidden(_l("You may only check in to your own sessions."))
        return
    require(user, "bookings.write")
