"""What a race test arranges before its clients start: rows committed for
real (the racing clients have connections of their own), their ids back."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import NamedTuple

from opsroom.db import intent
from opsroom.models import Booking, Room, Tenant
from opsroom.services.park import users


class Arranged(NamedTuple):
    user_id: int
    room_id: int
    tenant_id: int
    booking_id: int | None = None
    token: str | None = None


def race_room(code: str, *, name: str = "race", changeover_minutes: int = 15) -> Room:
    """A room open round the clock (sessions of 15 minutes to 12 hours)."""
    return Room(code=code, name=name, zone="z", kind="k", open_time=time(0, 0), close_time=time(0, 0),
                changeover_minutes=changeover_minutes, min_minutes=15, max_minutes=720)


def arrange(app, *, email: str = "race@test.example", room_code: str = "RACE1", tenant: str = "race tenant",
            booking: tuple[datetime, datetime] | None = None, token: bool = False) -> Arranged:
    """A coordinator, a room (`race_room`) and a tenant, committed; with
    `booking=(starts_at, ends_at)` also a booking of the room for the tenant,
    and with `token=True` an API token of the coordinator."""
    with app.app_context(), intent(write=True):
        session = app.extensions["opsroom.sessionmaker"]()
        try:
            user = users.create_user(session, email=email, role="coordinator", password="race-password-1")
            api_token = users.create_token(session, user) if token else None
            room, renter = race_room(room_code), Tenant(name=tenant)
            session.add_all([room, renter])
            session.flush()
            booked = None
            if booking is not None:
                starts_at, ends_at = booking
                booked = Booking(room_id=room.id, tenant_id=renter.id, starts_at=starts_at, ends_at=ends_at,
                                 occupied_until=ends_at + timedelta(minutes=room.changeover_minutes))
                session.add(booked)
            session.commit()
            return Arranged(user.id, room.id, renter.id, booked.id if booked else None, api_token)
        finally:
            session.close()
