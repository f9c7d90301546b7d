"""Objects to JSON: instants in the park timezone, money as "129.90"."""
from __future__ import annotations

from datetime import datetime, timezone

from opsroom.db import get_session
from opsroom.web.i18n import park_tz


def instant(value: datetime | None) -> str | None:
    if not value:
        return None
    local = value.astimezone(park_tz())
    if local.utcoffset().seconds % 60:
        # A local mean time offset (Asia/Shanghai before 1901 is +08:05:43) is no
        # RFC 3339 offset: such instants are given in UTC.
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return local.isoformat()


def hhmm(value) -> str:
    return value.strftime("%H:%M")


def user_json(user, anchor=None) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "tenant_id": user.tenant_id,
            "anchor": anchor_json(anchor, with_feed=True) if anchor else None}


def money(fen: int | None) -> str | None:
    from opsroom.domain.money import format_money

    return format_money(fen) if fen is not None else None


def anchor_json(anchor, *, with_feed: bool = False) -> dict:
    from flask import url_for

    from opsroom.services.people_goods.anchors import feed_token

    out = {
        "id": anchor.id,
        "name": anchor.name,
        "tenant_id": anchor.tenant_id,
        "user_email": anchor.user.email if anchor.user else None,
        "verified": anchor.verified,
        "max_minutes_per_day": anchor.max_minutes_per_day,
        "min_rest_minutes": anchor.min_rest_minutes,
        "platform_accounts": dict(anchor.platform_accounts or {}),
        "active": anchor.active,
    }
    if with_feed:
        out["feed_url"] = url_for("calendar.anchor_feed", feed_token=feed_token(get_session(), anchor), _external=True)
    return out


def product_json(product) -> dict:
    return {
        "id": product.id,
        "tenant_id": product.tenant_id,
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "price": money(product.price_fen),
        "stock": product.stock,
        "certifications": list(product.certifications or []),
        "active": product.active,
    }


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
        "short_name": tenant.short_name,
        "contact": tenant.contact,
        "credit_code": tenant.credit_code,
        "status": tenant.status,
        "priority": tenant.priority,
        "prime_quota_hours_per_week": tenant.prime_quota_hours_per_week,
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
        "anchors": [{"anchor_id": a.anchor_id, "name": a.anchor.name, "role": a.role} for a in booking.assignments],
        "lineup": [{"product_id": i.product_id, "sku": i.product.sku, "name": i.product.name, "position": i.position,
                    "planned_start": instant(i.planned_start), "planned_end": instant(i.planned_end),
                    "planned_quantity": i.planned_quantity} for i in booking.lineup],
        "checked_in_at": instant(booking.checked_in_at),
        "created_at": instant(booking.created_at),
    }


def batch_json(batch) -> dict:
    return {
        "id": batch.id, "source": batch.source, "platform": batch.platform, "filename": batch.filename,
        "state": batch.state, "bytes_total": batch.bytes_total, "bytes_done": batch.bytes_done,
        "rows_seen": batch.rows_seen, "created": batch.created, "updated": batch.updated,
        "unchanged": batch.unchanged, "unattributed": batch.unattributed, "rejected": batch.rejected,
        "message": batch.message, "user_id": batch.user_id, "started_at": instant(batch.started_at),
        "finished_at": instant(batch.finished_at),
    }
