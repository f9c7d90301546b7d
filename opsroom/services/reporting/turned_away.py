"""Turned-away demand: a booking refused because the room was taken, kept as demand
the park could not serve (one row per user and wanted window, however often retried)."""
from __future__ import annotations

import logging


import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import is_postgres
from opsroom.domain.intervals import Interval, to_utc
from opsroom.settings import settings_of
from opsroom.models import (
    Room, TurnedAway,
)

log = logging.getLogger(__name__)


def record_turned_away(session: so.Session, user, room: Room, windows: list[Interval],
                       tenant_id: int | None = None) -> None:
    """Remember that `user` wanted `room` over `windows` and was refused.

    The refusal rolls back whatever the request did, so this ends the
    session's transaction first and writes in a short one of its own; a retry
    of the same window by the same user only counts another attempt (upsert
    on the unique key, safe under concurrency). A failure here never hides
    the 409 it accompanies."""
    if user is None or getattr(user, "id", None) is None or not windows:
        return
    user_id, place = user.id, (room.id, room.zone, room.kind)
    session.rollback()
    stmt = _upsert(session, user_id, place, windows, tenant_id)
    if stmt is None:
        return
    try:
        session.execute(stmt)
        session.commit()
    except sa.exc.SQLAlchemyError:
        session.rollback()
        log.exception("could not record turned-away demand")


def _upsert(session: so.Session, user_id: int, place: tuple[int, str, str], windows: list[Interval],
            tenant_id: int | None):
    """The insert-or-count-again statement for `windows` of a room (id, zone, kind) wanted by a user, or None."""
    tz, now = settings_of(session).tz, clock.now()
    room_id, zone, kind = place
    seen, values = set(), []
    for w in windows:
        start, end = to_utc(w.start), to_utc(w.end)
        if (start, end) in seen or end <= start:
            continue
        seen.add((start, end))
        local = start.astimezone(tz)
        values.append({"user_id": user_id, "room_id": room_id, "tenant_id": tenant_id, "zone": zone, "kind": kind,
                       "starts_at": start, "ends_at": end, "day": local.date(), "weekday": local.weekday(),
                       "hour": local.hour, "minutes": int((end - start).total_seconds() // 60),
                       "attempts": 1, "first_at": now, "last_at": now})
    if not values:
        return None
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(TurnedAway).values(values)
    return stmt.on_conflict_do_update(
        index_elements=["user_id", "starts_at", "ends_at"],
        set_={"attempts": TurnedAway.attempts + 1, "last_at": stmt.excluded.last_at})


def record_unserved_request(session: so.Session, user_id: int | None, room: Room | None,
                            windows: list[Interval], tenant_id: int) -> None:
    """Count a request the park could not serve — rejected for lack of room, or
    an offer that lapsed with no taker — as turned-away demand, in the caller's
    transaction (the rejection or the lapse commits with it)."""
    if user_id is None or room is None:
        return
    stmt = _upsert(session, user_id, (room.id, room.zone, room.kind), windows, tenant_id)
    if stmt is not None:
        session.execute(stmt)
