"""Creating bookings: one, or a series by a recurrence rule, with their anchors and lineup.

Rules are checked here before writing; the database refuses any overlap that
slips past (exclusion constraint on PostgreSQL, triggers on SQLite), and a
refusal is turned into the same 409 a checked clash gets."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.domain import booking_rules
from opsroom.domain.intervals import Interval
from opsroom.settings import settings_of
from opsroom.models import Booking, Room, Series
from opsroom.services.permissions import require
from opsroom.services import audit
from opsroom.services.people_goods import assignments
from opsroom.services.errors import Conflict, RuleViolation
from opsroom.services.bookings.availability import blackouts_by_room, busy_bookings, clashes_of, find_clashes, raise_conflict
from opsroom.services.bookings.core import AUDIT_FIELDS
from opsroom.services.bookings.lifecycle import expire_holds
from opsroom.services.bookings.rules import expand_occurrences, load_refs, rule_breaches
from opsroom.services.bookings.core import flush_or_conflict, lock_contenders
from opsroom.services.integrations import outbox
from opsroom.services.transaction import transactional


ANCHOR_RACE = _l("An anchor was assigned elsewhere a moment ago.")


@dataclass
class CreateResult:
    bookings: list[Booking]
    skipped: list[dict[str, Any]] = field(default_factory=list)
    series: Series | None = None


@transactional
def create_booking(session: so.Session, user, data: dict[str, Any]) -> CreateResult:
    """Book a room for a tenant, once or by a recurrence rule.

    Every occurrence must keep the rules (else 422 rule_violation naming each)
    and clash with no active booking's occupied range nor a blackout. With
    on_conflict "reject" one clash creates nothing and the 409 lists every
    clash; with "skip" the clashing occurrences are left out and reported.
    """
    require(user, "bookings.write")
    room, tenant = load_refs(session, data["room_id"], data["tenant_id"])
    # Who hears of new bookings (robots, webhooks), read before anything is written.
    listeners = outbox.active_targets(session)
    status = data.get("status") or "confirmed"
    rule = data.get("recurrence")
    settings = settings_of(session)
    occurrences = expand_occurrences(settings, data["starts_at"], data["ends_at"], rule)

    breaches: list[dict] = []
    for occ in occurrences:
        for b in rule_breaches(settings, room, tenant, occ.start, occ.end, user=user):
            if b not in breaches:
                breaches.append(b)
    if breaches:
        raise RuleViolation(_l("The booking breaks a rule of the park."), breaches)

    # Other writers of this room and these anchors wait from here to our commit.
    lock_contenders(session, rooms=[room.id], anchors=[e["anchor_id"] for e in data.get("anchors") or []])
    span = Interval(occurrences[0].start, occurrences[-1].end + timedelta(minutes=room.changeover_minutes))
    busy = busy_bookings(session, [room.id], span, set())[room.id]
    # An expired hold blocks nothing: those in the way are cancelled here, the
    # rest by the scheduler's sweep (a room-wide update read all the room's
    # ~2,000 bookings a year; usually there is none, and no statement).
    stale = [b.id for b in busy if b.status == "hold" and b.hold_expires_at and b.hold_expires_at <= clock.now()]
    if stale:
        expire_holds(session, booking_ids=stale)
        busy = [b for b in busy if b.id not in stale]
    blk = blackouts_by_room(session, [room.id], span)[room.id]
    keep, skipped, all_clashes = [], [], []
    tz = settings.tz
    for occ in occurrences:
        clashes = clashes_of(occ, room.changeover_minutes, busy, blk, tz)
        if clashes:
            all_clashes.extend(clashes)
            skipped.append({"starts_at": occ.start.astimezone(tz).isoformat(),
                            "ends_at": occ.end.astimezone(tz).isoformat(), "details": clashes})
        else:
            keep.append(occ)
    if all_clashes and (data.get("on_conflict") or "reject") == "reject":
        raise_conflict(session, room, all_clashes, occurrences[0] if not rule else None, user=user,
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
    hold_until = now + timedelta(minutes=settings.hold_minutes)
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
        raise_conflict(session, fresh_room, clashes, keep[0] if not rule else None, user=user,
                        tenant_id=data["tenant_id"], refused=keep)

    flush_or_conflict(session, on_overlap, anchor_message=ANCHOR_RACE)
    if not together:
        _attach_people_and_goods(session, created, data)
    for booking in created:
        audit.record(session, user, "booking", booking.id, "created", audit.snapshot(booking, AUDIT_FIELDS))
    outbox.bookings_created(session, created, listeners)
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
