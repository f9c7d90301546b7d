"""A request's way: asked (checked against the rules at once), then approved
(ordinary bookings, made by the bookings' own create service), rejected (with a
reason), withdrawn, or put on the waitlist; an offered slot accepted.

Every step is a conditional update on the request's status, so of two
coordinators deciding one request at once, one wins and the other gets a 409;
every step tells the other side (inbox and email, in the recipient's language).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.domain import requests as rules
from opsroom.domain.intervals import Interval
from opsroom.models import Booking, BookingRequest, Room, Tenant, request_bookings
from opsroom.services import audit
from opsroom.services.bookings.availability import busy_bookings
from opsroom.services.bookings.core import clash_detail, lock_contenders, rule_breach
from opsroom.services.bookings.create import create_booking
from opsroom.services.bookings.freed import Freed, time_freed
from opsroom.services.bookings.rules import expand_occurrences
from opsroom.services.errors import Conflict, Forbidden, RuleViolation, ValidationFailed
from opsroom.services.people_goods.assignments import load_anchor_entries
from opsroom.services.reporting.turned_away import record_unserved_request
from opsroom.services.permissions import require
from opsroom.services.requests import core
from opsroom.services.requests.core import Place
from opsroom.settings import settings_of
from opsroom.services.transaction import transactional

AUDIT_FIELDS = ("status", "room_id", "room_kind", "zone", "date", "window_start", "window_end", "minutes")
DECIDED_ELSEWHERE = _l("This request was decided a moment ago.")


def _breach(message, breaches: list[dict]) -> RuleViolation:
    return RuleViolation(message, breaches)


@transactional
def create_request(session: so.Session, user, data: dict[str, Any]) -> tuple[BookingRequest, list[Place]]:
    """Ask for time. A tenant's account asks for its own tenant; staff name one.

    Checked at once: the tenant may book (status), the anchors exist, belong to
    the tenant or the park and keep the anchor rules (a host is verified), the
    window lies in the future and some matching room is open, not blacked out,
    for the duration inside it. Returns the request and what fits now."""
    require(user, "requests.write")
    if user.role == "tenant":
        if data.get("tenant_id") not in (None, user.tenant_id):
            raise ValidationFailed(_l("Please correct the marked fields."),
                                   [{"field": "tenant_id", "message": _l("No such tenant.")}])
        tenant_id = user.tenant_id
    elif core.is_staff(user):
        tenant_id = data.get("tenant_id")
        if tenant_id is None:
            raise ValidationFailed(_l("Please correct the marked fields."),
                                   [{"field": "tenant_id", "message": _l("Choose a tenant.")}])
    else:
        raise Forbidden(_l("Your role may not do this."))
    tenant = session.get(Tenant, tenant_id)
    errors = []
    if tenant is None:
        errors.append({"field": "tenant_id", "message": _l("No such tenant.")})
    if data.get("room_id") is not None and session.get(Room, data["room_id"]) is None:
        errors.append({"field": "room_id", "message": _l("No such room.")})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    window_start, window_end = data["window_start"], data["window_end"]
    minutes = data.get("minutes") or rules.window_minutes(window_start, window_end)
    rule = data.get("recurrence")
    req = BookingRequest(
        tenant_id=tenant.id, tenant=tenant, status="pending", room_id=data.get("room_id"),
        room_kind=None if data.get("room_id") else (data.get("room_kind") or None),
        zone=None if data.get("room_id") else (data.get("zone") or None),
        date=data["date"], recurrence={k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                       for k, v in rule.items()} if rule else None,
        window_start=window_start, window_end=window_end, minutes=minutes,
        anchors=[{"anchor_id": a["anchor_id"], "role": a.get("role", "host")} for a in data.get("anchors") or []],
        note=(data.get("note") or "")[:2000], created_by_id=user.id, created_at=clock.now(),
    )
    if req.room_id is not None:
        req.room = session.get(Room, req.room_id)
    breaches = []
    if tenant.status != "active":
        breaches.append(rule_breach("tenant_status", "tenant_id"))
    if rule:
        first = rules.window_on(req.date, window_start, window_end, settings_of(session).tz)
        expand_occurrences(settings_of(session), first.start, first.end, core.recurrence_rule(req))  # 422 if bad
    breaches += _anchor_breaches(session, req)
    rooms = core.candidate_rooms(session, req)
    breaches += core.shape_breaches(session, req, rooms)
    if breaches:
        raise _breach(_l("The request breaks a rule of the park."), breaches)
    session.add(req)
    session.flush()
    audit.record(session, user, "request", req.id, "created", audit.snapshot(req, AUDIT_FIELDS))
    if user.role == "tenant":
        core.tell_staff(session, req, "request_created")
    else:
        core.tell_tenant(session, req, "request_created")
    return req, core.fits(session, req, rooms=rooms)


def _anchor_breaches(session: so.Session, req: BookingRequest) -> list[dict]:
    if not req.anchors:
        return []
    pairs = load_anchor_entries(session, req.anchors)  # 422 for unknown or inactive anchors
    out = []
    for i, (anchor, role) in enumerate(pairs):
        if anchor.tenant_id not in (None, req.tenant_id):
            out.append(rule_breach("anchor_tenant", f"anchors[{i}].anchor_id"))
        elif role == "host" and not anchor.verified:
            out.append(rule_breach("anchor_unverified", f"anchors[{i}].anchor_id"))
    return out


def _booking_data(req: BookingRequest, room: Room, slot: Interval, status: str = "confirmed") -> dict[str, Any]:
    return {"room_id": room.id, "tenant_id": req.tenant_id, "starts_at": slot.start, "ends_at": slot.end,
            "title": (req.note or "").splitlines()[0][:200] if req.note else "", "status": status,
            "anchors": req.anchors or None, "recurrence": core.recurrence_rule(req), "on_conflict": "reject"}


@transactional
def approve(session: so.Session, user, request_id: int, *, room_id: int | None = None,
            starts_at: datetime | None = None, override_reason: str | None = None) -> list[Booking]:
    """Approve a pending or waiting request: book it at the place given, else
    at the first that fits now, through the bookings' create service (its rules,
    and the database's guarantee against overlaps; a clash is its 409 with
    alternatives). The tenant's weekly prime-time quota and a higher-priority
    tenant's open request for the same time are kept unless staff override
    them with a reason (audited)."""
    require(user, "requests.decide")
    # No row lock here: the bookings' room lock comes first (a cancellation
    # holds it while it offers to waiting requests); the conditional update
    # below decides between two deciders.
    req = core.get_request(session, user, request_id)
    if req.status not in ("pending", "waiting"):
        raise _breach(_l("The request breaks a rule of the park."), [rule_breach("request_status", "status")])
    room, slot = _chosen_place(session, req, room_id, starts_at)
    overridden = core.check_limits(session, user, req, room, _all_slots(session, req, slot), override_reason)
    result = create_booking(session, user, _booking_data(req, room, slot))
    if not core.set_status(session, req, "approved", from_=("pending", "waiting"), decided_at=clock.now(),
                           decided_by_id=user.id, reason=(override_reason or "")[:500]):
        raise Conflict(DECIDED_ELSEWHERE, [])
    _link(session, req, result.bookings)
    audit.record(session, user, "request", req.id, "approved",
                 {"status": ["pending", "approved"], "booking_ids": [b.id for b in result.bookings],
                  **({"override": override_reason} if overridden else {})})
    core.tell_tenant(session, req, "request_approved",
                     sessions=core.sessions_text(result.bookings, settings_of(session).tz))
    return result.bookings


def _chosen_place(session: so.Session, req: BookingRequest, room_id: int | None,
                  starts_at: datetime | None) -> tuple[Room, Interval]:
    if starts_at is not None or room_id is not None:
        room = session.get(Room, room_id) if room_id is not None else None
        if room_id is not None and room is None:
            raise ValidationFailed(_l("Please correct the marked fields."),
                                   [{"field": "room_id", "message": _l("No such room.")}])
        if starts_at is None:
            places = core.fits(session, req, rooms=[room], limit=1)
            if not places:
                raise _no_fit(session, req, room)
            return places[0]
        if room is None:
            places = core.fits(session, req, limit=1)
            room = places[0].room if places else (core.candidate_rooms(session, req) or [None])[0]
            if room is None:
                raise _breach(_l("The request breaks a rule of the park."), [rule_breach("no_room", "room_id")])
        return room, Interval(starts_at, starts_at + timedelta(minutes=req.minutes))
    places = core.fits(session, req, limit=1)
    if not places:
        raise _no_fit(session, req, None)
    return places[0]


def _no_fit(session: so.Session, req: BookingRequest, room: Room | None) -> Conflict:
    """Nothing fits now: a 409 naming what is in the way of the window."""
    window = core.windows(session, req)[0]
    rooms = [room] if room is not None else core.candidate_rooms(session, req)
    tz = settings_of(session).tz
    busy = busy_bookings(session, [r.id for r in rooms], window, set()) if rooms else {}
    details = [clash_detail("room", b, tz) for bs in busy.values() for b in bs][:20]
    return Conflict(_l("Nothing fits this request now."), details)


def _all_slots(session: so.Session, req: BookingRequest, slot: Interval) -> list[Interval]:
    """The chosen slot on each of the request's days (the same local time)."""
    first = core.windows(session, req)
    offset, length = slot.start - first[0].start, slot.end - slot.start
    return [Interval(w.start + offset, w.start + offset + length) for w in first]


def _link(session: so.Session, req: BookingRequest, bookings: list[Booking]) -> None:
    if bookings:
        session.execute(request_bookings.insert(), [{"request_id": req.id, "booking_id": b.id} for b in bookings])


@transactional
def reject(session: so.Session, user, request_id: int, *, reason: str) -> BookingRequest:
    """Reject an open request, with a reason (required). When nothing fitted at
    the time, it counts as turned-away demand (no room)."""
    require(user, "requests.decide")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "reason", "message": _l("Give a reason.")}])
    req = core.get_request(session, user, request_id, lock=True)
    old = req.status
    no_room = old in ("pending", "waiting") and not core.fits(session, req, limit=1)
    _release_offer(session, user, req)
    if not core.set_status(session, req, "rejected", from_=("pending", "waiting", "offered"),
                           decided_at=clock.now(), decided_by_id=user.id, reason=reason[:500], no_room=no_room):
        raise _breach(_l("The request breaks a rule of the park."), [rule_breach("request_status", "status")])
    if no_room:  # demand the park could not serve
        rooms = core.candidate_rooms(session, req)
        want = [Interval(w.start, w.start + timedelta(minutes=req.minutes)) for w in core.windows(session, req)]
        record_unserved_request(session, req.created_by_id, rooms[0] if rooms else None, want, req.tenant_id)
    audit.record(session, user, "request", req.id, "rejected", {"status": [old, "rejected"], "reason": reason[:500]})
    core.tell_tenant(session, req, "request_rejected", reason=reason[:500])
    return req


@transactional
def withdraw(session: so.Session, user, request_id: int) -> BookingRequest:
    """The tenant (or staff) takes back an open request; an offered hold is released."""
    require(user, "requests.write")
    req = core.get_request(session, user, request_id, lock=True)
    old = req.status
    if not core.set_status(session, req, "withdrawn", from_=("pending", "waiting", "offered"),
                           decided_at=clock.now(), decided_by_id=user.id):
        raise _breach(_l("The request breaks a rule of the park."), [rule_breach("request_status", "status")])
    _release_offer(session, user, req)
    audit.record(session, user, "request", req.id, "withdrawn", {"status": [old, "withdrawn"]})
    if user.role == "tenant":
        core.tell_staff(session, req, "request_withdrawn")
    else:
        core.tell_tenant(session, req, "request_withdrawn")
    return req


def _release_offer(session: so.Session, user, req: BookingRequest) -> None:
    """Cancel the open offer's hold (its time freed goes to the next in line)."""
    hold = req.offer_booking
    if req.status in ("offered", "withdrawn", "rejected") and hold is not None and hold.status == "hold":
        lock_contenders(session, rooms=[hold.room_id])
        now = clock.now()
        hold.status, hold.cancelled_at, hold.cancel_reason = "cancelled", now, "offer_released"
        audit.record(session, user, "booking", hold.id, "cancelled", {"status": ["hold", "cancelled"]})
        session.flush()
        time_freed(session, [Freed(hold.room_id, max(hold.starts_at, now), hold.ends_at, hold.id)])


@transactional
def wait(session: so.Session, user, request_id: int) -> BookingRequest:
    """Put a pending request on the waitlist (staff, or the tenant on its own):
    it is offered the first matching time that frees. One date only."""
    require(user, "requests.write")
    req = core.get_request(session, user, request_id, lock=True)
    if req.recurrence:
        raise _breach(_l("The request breaks a rule of the park."), [rule_breach("wait_recurring", "recurrence")])
    if not core.set_status(session, req, "waiting", from_=("pending",)):
        raise _breach(_l("The request breaks a rule of the park."), [rule_breach("request_status", "status")])
    audit.record(session, user, "request", req.id, "waiting", {"status": ["pending", "waiting"]})
    if core.is_staff(user):
        core.tell_tenant(session, req, "request_waiting")
    return req


@transactional
def accept(session: so.Session, user, request_id: int) -> list[Booking]:
    """Accept an offered slot before its deadline: the hold is confirmed."""
    require(user, "requests.write")
    req = core.get_request(session, user, request_id, lock=True)
    hold = req.offer_booking
    if req.status != "offered" or hold is None or hold.status != "hold":
        raise _breach(_l("The request breaks a rule of the park."), [rule_breach("request_status", "status")])
    now = clock.now()
    if req.offer_expires_at <= now:
        raise _breach(_l("The request breaks a rule of the park."), [rule_breach("offer_expired", "status")])
    if req.tenant.status != "active":
        raise _breach(_l("The request breaks a rule of the park."), [rule_breach("tenant_status", "tenant_id")])
    if not core.set_status(session, req, "approved", from_=("offered",), decided_at=now, decided_by_id=user.id):
        raise Conflict(DECIDED_ELSEWHERE, [])
    hold.status, hold.hold_expires_at = "confirmed", None
    _link(session, req, [hold])
    audit.record(session, user, "booking", hold.id, "confirmed", {"status": ["hold", "confirmed"]})
    audit.record(session, user, "request", req.id, "accepted", {"status": ["offered", "approved"]})
    if user.role == "tenant":
        core.tell_staff(session, req, "offer_accepted", booking_id=hold.id, room=hold.room.code,
                        starts_at=hold.starts_at, ends_at=hold.ends_at)
    return [hold]


