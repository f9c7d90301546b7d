"""Factories with sensible defaults and **overrides (CTFd's gen_* style)."""
from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta

import sqlalchemy.orm as so

from opsroom.domain.booking_rules import occupied
from opsroom.models import Blackout, Booking, Room, Tenant, User

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


class Factory:
    def __init__(self, session: so.Session):
        self.session = session

    def _save(self, obj):
        self.session.add(obj)
        self.session.commit()
        return obj

    def user(self, role: str = "coordinator", **kw) -> User:
        from opsroom.services.park.users import create_user

        n = next(_seq)
        tenant_id = kw.pop("tenant_id", None)
        if role == "tenant" and tenant_id is None:  # a tenant's account belongs to a tenant
            tenant_id = self.tenant().id
        user = create_user(self.session, email=kw.pop("email", f"{role}{n}@test.example"), role=role,
                           password=kw.pop("password", PASSWORD), name=kw.pop("name", f"{role} {n}"),
                           tenant_id=tenant_id)
        for k, v in kw.items():
            setattr(user, k, v)
        self.session.commit()
        return user

    def room(self, **kw) -> Room:
        n = next(_seq)
        defaults = dict(code=f"R{n:03d}", name=f"Room {n}", zone="服装区", kind="服装", area_m2=60.0,
                        equipment=["补光灯"], open_time=time(8, 0), close_time=time(2, 0), changeover_minutes=30,
                        min_minutes=30, max_minutes=720, order_capacity_per_hour=600, active=True)
        defaults.update(kw)
        return self._save(Room(**defaults))

    def tenant(self, **kw) -> Tenant:
        n = next(_seq)
        defaults = dict(name=f"商家{n}", contact="王经理 13800000000", credit_code="", status="active")
        defaults.update(kw)
        return self._save(Tenant(**defaults))

    def booking(self, room: Room | None = None, tenant: Tenant | None = None, *, starts_at: datetime,
                ends_at: datetime | None = None, status: str = "confirmed", **kw) -> Booking:
        room = room or self.room()
        tenant = tenant or self.tenant()
        ends_at = ends_at or starts_at + timedelta(hours=2)
        booking = Booking(room_id=room.id, tenant_id=tenant.id, starts_at=starts_at, ends_at=ends_at,
                          occupied_until=occupied(starts_at, ends_at, room.changeover_minutes).end,
                          status=status, **kw)
        return self._save(booking)

    def blackout(self, room: Room, *, starts_at: datetime, ends_at: datetime, reason: str = "设备检修") -> Blackout:
        return self._save(Blackout(room_id=room.id, starts_at=starts_at, ends_at=ends_at, reason=reason))


def _anchor(self, **kw):
    from opsroom.models import Anchor

    n = next(_seq)
    defaults = dict(name=f"主播{n}", verified=True, max_minutes_per_day=480, min_rest_minutes=30,
                    platform_accounts={"douyin": f"dy_{n}"}, active=True)
    defaults.update(kw)
    return self._save(Anchor(**defaults))


def _product(self, tenant, **kw):
    from opsroom.models import Product

    n = next(_seq)
    defaults = dict(tenant_id=tenant.id, sku=f"SKU{n:05d}", name=f"商品{n}", category="食品", price_fen=3990,
                    stock=100, certifications=["绿色食品"])
    defaults.update(kw)
    return self._save(Product(**defaults))


def _assign(self, booking, anchor, role="host"):
    from opsroom.models import Assignment

    return self._save(Assignment(booking_id=booking.id, anchor_id=anchor.id, role=role, starts_at=booking.starts_at,
                                 ends_at=booking.ends_at, active=booking.status in ("hold", "confirmed", "live")))


Factory.anchor = _anchor
Factory.product = _product
Factory.assign = _assign


def _order(self, booking=None, **kw):
    """An order row as ingestion would store it (attributed to `booking` if given):
    paid, 1 × 99.00 yuan, ten minutes into the booking unless told otherwise."""
    from datetime import timedelta

    from opsroom.models import Order

    n = next(_seq)
    ordered_at = kw.pop("ordered_at", None) or (booking.starts_at + timedelta(minutes=10) if booking else None)
    if ordered_at is None:
        raise ValueError("an unattributed order needs ordered_at")
    status = kw.get("status", "paid")
    defaults = dict(platform="douyin", external_id=f"T{n:012d}", booking_id=booking.id if booking else None,
                    attributed_by="booking" if booking else None, quantity=1, amount_fen=9900,
                    refund_fen=kw.get("amount_fen", 9900) if status == "refunded" else 0,
                    status=status, ordered_at=ordered_at)
    defaults.update(kw)
    return self._save(Order(**defaults))


Factory.order = _order
