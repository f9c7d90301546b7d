"""A tenant's home (商家首页): its week, its open requests, offers to accept, and
yesterday's sales of its sessions — its own only."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.domain import hours
from opsroom.domain.statuses import ACTIVE_STATUSES, OPEN_REQUEST_STATUSES, SOLD_STATUSES
from opsroom.models import Booking, BookingRequest, Order, Room, Tenant
from opsroom.services.permissions import require
from opsroom.settings import settings_of


@dataclass
class TenantHome:
    tenant: Tenant
    week: list[Booking] = field(default_factory=list)
    open_requests: list[BookingRequest] = field(default_factory=list)
    offers: list[BookingRequest] = field(default_factory=list)
    yesterday_orders: int = 0
    yesterday_gmv_fen: int = 0


def tenant_home(session: so.Session, user) -> TenantHome:
    """What a tenant's account sees first: the next seven park-local days of its
    bookings (not cancelled), its open requests, its open offers, and the orders
    and GMV of its sessions that started yesterday."""
    require(user, "tenant.home")
    settings = settings_of(session)
    tz = settings.tz
    today = clock.now().astimezone(tz).date()
    days = hours.local_days(today, today + timedelta(days=6), tz)
    tenant = session.get(Tenant, user.tenant_id)
    home = TenantHome(tenant=tenant)
    home.week = list(session.scalars(
        sa.select(Booking).options(so.joinedload(Booking.room))
        .where(Booking.tenant_id == tenant.id, Booking.status != "cancelled",
               Booking.starts_at < days.end, Booking.ends_at > days.start)
        .order_by(Booking.starts_at)))
    requests = list(session.scalars(
        sa.select(BookingRequest).options(so.joinedload(BookingRequest.room), so.joinedload(BookingRequest.offer_booking))
        .where(BookingRequest.tenant_id == tenant.id, BookingRequest.status.in_(OPEN_REQUEST_STATUSES))
        .order_by(BookingRequest.created_at)))
    home.offers = [r for r in requests if r.status == "offered"]
    home.open_requests = [r for r in requests if r.status != "offered"]
    yesterday = hours.local_day(today - timedelta(days=1), tz)
    orders, gmv = session.execute(
        sa.select(sa.func.count(Order.id), sa.func.coalesce(sa.func.sum(Order.amount_fen), 0))
        .join(Booking, Booking.id == Order.booking_id)
        .where(Booking.tenant_id == tenant.id, Booking.starts_at >= yesterday.start,
               Booking.starts_at < yesterday.end, Order.status.in_(SOLD_STATUSES))).one()
    home.yesterday_orders, home.yesterday_gmv_fen = int(orders), int(gmv)
    return home


@dataclass
class RoomDay:
    room: object
    own: list[Booking] = field(default_factory=list)
    busy: list[tuple] = field(default_factory=list)  # (starts_at, occupied_until) of others' sessions: times only


def tenant_board(session: so.Session, user, day) -> list[RoomDay]:
    """The park's day as a tenant may see it: every active room, its own
    sessions in full, and others' only as busy time (start and end of what
    they occupy, no tenant, title or figures)."""
    require(user, "tenant.home")
    window = hours.local_day(day, settings_of(session).tz)
    rooms = list(session.scalars(sa.select(Room).where(Room.active.is_(True)).order_by(Room.code)))
    out = {r.id: RoomDay(room=r) for r in rooms}
    rows = session.execute(
        sa.select(Booking.id, Booking.room_id, Booking.tenant_id, Booking.starts_at, Booking.occupied_until)
        .where(Booking.room_id.in_(list(out)), Booking.status.in_(ACTIVE_STATUSES + ("ended",)),
               Booking.starts_at < window.end, Booking.occupied_until > window.start)
        .order_by(Booking.starts_at)).all()
    own_ids = [r.id for r in rows if r.tenant_id == user.tenant_id]
    own = {b.id: b for b in session.scalars(sa.select(Booking).where(Booking.id.in_(own_ids)))} if own_ids else {}
    for r in rows:
        if r.tenant_id == user.tenant_id:
            out[r.room_id].own.append(own[r.id])
        else:
            out[r.room_id].busy.append((r.starts_at, r.occupied_until))
    return list(out.values())
