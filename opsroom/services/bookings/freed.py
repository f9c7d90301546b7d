"""Time freed in a room: a booking cancelled, a no-show released, a hold expired.

Whoever wants to know (the waitlist, services/requests/waitlist.py) registers a
listener; the bookings services call `time_freed` in the same transaction as the
change that freed the time, so what the listener does (an offer) commits or
rolls back with it. The registry keeps the bookings area from importing the
requests area, which imports it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, NamedTuple

import sqlalchemy.orm as so


class Freed(NamedTuple):
    room_id: int
    starts_at: datetime
    ends_at: datetime
    booking_id: int


_listeners: list[Callable[[so.Session, list[Freed]], None]] = []


def on_time_freed(listener: Callable[[so.Session, list[Freed]], None]):
    """Register `listener(session, freed)`; returns it (usable as a decorator). Idempotent."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def time_freed(session: so.Session, freed: list[Freed]) -> None:
    """Tell every listener, in the caller's transaction."""
    if freed:
        for listener in list(_listeners):
            listener(session, freed)
