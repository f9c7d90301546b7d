"""The waitlist (候补): time that frees is offered at once, in the same
transaction, to the first waiting request it fits (tenant priority, then age).

An offer is a hold booking in the tenant's name with a deadline; the request
becomes `offered`. Exactly once, whatever runs at the same time:
- the request moves from `waiting` only by a conditional update, so of two
  transactions freeing time for it (two cancellations, two schedulers) one
  offers and the other finds it offered and goes on to the next request;
- the hold is an ordinary active booking: the database refuses a second one
  over the same time (exclusion constraint / triggers), so one slot is never
  offered twice, nor to a request and a manual booking both;
- each attempt runs in a savepoint, so a refused hold costs the cancellation
  that freed the time nothing.
An offer not accepted by its deadline lapses when the scheduler's sweep expires
its hold (services/bookings/lifecycle.expire_holds): the request becomes
`lapsed` (turned-away demand) and the freed time goes to the next in line.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from opsroom import clock
from opsroom.domain import booking_rules
from opsroom.domain.intervals import Interval
from opsroom.models import Booking, BookingRequest, Room, Tenant
from opsroom.services import audit
from opsroom.services.bookings.core import lock_contenders
from opsroom.services.bookings.freed import Freed, on_time_freed
from opsroom.services.reporting.turned_away import record_unserved_request
from opsroom.services.requests import core
from opsroom.settings import settings_of


@on_time_freed
def time_freed(session: so.Session, freed: list[Freed]) -> None:
    """Lapse the offers whose holds were freed, then offer each freed piece."""
    lapse_offers(session, [f.booking_id for f in freed])
    for piece in freed:
        offer_freed_time(session, piece)


def lapse_offers(session: so.Session, hold_ids: list[int]) -> int:
    """Offered requests whose hold is gone (expired, cancelled) lapse."""
    if not hold_ids:
        return 0
    lapsed = session.scalars(sa.select(BookingRequest).where(
        BookingRequest.offer_booking_id.in_(hold_ids), BookingRequest.status == "offered")).all()
    count = 0
    for req in lapsed:
        hold = req.offer_booking
        if not core.set_status(session, req, "lapsed", from_=("offered",), no_room=True):
            continue
        count += 1
        audit.record(session, None, "request", req.id, "lapsed", {"status": ["offered", "lapsed"]})
        if hold is not None:
            record_unserved_request(session, req.created_by_id, hold.room,
                                    [Interval(hold.starts_at, hold.ends_at)], req.tenant_id)
            core.tell_tenant(session, req, "offer_lapsed", booking_id=hold.id, room=hold.room.code,
                             starts_at=hold.starts_at, ends_at=hold.ends_at)
    return count


def waiting_for(session: so.Session, room: Room, piece: Interval) -> list[BookingRequest]:
    """Waiting requests that may use `room` on the days `piece` touches: by tenant priority, then age."""
    tz = settings_of(session).tz
    first = piece.start.astimezone(tz).date() - timedelta(days=1)
    last = piece.end.astimezone(tz).date()
    return list(session.scalars(
        sa.select(BookingRequest).join(Tenant, Tenant.id == BookingRequest.tenant_id).where(
            BookingRequest.status == "waiting", BookingRequest.date.between(first, last),
            sa.or_(BookingRequest.room_id == room.id, sa.and_(
                BookingRequest.room_id.is_(None),
                sa.or_(BookingRequest.room_kind.is_(None), BookingRequest.room_kind == room.kind),
                sa.or_(BookingRequest.zone.is_(None), BookingRequest.zone == room.zone))),
        ).order_by(Tenant.priority, BookingRequest.created_at, BookingRequest.id)))


def offer_freed_time(session: so.Session, piece: Freed) -> list[BookingRequest]:
    """Offer the time freed in a room to the waiting requests it now fits, first come first."""
    room = session.get(Room, piece.room_id)
    if room is None or not room.active:
        return []
    now = clock.now()
    freed = Interval(max(piece.starts_at, now), piece.ends_at)
    if freed.end <= freed.start:
        return []
    lock_contenders(session, rooms=[room.id])
    offered = []
    for req in waiting_for(session, room, freed):
        window = core.windows(session, req)[0]
        if not window.overlaps(freed):
            continue
        places = core.fits(session, req, window=window, rooms=[room], limit=1)
        if not places or not places[0].slot.overlaps(freed):
            continue
        slot = places[0].slot
        if core.tenant_quota_left(session, req, slot) is False:
            continue
        if _offer(session, req, room, slot):
            offered.append(req)
    return offered


def _offer(session: so.Session, req: BookingRequest, room: Room, slot: Interval) -> bool:
    """Hold `slot` for `req` and mark it offered, in a savepoint; False when it lost a race."""
    settings = settings_of(session)
    now = clock.now()
    expires = min(now + timedelta(minutes=settings.offer_hold_minutes), slot.start)
    savepoint = session.begin_nested()
    try:
        hold = Booking(room_id=room.id, tenant_id=req.tenant_id, title=(req.note or "").splitlines()[0][:200]
                       if req.note else "", starts_at=slot.start, ends_at=slot.end,
                       occupied_until=booking_rules.occupied(slot.start, slot.end, room.changeover_minutes).end,
                       status="hold", hold_expires_at=expires, created_at=now, created_by_id=req.created_by_id)
        session.add(hold)
        session.flush()
        if not core.set_status(session, req, "offered", from_=("waiting",), offer_booking_id=hold.id,
                               offered_at=now, offer_expires_at=expires):
            savepoint.rollback()
            return False
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        return False
    audit.record(session, None, "booking", hold.id, "created", {"status": "hold", "request_id": req.id})
    audit.record(session, None, "request", req.id, "offered", {"status": ["waiting", "offered"],
                                                               "booking_id": hold.id})
    core.tell_tenant(session, req, "request_offered", key_extra=f":{hold.id}", booking_id=hold.id,
                     room=room.code, starts_at=slot.start, ends_at=slot.end, expires_at=expires)
    return True
