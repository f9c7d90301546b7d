"""What bookings and assignments both build on: reading one booking with its
visibility rule, naming a broken rule, and turning an overlap the database
refused into a 409.

It sits below both services/bookings.py and services/assignments.py, so each
imports it at the top and neither imports the other from inside a function.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.models import Anchor, Assignment, Booking, LineupItem
from opsroom.services.permissions import require
from opsroom.services.errors import Conflict, Forbidden, NotFound, found


from sqlalchemy.exc import IntegrityError

from opsroom.db import is_postgres
from opsroom.labels import rule_message

# Markers by which the database names an overlap it refused.
ANCHOR_MARKERS = ("anchor_overlap", "ex_assignments_anchor_overlap",
                  # the same anchor put into the same booking by two clients at once
                  "uq_assignments_booking_anchor", "UNIQUE constraint failed: assignments.booking_id")
OVERLAP_MARKERS = ("room_overlap", "ex_bookings_room_overlap", *ANCHOR_MARKERS)


def get_booking(session: so.Session, user, booking_id: int) -> Booking:
    """A booking; an anchor may see only sessions they are assigned to, a
    tenant's account only its tenant's (another's is not found: ids reveal nothing)."""
    require(user, "bookings.read")
    booking = found(session.get(Booking, booking_id), _l("No such booking."))
    if user.role == "tenant" and booking.tenant_id != user.tenant_id:
        raise NotFound(_l("No such booking."))
    if user.role == "anchor" and not is_assigned(session, user, booking.id):
        raise Forbidden(_l("You may only see your own sessions."))
    return booking


def lock_booking(session: so.Session, booking_id: int) -> None:
    """Edits of one booking run one after another: lock its row (PostgreSQL;
    SQLite writers are serialized by BEGIN IMMEDIATE). Taken first, before
    any room or anchor lock (lock_contenders), so two edits of one
    booking never hold those in opposite orders."""
    session.execute(sa.select(Booking.id).where(Booking.id == booking_id).with_for_update())


def is_assigned(session: so.Session, user, booking_id: int) -> bool:
    """Whether `user` is an anchor of the booking."""
    return session.scalar(
        sa.select(Assignment.id).join(Anchor, Anchor.id == Assignment.anchor_id)
        .where(Assignment.booking_id == booking_id, Anchor.user_id == user.id)
    ) is not None


def rule_breach(code: str, field_name: str, **params) -> dict[str, Any]:
    return {"rule": code, "field": field_name, "message": rule_message(code, **params)}


def is_overlap_error(exc: IntegrityError) -> bool:
    text = str(getattr(exc, "orig", exc))
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate == "23P01" or any(marker in text for marker in OVERLAP_MARKERS)


# PostgreSQL transaction-level advisory locks (two-key form, apart from the
# one-key locks of the report refresh and the scheduler's leader).
ROOM_LOCK, ANCHOR_LOCK = 7001, 7002


# What makes a written booking contend for its room (and its anchors' time).
_RANGE_FIELDS = ("room_id", "starts_at", "ends_at", "occupied_until", "status")


def _range_changed(obj) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in _RANGE_FIELDS)


def contested_keys(session: so.Session) -> tuple[set[int], set[int]]:
    """The rooms and the anchors whose time ranges the next flush writes."""
    rooms: set[int] = set()
    anchors: set[int] = set()
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty):
            if isinstance(obj, Booking) and (obj in session.new or _range_changed(obj)):
                rooms.add(obj.room_id)
                if obj not in session.new:  # a move carries its anchors' ranges along (triggers)
                    anchors.update(a.anchor_id for a in obj.assignments)
            elif isinstance(obj, Assignment):
                anchors.add(obj.anchor_id if obj.anchor_id is not None else obj.anchor.id)
    return rooms, anchors


def lock_contenders(session: so.Session, rooms=(), anchors=()) -> None:
    """PostgreSQL: wait for any other transaction writing these rooms' or
    anchors' time ranges to end, and hold them until this one ends.

    The exclusion constraints alone stay the guarantee, but two transactions
    inserting conflicting rows at the same instant each wait on the other's
    constraint check, and the database aborts one as a deadlock (40P01) while
    the winner has not yet committed: the loser could not name what it lost
    to. With these locks the second writer starts after the first commits, so
    its insert meets a committed row: a 409 naming the booking.

    The services take them before their own checks (create, move, anchors),
    so a check runs when no other writer of the same room or anchor can
    commit: a clash it finds is a 409 naming the booking and offering
    alternatives, and the flush after it is not refused. flush_or_conflict
    takes any it finds missing before flushing.

    Deadlock-free only if taken before the transaction writes any of those
    rows (so before expiring holds in the room, and before a flush that
    deletes an anchor's assignment), and in one global order: a booking's row
    lock (lock_booking) first, then rooms, then anchors, each by id; a later
    call may add anchors, never rooms after anchors. SQLite serializes
    writers already (BEGIN IMMEDIATE).
    """
    if not is_postgres(session):
        return
    # Keys this transaction holds already are not asked for again.
    transaction = session.get_transaction()
    held_in, held = session.info.get("opsroom.locks", (None, set()))
    if held_in is not transaction:
        held = set()
    ids = [(ROOM_LOCK, set(rooms)), (ANCHOR_LOCK, set(anchors))]
    keys = [(ns, i) for ns, some in ids for i in sorted(i for i in some if isinstance(i, int))
            if (ns, i) not in held]
    if not keys:
        return
    with session.no_autoflush:  # the lock comes before the writes
        session.execute(
            sa.text("SELECT count(pg_advisory_xact_lock(k.ns, k.id)) "
                    "FROM unnest(CAST(:ns AS int[]), CAST(:ids AS int[])) AS k(ns, id)"),
            {"ns": [k[0] for k in keys], "ids": [k[1] for k in keys]})
    session.info["opsroom.locks"] = (session.get_transaction(), held | set(keys))


def serialize_contenders(session: so.Session) -> None:
    """Before a flush: lock the rooms and anchors it writes time ranges of."""
    if is_postgres(session):
        rooms, anchors = contested_keys(session)
        lock_contenders(session, rooms, anchors)


def flush_or_conflict(session: so.Session, on_overlap, message=None, *, anchor_message=None) -> None:
    """Flush; an overlap the database refused (a lost race) becomes the same
    409 a checked clash gets: `on_overlap` re-checks and raises it. With
    `anchor_message`, a refused anchor overlap raises a 409 with that message
    instead (a flush that writes a booking together with its anchors).
    Writers of the same room or anchor run one after another
    (serialize_contenders)."""
    try:
        serialize_contenders(session)
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        if not is_overlap_error(exc):
            raise
        if anchor_message is not None and any(m in str(getattr(exc, "orig", exc)) for m in ANCHOR_MARKERS):
            raise Conflict(anchor_message, []) from None
        on_overlap()
        raise Conflict(message or _l("The room was taken a moment ago."), []) from None


AUDIT_FIELDS = ("room_id", "tenant_id", "title", "starts_at", "ends_at", "status")


def list_bookings(session: so.Session, user, *, start: datetime | None = None, end: datetime | None = None,
                  room_id: int | None = None, tenant_id: int | None = None, status: str | None = None,
                  limit: int = 1000) -> list[Booking]:
    """Bookings overlapping [start, end), oldest first."""
    require(user, "bookings.read")
    q = sa.select(Booking).options(
        so.joinedload(Booking.room), so.joinedload(Booking.tenant),
        so.selectinload(Booking.assignments).joinedload(Assignment.anchor),
        so.selectinload(Booking.lineup).joinedload(LineupItem.product),
    )
    if user.role == "tenant":  # only its tenant's sessions
        q = q.where(Booking.tenant_id == user.tenant_id)
    if user.role == "anchor":  # only their own sessions
        q = q.where(Booking.id.in_(
            sa.select(Assignment.booking_id).join(Anchor, Anchor.id == Assignment.anchor_id)
            .where(Anchor.user_id == user.id)))
    if start is not None:
        q = q.where(Booking.ends_at > start)
    if end is not None:
        q = q.where(Booking.starts_at < end)
    if room_id is not None:
        q = q.where(Booking.room_id == room_id)
    if tenant_id is not None:
        q = q.where(Booking.tenant_id == tenant_id)
    if status is not None:
        q = q.where(Booking.status == status)
    return list(session.scalars(q.order_by(Booking.starts_at, Booking.id).limit(limit)))


def clash_detail(kind: str, obj, tz: ZoneInfo) -> dict[str, Any]:
    """One clash as a 409's details list it (docs/api.md); instants in the park timezone."""
    detail: dict[str, Any] = {"kind": kind}
    if kind == "blackout":
        detail["blackout_id"] = obj.id
        detail["reason"] = obj.reason
    else:
        detail["booking_id"] = obj.id
    detail["starts_at"] = obj.starts_at.astimezone(tz).isoformat()
    detail["ends_at"] = obj.ends_at.astimezone(tz).isoformat()
    if kind == "room":  # the room is free again only after the changeover
        detail["occupied_until"] = obj.occupied_until.astimezone(tz).isoformat()
    return detail
