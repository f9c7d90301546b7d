"""Capacity alerts to robots and webhooks: a live session whose live load
(orders in the last window against its room's hourly capacity) passed the alert
threshold is announced once (keyed by the booking; docs/domain.md, Metrics)."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.domain import metrics
from opsroom.models import Booking
from opsroom.services.integrations import outbox
from opsroom.services.sales.stats import live_loads
from opsroom.services.transaction import transactional


@transactional
def announce_capacity_alerts(session: so.Session) -> int:
    """One `capacity.alert` per live session over the threshold (nothing when
    no target is subscribed)."""
    targets = outbox.active_targets(session)
    if not any("capacity.alert" in (t.events or []) for t in targets[0] + targets[1]):
        return 0
    now = clock.now()
    live = session.scalars(sa.select(Booking).options(so.joinedload(Booking.room), so.joinedload(Booking.tenant))
                           .where(Booking.status.in_(("live", "confirmed")), Booking.starts_at <= now,
                                  Booking.ends_at > now)).all()
    told = 0
    for booking_id, (load, alert) in live_loads(session, list(live), now).items():
        if not alert or load is None:
            continue
        booking = next(b for b in live if b.id == booking_id)
        capacity = booking.room.order_capacity_per_hour
        told += outbox.capacity_alert(session, booking, round(float(load) * capacity), capacity,
                                      metrics.as_float(load) or 0.0) is not None
    return told
