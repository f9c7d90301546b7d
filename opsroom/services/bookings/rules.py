"""The rules one booking must keep before anything is written: open hours,
granularity, duration, a future start (admins excepted), an active tenant and room,
and the occurrences a recurrence rule expands to (docs/domain.md, Bookings)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.domain import booking_rules, recurrence
from opsroom.domain.intervals import Interval
from opsroom.settings import Settings
from opsroom.models import Room, Tenant
from opsroom.services.bookings.core import rule_breach
from opsroom.services.errors import RuleViolation, ValidationFailed


def rule_breaches(settings: Settings, room: Room, tenant: Tenant, starts_at: datetime, ends_at: datetime, *,
                  user, check_past: bool = True) -> list[dict[str, Any]]:
    """Every rule a booking of `room` for `tenant` over [starts_at, ends_at) breaks:
    open hours, granularity, min/max duration, start in the future (admins
    excepted), an active tenant and a bookable room."""
    breaches = []
    if not room.active:
        breaches.append(rule_breach("room_inactive", "room_id"))
    if tenant.status != "active":
        breaches.append(rule_breach("tenant_status", "tenant_id"))
    if check_past and starts_at < clock.now() and user.role != "admin":
        breaches.append(rule_breach("past", "starts_at"))
    for b in booking_rules.check_shape(
        starts_at, ends_at, open_time=room.open_time, close_time=room.close_time, tz=settings.tz,
        granularity_minutes=settings.booking_granularity_minutes, min_minutes=room.min_minutes, max_minutes=room.max_minutes,
    ):
        breaches.append(rule_breach(b.code, b.field, **b.params))
    return breaches


def load_refs(session: so.Session, room_id: int, tenant_id: int) -> tuple[Room, Tenant]:
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


def expand_occurrences(settings: Settings, starts_at: datetime, ends_at: datetime, rule: dict | None) -> list[Interval]:
    """The occurrences of a booking by its recurrence rule (one, without a rule), in the park's time."""
    if not rule:
        return [Interval(starts_at, ends_at)]
    try:
        found = recurrence.expand(
            starts_at, ends_at, freq=rule.get("freq"), tz=settings.tz, interval=rule.get("interval") or 1,
            weekdays=rule.get("weekdays"), until=rule.get("until"), count=rule.get("count"),
            max_occurrences=settings.max_recurrence_occurrences,
        )
    except recurrence.RecurrenceError as exc:
        raise RuleViolation(
            _l("The recurrence rule is not valid."),
            [rule_breach(exc.code, f"recurrence.{exc.field}", max=settings.max_recurrence_occurrences)],
        ) from None
    if not found:  # e.g. until ends before the first chosen weekday
        raise RuleViolation(_l("The recurrence rule is not valid."), [rule_breach("until", "recurrence.until")])
    return found
