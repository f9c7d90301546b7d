"""Objects to JSON: instants in the park timezone, money as "129.90"."""
from __future__ import annotations

from datetime import datetime

from opsroom.i18n import park_tz


def instant(value: datetime | None) -> str | None:
    return value.astimezone(park_tz()).isoformat() if value else None


def hhmm(value) -> str:
    return value.strftime("%H:%M")


def user_json(user) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "anchor": None}


def room_json(room) -> dict:
    return {
        "id": room.id,
        "code": room.code,
        "name": room.name,
        "zone": room.zone,
        "kind": room.kind,
        "area_m2": room.area_m2,
        "equipment": list(room.equipment or []),
        "open_time": hhmm(room.open_time),
        "close_time": hhmm(room.close_time),
        "changeover_minutes": room.changeover_minutes,
        "min_minutes": room.min_minutes,
        "max_minutes": room.max_minutes,
        "order_capacity_per_hour": room.order_capacity_per_hour,
        "active": room.active,
    }


def tenant_json(tenant) -> dict:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "contact": tenant.contact,
        "credit_code": tenant.credit_code,
        "status": tenant.status,
    }


def blackout_json(blackout) -> dict:
    return {
        "id": blackout.id,
        "room_id": blackout.room_id,
        "starts_at": instant(blackout.starts_at),
        "ends_at": instant(blackout.ends_at),
        "reason": blackout.reason,
    }


def interval_json(interval) -> dict:
    return {"starts_at": instant(interval.start), "ends_at": instant(interval.end)}


def booking_json(booking) -> dict:
    return {
        "id": booking.id,
        "room_id": booking.room_id,
        "tenant_id": booking.tenant_id,
        "title": booking.title,
        "starts_at": instant(booking.starts_at),
        "ends_at": instant(booking.ends_at),
        "status": booking.status,
        "hold_expires_at": instant(booking.hold_expires_at),
        "series_id": booking.series_id,
        "anchors": [],
        "lineup": [],
        "checked_in_at": instant(booking.checked_in_at),
        "created_at": instant(booking.created_at),
    }
