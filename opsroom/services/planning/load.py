"""The month as it is, read into the solver's ``MonthInput``.

What goes in: the requests (the month's pending ones, or a chosen set), each
expanded by its recurrence into the local dates of the month that are still
ahead; the active rooms with their hours, changeover and duration limits; every
active booking meeting the month (fixed, with its tenant for the prime quota)
and the blackouts; the wanted anchors with their verification, daily limit, rest
and their other sessions; the tenants with status, priority and weekly prime
quota; an earlier draft's pins (fixed) and its placements (kept where possible).

The forecast enters as ``p90_peak_orders``: no forecast service reads the sales
history into the domain's ``forecast`` yet, so every request gets the neutral
value (None, no preference between rooms of different capacity).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.domain import planning as dp
from opsroom.domain.hours import month_bounds
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.models import Anchor, Assignment, Blackout, Booking, BookingRequest, Room, Tenant
from opsroom.services.requests import core as requests_core
from opsroom.settings import settings_of


def month_requests(session: so.Session, first: date, request_ids: Iterable[int] | None) -> list[BookingRequest]:
    """The chosen requests (still pending), else the pending requests whose first
    date falls before the month's end (a recurring one may reach into it)."""
    first, days = month_bounds(first)
    q = sa.select(BookingRequest).where(BookingRequest.status == "pending")
    if request_ids is not None:
        q = q.where(BookingRequest.id.in_(list(request_ids)))
    else:
        q = q.where(BookingRequest.date < first + timedelta(days=days))
    return list(session.scalars(q.order_by(BookingRequest.id)))


def _dates(session: so.Session, req: BookingRequest, first: date, days: int, now: datetime) -> tuple[date, ...]:
    tz = settings_of(session).tz
    last = first + timedelta(days=days)
    out = []
    for w in requests_core.windows(session, req):
        day = w.start.astimezone(tz).date()
        if first <= day < last and w.start >= now:
            out.append(day)
    return tuple(sorted(set(out)))


def placement(row: dict[str, Any], *, pinned: bool = False) -> dp.Placement:
    return dp.Placement(row["request_id"], date.fromisoformat(row["date"]), row["room_id"],
                        datetime.fromisoformat(row["starts_at"]), datetime.fromisoformat(row["ends_at"]), pinned)


def month_input(session: so.Session, first: date, request_ids: Iterable[int] | None = None, *,
                pins: Iterable[dict[str, Any]] = (), accepted: Iterable[dict[str, Any]] = ()) -> dp.MonthInput:
    settings = settings_of(session)
    tz = settings.tz
    first, days = month_bounds(first)
    now = clock.now()
    requests = month_requests(session, first, request_ids)
    reqs = []
    for req in requests:
        dates = _dates(session, req, first, days, now)
        if not dates:
            continue
        reqs.append(dp.Request(
            id=req.id, tenant_id=req.tenant_id, dates=dates, window_start=req.window_start,
            window_end=req.window_end, minutes=req.minutes, room_id=req.room_id, room_kind=req.room_kind,
            zone=req.zone, anchors=tuple(dp.AnchorWant(a["anchor_id"], a.get("role", "host"))
                                         for a in (req.anchors or [])),
            p90_peak_orders=None))
    # The horizon, widened by a day each side for sessions that reach into it.
    start = datetime.combine(first - timedelta(days=1), datetime.min.time(), tz)
    end = datetime.combine(first + timedelta(days=days + 1), datetime.min.time(), tz)
    rooms = list(session.scalars(sa.select(Room).where(Room.active.is_(True)).order_by(Room.code)))
    room_ids = [r.id for r in rooms]
    busy = [dp.Busy(b.room_id, b.starts_at, b.occupied_until, b.id, "booking", b.tenant_id)
            for b in session.scalars(sa.select(Booking).where(
                Booking.room_id.in_(room_ids), Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at < end, Booking.occupied_until > start).order_by(Booking.id))]
    busy += [dp.Busy(b.room_id, b.starts_at, b.ends_at, b.id, "blackout")
             for b in session.scalars(sa.select(Blackout).where(
                 Blackout.room_id.in_(room_ids), Blackout.starts_at < end, Blackout.ends_at > start))]
    anchor_ids = sorted({w.anchor_id for q in reqs for w in q.anchors})
    sessions: dict[int, list[tuple[datetime, datetime]]] = {a: [] for a in anchor_ids}
    if anchor_ids:
        for a in session.execute(sa.select(Assignment.anchor_id, Assignment.starts_at, Assignment.ends_at)
                                 .join(Booking, Booking.id == Assignment.booking_id)
                                 .where(Assignment.anchor_id.in_(anchor_ids), Assignment.active.is_(True),
                                        Booking.status.in_(ACTIVE_STATUSES),
                                        Assignment.starts_at < end, Assignment.ends_at > start)):
            sessions[a.anchor_id].append((a.starts_at, a.ends_at))
    anchors = [dp.Anchor(a.id, a.verified, a.max_minutes_per_day, a.min_rest_minutes, tuple(sorted(sessions[a.id])))
               for a in session.scalars(sa.select(Anchor).where(Anchor.id.in_(anchor_ids), Anchor.active.is_(True)))
               ] if anchor_ids else []
    tenant_ids = {q.tenant_id for q in reqs}
    tenants = [dp.Tenant(t.id, t.priority, t.status, t.prime_quota_hours_per_week)
               for t in session.scalars(sa.select(Tenant).where(Tenant.id.in_(tenant_ids)))] if tenant_ids else []
    prime_start, prime_end = settings.prime_hours
    wanted = {q.id for q in reqs}
    return dp.MonthInput(
        first_day=first, days=days,
        rooms=tuple(dp.Room(r.id, r.code, r.kind, r.zone, r.order_capacity_per_hour, r.open_time, r.close_time,
                            r.changeover_minutes, r.min_minutes, r.max_minutes) for r in rooms),
        requests=tuple(reqs), tenants=tuple(tenants), anchors=tuple(anchors), busy=tuple(busy),
        pinned=tuple(placement(p, pinned=True) for p in pins if p["request_id"] in wanted),
        accepted=tuple(placement(p) for p in accepted if p["request_id"] in wanted),
        tz=tz, granularity_minutes=settings.booking_granularity_minutes,
        prime_start=prime_start, prime_end=prime_end)
