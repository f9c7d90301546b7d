"""People and goods per slot (人、货、场): a booking's anchors and its lineup."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.domain.intervals import Interval
from opsroom.models import Anchor, Assignment, Booking, LineupItem, Product
from opsroom.domain.statuses import ACTIVE_STATUSES, ANCHOR_ROLES
from opsroom.services.permissions import require
from opsroom.services.people_goods import anchors as anchor_service
from opsroom.services import audit
from opsroom.services.bookings.core import flush_or_conflict, get_booking, lock_booking, lock_contenders, rule_breach
from opsroom.services.errors import Conflict, RuleViolation, ValidationFailed
from opsroom.services.transaction import transactional

MAX_LINEUP = 200


def _invalid(errors: list[dict]) -> ValidationFailed:
    return ValidationFailed(_l("Please correct the marked fields."), errors)


def _load_anchors(session: so.Session, entries: list[dict]) -> list[tuple[Anchor, str]]:
    errors, pairs, seen = [], [], set()
    found = {a.id: a for a in session.scalars(sa.select(Anchor).where(Anchor.id.in_([e["anchor_id"] for e in entries])))}
    for i, entry in enumerate(entries):
        anchor = found.get(entry["anchor_id"])
        if anchor is None or not anchor.active:
            errors.append({"field": f"anchors[{i}].anchor_id", "message": _l("No such active anchor.")})
        elif anchor.id in seen:
            errors.append({"field": f"anchors[{i}].anchor_id", "message": _l("This anchor is listed twice.")})
        elif entry.get("role", "host") not in ANCHOR_ROLES:
            errors.append({"field": f"anchors[{i}].role", "message": _l("Unknown role.")})
        else:
            seen.add(anchor.id)
            pairs.append((anchor, entry.get("role", "host")))
    if errors:
        raise _invalid(errors)
    return pairs


def load_anchor_entries(session: so.Session, entries: list[dict]) -> list[tuple[Anchor, str]]:
    """The (anchor, role) pairs of `[{anchor_id, role}]`: 422 for an unknown or
    inactive anchor, one listed twice, an unknown role."""
    return _load_anchors(session, entries)


def check_anchors(session: so.Session, booking: Booking, pairs: list[tuple[Anchor, str]],
                  starts_at: datetime | None = None, ends_at: datetime | None = None) -> None:
    """Raise 409 for a clash with another active session of an anchor, 422 for
    a broken rule (daily limit, rest, verified host)."""
    candidate = Interval(starts_at or booking.starts_at, ends_at or booking.ends_at)
    clashes, breaches = anchor_service.evaluate(session, pairs, candidate, exclude_booking=booking.id)
    if clashes:
        raise Conflict(_l("An anchor is in another session at this time."), clashes)
    if breaches:
        raise RuleViolation(_l("The assignment breaks a rule for anchors."), breaches)


def _assignments(booking: Booking, pairs: list[tuple[Anchor, str]]) -> list[Assignment]:
    # `anchor=` (not only its id) keeps the loaded anchor on the row: the answer
    # names it without loading it again.
    return [Assignment(anchor=anchor, anchor_id=anchor.id, role=role, starts_at=booking.starts_at,
                       ends_at=booking.ends_at, active=booking.status in ACTIVE_STATUSES) for anchor, role in pairs]


def apply_anchors(session: so.Session, booking: Booking, entries: list[dict]) -> None:
    """Replace the booking's anchors after checking every rule; no commit."""
    pairs = _load_anchors(session, entries)
    # Before the check (so that it sees every rival that can commit) and before
    # the flush below deletes the old rows: the anchors it frees and takes.
    lock_contenders(session, anchors={a.anchor_id for a in booking.assignments} | {a.id for a, _ in pairs})
    check_anchors(session, booking, pairs)
    booking.assignments.clear()
    session.flush()
    booking.assignments.extend(_assignments(booking, pairs))


def setup_new(session: so.Session, booking: Booking, anchor_entries: list[dict], items: list[dict]) -> None:
    """Anchors and lineup of a booking not yet written (not in the session), under
    the same rules as apply_anchors/apply_lineup; the booking's own flush writes
    them with it. No commit."""
    if anchor_entries:
        pairs = _load_anchors(session, anchor_entries)
        check_anchors(session, booking, pairs)
        booking.assignments = _assignments(booking, pairs)
    if items:
        booking.lineup = _lineup_items(session, booking, items)


def _lineup_items(session: so.Session, booking: Booking, items: list[dict]) -> list[LineupItem]:
    if len(items) > MAX_LINEUP:
        raise _invalid([{"field": "lineup", "message": _l("At most %(n)s products.", n=MAX_LINEUP)}])
    products = {p.id: p for p in session.scalars(
        sa.select(Product).where(Product.id.in_([i["product_id"] for i in items])))}
    errors, breaches, out = [], [], []
    for n, item in enumerate(items):
        product = products.get(item["product_id"])
        if product is None:
            errors.append({"field": f"lineup[{n}].product_id", "message": _l("No such product.")})
            continue
        if product.tenant_id != booking.tenant_id:
            breaches.append({"rule": "product_tenant", "field": f"lineup[{n}].product_id",
                             "message": str(_l("%(name)s belongs to another tenant.", name=product.name))})
        start, end = item.get("planned_start"), item.get("planned_end")
        if (start and not booking.starts_at <= start <= booking.ends_at) or \
                (end and not booking.starts_at <= end <= booking.ends_at):
            breaches.append({"rule": "planned_times", "field": f"lineup[{n}].planned_start",
                             "message": str(_l("Planned times must lie inside the session."))})
        elif start and end and end <= start:
            breaches.append({"rule": "planned_times", "field": f"lineup[{n}].planned_end",
                             "message": str(_l("The end must be after the start."))})
        out.append(LineupItem(product=product, product_id=product.id, position=n + 1, planned_start=start,
                              planned_end=end, planned_quantity=item.get("planned_quantity")))
    if errors:
        raise _invalid(errors)
    if breaches:
        raise RuleViolation(_l("The lineup breaks a rule."), breaches)
    return out


def apply_lineup(session: so.Session, booking: Booking, items: list[dict]) -> None:
    """Replace the booking's lineup (only the booking tenant's products, planned
    times inside the session); no commit."""
    new = _lineup_items(session, booking, items)
    booking.lineup.clear()
    session.flush()  # free the positions before reusing them
    booking.lineup.extend(new)


def stock_warnings(booking: Booking) -> list[dict[str, Any]]:
    """Products whose stock is below the lineup's planned quantity, or, with no
    quantity planned, that are out of stock (each with its own message)."""
    warnings = []
    for item in booking.lineup:
        stock, planned = item.product.stock, item.planned_quantity
        if planned is not None and stock < planned:
            message = _l("Stock of %(name)s (%(stock)s) is below what the lineup plans (%(planned)s).",
                         name=item.product.name, stock=stock, planned=planned)
        elif stock == 0:
            message = _l("%(name)s is out of stock.", name=item.product.name)
        else:
            continue
        warnings.append({"product_id": item.product_id, "sku": item.product.sku, "name": item.product.name,
                         "stock": stock, "planned_quantity": planned, "message": str(message)})
    return warnings


def _editable(session: so.Session, user, booking_id: int, permission: str = "bookings.write") -> Booking:
    """The booking, locked, if `user` may change it (another tenant's: not found) and it is active."""
    require(user, permission)
    lock_booking(session, booking_id)  # edits of one booking's people and goods run one after another
    booking = get_booking(session, user, booking_id)
    if booking.status not in ACTIVE_STATUSES:
        raise RuleViolation(_l("The booking breaks a rule of the park."), [rule_breach("status", "status")])
    return booking


@transactional
def set_anchors(session: so.Session, user, booking_id: int, entries: list[dict]) -> Booking:
    """PUT a booking's anchors: every anchor free (409 naming the other
    booking), within daily limit and rest, hosts verified (422)."""
    booking = _editable(session, user, booking_id)
    before = sorted((a.anchor_id, a.role) for a in booking.assignments)
    apply_anchors(session, booking, entries)

    def on_overlap():
        # Lost a race: someone assigned one of these anchors a moment ago.
        fresh = session.get(Booking, booking_id)
        check_anchors(session, fresh, _load_anchors(session, entries))

    flush_or_conflict(session, on_overlap, _l("An anchor was assigned elsewhere a moment ago."))
    after = sorted((a.anchor_id, a.role) for a in booking.assignments)
    if before != after:
        audit.record(session, user, "booking", booking.id, "anchors_changed", {"anchors": [before, after]})
    return booking


@transactional
def set_lineup(session: so.Session, user, booking_id: int, items: list[dict]) -> Booking:
    """PUT a booking's ordered lineup (a tenant's account: of its own bookings)."""
    booking = _editable(session, user, booking_id, "lineup.write")
    before = [i.product_id for i in booking.lineup]
    apply_lineup(session, booking, items)
    session.flush()
    after = [i.product_id for i in booking.lineup]
    if before != after:
        audit.record(session, user, "booking", booking.id, "lineup_changed", {"lineup": [before, after]})
    return booking


def copy_setup(session: so.Session, user, source_id: int, target_ids: list[int], *,
               anchors: bool = True, lineup: bool = True) -> list[dict[str, Any]]:
    """Copy a booking's anchors and/or lineup to other bookings (e.g. the rest
    of a series' week). Each target is checked and saved on its own, so one
    clash does not block the others; returns one result per target. Commits in
    steps: each target in a transaction of its own."""
    from opsroom.services.errors import ServiceError

    source = get_booking(session, user, source_id)
    require(user, "bookings.write")
    anchor_entries = [{"anchor_id": a.anchor_id, "role": a.role} for a in source.assignments]
    offsets = [(i.product_id, i.planned_start and i.planned_start - source.starts_at,
                i.planned_end and i.planned_end - source.starts_at, i.planned_quantity) for i in source.lineup]
    results = []
    for target_id in target_ids:
        if target_id == source_id:
            continue
        try:
            target = _editable(session, user, target_id)
            if anchors:
                apply_anchors(session, target, anchor_entries)
            if lineup:
                apply_lineup(session, target, [
                    {"product_id": pid, "planned_start": s and target.starts_at + s,
                     "planned_end": e and target.starts_at + e, "planned_quantity": q}
                    for pid, s, e, q in offsets])
            session.flush()
            audit.record(session, user, "booking", target.id, "setup_copied", {"from": source_id})
            session.commit()
            results.append({"booking_id": target_id, "ok": True})
        except ServiceError as exc:
            session.rollback()
            results.append({"booking_id": target_id, "ok": False, "error": exc.body()["error"]})
        except sa.exc.IntegrityError:
            session.rollback()
            results.append({"booking_id": target_id, "ok": False,
                            "error": {"code": "conflict", "message": str(_l("An anchor was assigned elsewhere a moment ago.")), "details": []}})
    return results


def shift_lineup(booking: Booking, delta) -> None:
    """A moved booking takes its planned product times along."""
    for item in booking.lineup:
        if item.planned_start:
            item.planned_start += delta
        if item.planned_end:
            item.planned_end += delta
