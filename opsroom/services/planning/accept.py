"""Accepting a draft, whole or in part: each request's placements become
ordinary bookings made by the bookings' own create service (its rules, and the
database's guarantee against overlaps), a series where the request recurs and
its places repeat its rule exactly, else one booking per placement; the request
becomes `approved` with those bookings.

Each request is accepted in a transaction of its own, so that a booking made by
hand meanwhile over one request's time refuses that request only (all of its
placements, nothing half-made) and is reported in `conflicts`; the others go
ahead. Nothing is ever double-booked: the clash is the create service's 409.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.models import Booking, Plan, request_bookings
from opsroom.services import audit
from opsroom.services.bookings.create import create_booking
from opsroom.services.bookings.rules import expand_occurrences
from opsroom.services.errors import Conflict, RuleViolation, ServiceError
from opsroom.services.permissions import require
from opsroom.services.planning.runs import get
from opsroom.services.requests import core
from opsroom.services.transaction import transactional
from opsroom.settings import settings_of

NO_DRAFT = _l("This plan has no draft yet.")


def accept(session: so.Session, user, plan_id: int, request_ids: Iterable[int] | None = None) -> dict[str, Any]:
    """Accept the draft's placements of `request_ids` (all placed requests when
    None). Returns `{created, conflicts: [{request_id, details}]}`: `created`
    counts the bookings made. Commits request by request (see the module)."""
    require(user, "plans.write")
    plan = get(session, user, plan_id)
    if plan.status == "running" or not plan.result:
        raise Conflict(NO_DRAFT, [])
    by_request: dict[int, list[dict]] = defaultdict(list)
    for p in plan.result["placed"]:
        by_request[p["request_id"]].append(p)
    if request_ids is None:
        ids = sorted(set(by_request) - set(plan.accepted or []))
    else:
        ids = sorted(set(request_ids))
        missing = [i for i in ids if i not in by_request]
        if missing:
            raise RuleViolation(_l("The request breaks a rule of the park."), [{
                "rule": "not_in_draft", "field": "request_ids",
                "message": _l("Not placed in this draft: %(ids)s.", ids=", ".join(map(str, missing)))}])
    created, conflicts = 0, []
    for request_id in ids:
        try:
            created += len(_accept_request(session, user, plan_id, request_id, by_request[request_id]))
        except ServiceError as exc:
            body = exc.body()["error"]
            conflicts.append({"request_id": request_id,
                              "details": body.get("details") or [{"message": body.get("message", "")}],
                              "message": body.get("message", "")})
    return {"created": created, "conflicts": conflicts}


@transactional
def _accept_request(session: so.Session, user, plan_id: int, request_id: int, places: list[dict]) -> list[Booking]:
    req = core.get_request(session, user, request_id, lock=True)
    if req.status != "pending":
        raise Conflict(_l("This request was decided a moment ago."),
                       [{"code": "request_status", "status": req.status}])
    bookings: list[Booking] = []
    for data in _booking_data(session, req, places):
        bookings += create_booking(session, user, data).bookings
    if not core.set_status(session, req, "approved", from_=("pending",), decided_at=clock.now(),
                           decided_by_id=user.id, reason=""):
        raise Conflict(_l("This request was decided a moment ago."), [{"code": "request_status"}])
    session.execute(request_bookings.insert(), [{"request_id": req.id, "booking_id": b.id} for b in bookings])
    plan = session.scalar(sa.select(Plan).where(Plan.id == plan_id).with_for_update())
    plan.accepted = sorted(set(plan.accepted or []) | {request_id})
    audit.record(session, user, "request", req.id, "approved",
                 {"status": ["pending", "approved"], "booking_ids": [b.id for b in bookings], "plan_id": plan_id})
    core.tell_tenant(session, req, "request_approved",
                     sessions=core.sessions_text(bookings, settings_of(session).tz))
    return bookings


def _booking_data(session: so.Session, req, places: list[dict]) -> list[dict[str, Any]]:
    """One series when the places are the request's rule from the first place
    (same room, same local time), else one booking per place."""
    places = sorted(places, key=lambda p: p["starts_at"])
    title = (req.note or "").splitlines()[0][:200] if req.note else ""
    base = {"tenant_id": req.tenant_id, "title": title, "status": "confirmed", "anchors": req.anchors or None,
            "on_conflict": "reject"}

    def one(p: dict, rule=None) -> dict[str, Any]:
        return {**base, "room_id": p["room_id"], "starts_at": datetime.fromisoformat(p["starts_at"]),
                "ends_at": datetime.fromisoformat(p["ends_at"]), "recurrence": rule}

    rule = core.recurrence_rule(req)
    if rule and len(places) > 1 and len({p["room_id"] for p in places}) == 1:
        first = one(places[0])
        try:
            expanded = expand_occurrences(settings_of(session), first["starts_at"], first["ends_at"], rule)
        except ServiceError:
            expanded = []
        wanted = [(datetime.fromisoformat(p["starts_at"]), datetime.fromisoformat(p["ends_at"])) for p in places]
        if [(o.start, o.end) for o in expanded] == wanted:
            return [one(places[0], rule)]
    return [one(p) for p in places]
