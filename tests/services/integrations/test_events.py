"""Which changes become events, once each, in the transaction of the change:
bookings made and moved, sessions started, ended and released as no-shows by the
sweep (a second sweep adds nothing), the morning summary once a day; and
nothing at all is written while no robot or webhook listens."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from opsroom import clock
from opsroom.domain.integrations.messages import EVENT_TYPES
from opsroom.models import OutboxEvent
from opsroom.services.bookings import create, lifecycle, move
from opsroom.services.integrations import targets
from opsroom.services.operations import reminders
from tests.conftest import NOW, at


def events(session) -> Counter:
    return Counter(session.scalars(sa.select(OutboxEvent.type)))


def listen_to_everything(session, make):
    targets.create_webhook(session, make.user("admin"), {"url": "http://127.0.0.1:9/hook", "secret": "s",
                                                         "events": list(EVENT_TYPES)})


def test_nothing_is_written_while_nobody_listens(db_session, make):
    room, tenant = make.room(), make.tenant()
    create.create_booking(db_session, make.user("coordinator"), {"room_id": room.id, "tenant_id": tenant.id,
                                                                "starts_at": at(1, 20), "ends_at": at(1, 22)})
    assert events(db_session) == Counter()


def test_bookings_made_and_moved(db_session, make):
    listen_to_everything(db_session, make)
    coordinator, room, tenant = make.user("coordinator"), make.room(), make.tenant()
    made = create.create_booking(db_session, coordinator, {"room_id": room.id, "tenant_id": tenant.id,
                                                           "starts_at": at(1, 20), "ends_at": at(1, 22)})
    booking = made.bookings[0]
    move.update_booking(db_session, coordinator, booking.id, {"starts_at": at(1, 21), "ends_at": at(1, 23)})
    assert events(db_session) == Counter({"booking.created": 1, "booking.moved": 1})
    moved = db_session.scalar(sa.select(OutboxEvent).where(OutboxEvent.type == "booking.moved"))
    assert moved.data["previous"]["starts_at"] == "2026-11-21T20:00:00+08:00"
    assert moved.data["starts_at"] == "2026-11-21T21:00:00+08:00" and moved.data["room_code"] == room.code


def test_the_sweep_announces_each_session_once(db_session, make):
    listen_to_everything(db_session, make)
    started = make.booking(starts_at=NOW - timedelta(minutes=5), checked_in_at=NOW - timedelta(minutes=10))
    ended = make.booking(starts_at=NOW - timedelta(hours=3), ends_at=NOW - timedelta(hours=1), status="live",
                         checked_in_at=NOW - timedelta(hours=3))
    no_show = make.booking(starts_at=NOW - timedelta(hours=1))
    lifecycle.sweep(db_session)
    lifecycle.sweep(db_session)
    by_booking = {(e.type, e.data["id"]) for e in db_session.scalars(sa.select(OutboxEvent))}
    assert by_booking == {("session.started", started.id), ("session.ended", ended.id),
                          ("session.no_show", no_show.id)}
    assert sum(events(db_session).values()) == 3


def test_the_morning_summary_once_a_day(db_session, make):
    listen_to_everything(db_session, make)
    make.user("manager")
    clock.set_now(NOW.replace(hour=8, minute=30))
    reminders.send_daily_summary(db_session)
    clock.advance(timedelta(hours=1))
    reminders.send_daily_summary(db_session)
    summary = db_session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "daily.summary")).all()
    assert [e.data["date"] for e in summary] == ["2026-11-19"]


def test_a_capacity_alert_once_per_session(db_session, make):
    from opsroom.services.integrations import alerts

    listen_to_everything(db_session, make)
    room = make.room(order_capacity_per_hour=10)
    live = make.booking(room, starts_at=NOW - timedelta(hours=1), status="live", checked_in_at=NOW - timedelta(hours=1))
    calm = make.booking(starts_at=NOW - timedelta(hours=1), status="live", checked_in_at=NOW - timedelta(hours=1))
    for minute in range(1, 31):
        make.order(live, ordered_at=NOW - timedelta(minutes=minute))
    make.order(calm, ordered_at=NOW - timedelta(minutes=3))
    assert alerts.announce_capacity_alerts(db_session) == 1
    assert alerts.announce_capacity_alerts(db_session) == 0
    alert = db_session.scalar(sa.select(OutboxEvent).where(OutboxEvent.type == "capacity.alert"))
    assert alert.data["booking_id"] == live.id and alert.data["capacity_per_hour"] == 10 and alert.data["load"] > 1
