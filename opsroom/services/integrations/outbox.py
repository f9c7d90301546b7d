"""The durable outbox: an event and one delivery per subscribed target, written
in the caller's transaction.

`emit` is called by the service that makes the change (a booking created,
moved or cancelled; a session started, ended or released as a no-show; a
capacity alert; the morning summary), inside its unit of work and before it
commits: a rolled-back change leaves no event, a committed one cannot lose its
deliveries. The sender (`sender.send_due`, a scheduler job) does the network.

Hook for other areas (requests and offers, `request.*`): call
``outbox.emit(session, "request.created", request_data(...), tenant_id=...)``
in the same transaction as the change, with `data` as the API shows the object
(`messages.py` in domain/integrations lists the fields a chat notice reads).
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.domain.integrations.messages import EVENT_TYPES
from opsroom.domain.money import format_money
from opsroom.models import Booking, Delivery, OutboxEvent, Robot, Room, Tenant, Webhook
from opsroom.settings import settings_of

ALL_TYPES = EVENT_TYPES


def new_msg_id() -> str:
    """A delivery's id (the `webhook-id` of every attempt): "msg_" + 24 url-safe characters."""
    return "msg_" + secrets.token_urlsafe(18).replace("-", "A").replace("_", "B")


def when(session: so.Session, value: datetime | None) -> str | None:
    """An instant as the API writes it: RFC 3339 in the park's offset."""
    if value is None:
        return None
    return value.astimezone(settings_of(session).tz).isoformat()


def booking_data(session: so.Session, booking: Booking, **extra: Any) -> dict[str, Any]:
    """A booking as the API shows it, with the room's code and the tenant's name
    (what a chat notice reads)."""
    # By id, not the relationships: a move has just changed room_id.
    room, tenant = session.get(Room, booking.room_id), session.get(Tenant, booking.tenant_id)
    data = {
        "id": booking.id, "room_id": booking.room_id, "room_code": room.code if room else None,
        "tenant_id": booking.tenant_id, "tenant": tenant.name if tenant else None,
        "title": booking.title, "starts_at": when(session, booking.starts_at),
        "ends_at": when(session, booking.ends_at), "status": booking.status,
    }
    data.update(extra)
    return data


def _subscribed(events: Any, event_type: str) -> bool:
    return isinstance(events, list) and event_type in events


def active_targets(session: so.Session) -> tuple[list[Robot], list[Webhook]]:
    """Every active robot and webhook (a park has a handful)."""
    return (list(session.scalars(sa.select(Robot).where(Robot.active.is_(True)))),
            list(session.scalars(sa.select(Webhook).where(Webhook.active.is_(True)))))


def wanted(session: so.Session, event_type: str, key: str) -> bool:
    """True when someone is subscribed to `event_type` and `key` was not yet recorded
    (lets a sweeper skip building an event's data nobody will receive)."""
    robots, hooks = active_targets(session)
    return any(_subscribed(t.events, event_type) for t in robots + hooks) and not session.scalar(sa.select(OutboxEvent.id).where(OutboxEvent.key == key))


def daily_summary_key(day) -> str:
    return f"daily.summary:{day.isoformat()}"


def emit(session: so.Session, event_type: str, data: dict[str, Any], *, tenant_id: int | None = None,
         key: str | None = None, targets: tuple[list[Robot], list[Webhook]] | None = None) -> OutboxEvent | None:
    """Record `event_type` with `data` and a pending delivery to every active
    target subscribed to it (a tenant's robot only for its own tenant's events),
    in the caller's transaction. Nothing subscribed: nothing written. With `key`,
    an event already recorded under that key is not recorded again. `targets`:
    the active robots and webhooks, when the caller emits many events at once."""
    if event_type not in ALL_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    robots, hooks = targets if targets is not None else active_targets(session)
    robots = [r for r in robots if _subscribed(r.events, event_type) and (r.tenant_id is None or r.tenant_id == tenant_id)]
    hooks = [w for w in hooks if _subscribed(w.events, event_type)]
    if not robots and not hooks:
        return None
    if key is not None and session.scalar(sa.select(OutboxEvent.id).where(OutboxEvent.key == key)):
        return None
    now = clock.now()
    event = OutboxEvent(type=event_type, key=key, tenant_id=tenant_id, data=data, occurred_at=now)
    session.add(event)
    session.flush()
    session.add_all([Delivery(event_id=event.id, robot_id=r.id, msg_id=new_msg_id(), state="pending", next_at=now)
                     for r in robots])
    session.add_all([Delivery(event_id=event.id, webhook_id=w.id, msg_id=new_msg_id(), state="pending", next_at=now)
                     for w in hooks])
    session.flush()
    return event


# --- hooks called by the areas' services ----------------------------------------


def bookings_created(session: so.Session, bookings: list[Booking],
                     targets: tuple[list[Robot], list[Webhook]] | None = None) -> None:
    """booking.created of each; `targets` read by the caller before it wrote anything."""
    targets = targets if targets is not None else active_targets(session)
    if not any(_subscribed(t.events, "booking.created") for t in targets[0] + targets[1]):
        return
    for booking in bookings:
        emit(session, "booking.created", booking_data(session, booking), tenant_id=booking.tenant_id, targets=targets)


def booking_moved(session: so.Session, booking: Booking, previous: dict[str, Any]) -> None:
    """`previous`: {room_code, starts_at, ends_at} before the move (datetimes or text)."""
    before = {k: when(session, v) if isinstance(v, datetime) else v for k, v in previous.items()}
    emit(session, "booking.moved", booking_data(session, booking, previous=before), tenant_id=booking.tenant_id)


def booking_cancelled(session: so.Session, booking: Booking) -> None:
    emit(session, "booking.cancelled", booking_data(session, booking, reason=booking.cancel_reason or None),
         tenant_id=booking.tenant_id)


def sessions_changed(session: so.Session, event_type: str, booking_ids: list[int]) -> None:
    """session.started / session.ended / session.no_show of the given bookings."""
    if not booking_ids:
        return
    targets = active_targets(session)
    if not any(_subscribed(t.events, event_type) for t in targets[0] + targets[1]):
        return
    for booking in session.scalars(sa.select(Booking).where(Booking.id.in_(booking_ids)).order_by(Booking.id)):
        emit(session, event_type, booking_data(session, booking), tenant_id=booking.tenant_id,
             key=f"{event_type}:{booking.id}", targets=targets)


def capacity_alert(session: so.Session, booking: Booking, orders_per_hour: int, capacity_per_hour: int,
                   load: float) -> OutboxEvent | None:
    data = {"booking_id": booking.id, "room_code": booking.room.code, "tenant": booking.tenant.name,
            "tenant_id": booking.tenant_id, "orders_per_hour": orders_per_hour,
            "capacity_per_hour": capacity_per_hour, "load": round(load, 4)}
    return emit(session, "capacity.alert", data, tenant_id=booking.tenant_id, key=f"capacity.alert:{booking.id}")


def daily_summary(session: so.Session, figures: dict[str, Any]) -> None:
    """The morning summary (reminders.summary_figures), once per park-local day."""
    day = figures["yesterday"]
    data = {"date": day.isoformat(), "bookings": figures.get("bookings", 0), "no_shows": figures.get("no_shows", 0),
            "orders": figures.get("orders", 0), "gmv": format_money(figures.get("gmv_fen", 0) or 0),
            "utilization": None if figures.get("utilization") is None else float(figures["utilization"])}
    emit(session, "daily.summary", data, key=daily_summary_key(day))
