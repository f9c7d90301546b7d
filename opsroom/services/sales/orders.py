"""Orders (订单) as a coordinator sees them: the list of a session's or the
unattributed orders, and attribution by hand."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.domain.cells import safe_cell
from opsroom.domain.money import format_money
from opsroom.domain.orders import Candidate, likely_sessions
from opsroom.models import Assignment, Booking, Order, Product
from opsroom.services.permissions import require
from opsroom.services import audit
from opsroom.services.bookings.core import get_booking
from opsroom.services.errors import Forbidden, RuleViolation, ValidationFailed
from opsroom.services.sales.row_messages import ROW_MESSAGES
from opsroom.services.transaction import transactional


def list_orders(session: so.Session, user, *, booking_id: int | None = None, unattributed: bool = False,
                start: datetime | None = None, end: datetime | None = None, limit: int = 1000) -> list[Order]:
    """Orders of a booking, or the unattributed ones, or all, with
    ordered_at in [start, end), oldest first. An anchor reads only the orders
    of a session they are assigned to; a tenant's account only its own
    sessions' (without a booking: all of them, never an unattributed one)."""
    require(user, "orders.read")
    q = sa.select(Order)
    if booking_id is not None:
        get_booking(session, user, booking_id)  # 404 (another tenant's), or 403 for another anchor's session
        q = q.where(Order.booking_id == booking_id)
    elif user.role == "tenant":
        q = q.join(Booking, Booking.id == Order.booking_id).where(Booking.tenant_id == user.tenant_id)
    elif user.role == "anchor":
        raise Forbidden(_l("You may only see the orders of your own sessions."))
    if unattributed:
        q = q.where(Order.booking_id.is_(None))
    if start is not None:
        q = q.where(Order.ordered_at >= start)
    if end is not None:
        q = q.where(Order.ordered_at < end)
    return list(session.scalars(q.order_by(Order.ordered_at, Order.id).limit(limit)))


ORDER_CSV_COLUMNS = (
    ("external_id", _l("Order number")), ("platform", _l("Platform")), ("booking_id", _l("Booking")),
    ("ordered_at", _l("Ordered at")), ("sku", _l("SKU")), ("product_name", _l("Product")),
    ("quantity", _l("Quantity")), ("amount", _l("Amount (yuan)")), ("refund", _l("Refund (yuan)")),
    ("status", _l("Status")),
)


def orders_csv(orders: list[Order], tz) -> bytes:
    """Orders as a CSV download (UTF-8 with a BOM for Excel; park time; yuan;
    no cell a spreadsheet would run as a formula)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([str(label) for _key, label in ORDER_CSV_COLUMNS])
    for o in orders:
        writer.writerow([safe_cell(v) for v in (
            o.external_id, o.platform, o.booking_id or "", o.ordered_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            o.sku, o.product_name, o.quantity, format_money(o.amount_fen), format_money(o.refund_fen), o.status)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


@transactional
def attribute(session: so.Session, user, order_ids: Iterable[int], booking_id: int) -> int:
    """Assign orders to a session by hand (attributed_by = "manual"; a later
    re-import keeps it). The booking must exist and not be cancelled; every
    order id must exist. Links each order to the tenant's product with its SKU.
 returns how many orders changed."""
    require(user, "orders.write")
    ids = sorted(set(order_ids))
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "booking_id", "message": _l("No such booking.")}])
    if booking.status == "cancelled":
        raise RuleViolation(ROW_MESSAGES["cancelled_booking"], [
            {"rule": "booking_cancelled", "field": "booking_id", "message": ROW_MESSAGES["cancelled_booking"]}])
    found = set(session.scalars(sa.select(Order.id).where(Order.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed(_l("Please correct the marked fields."), [
            {"field": "order_ids", "message": _l("No such orders: %(ids)s", ids=", ".join(map(str, missing[:20])))}])
    product = (sa.select(Product.id).where(Product.tenant_id == booking.tenant_id, Product.sku == Order.sku)
               .scalar_subquery())
    result = session.execute(
        sa.update(Order).where(Order.id.in_(ids), sa.or_(Order.booking_id.is_(None), Order.booking_id != booking.id,
                                                         Order.attributed_by != "manual"))
        .values(booking_id=booking.id, attributed_by="manual", product_id=product, updated_at=clock.now())
        .execution_options(synchronize_session=False))
    changed = result.rowcount
    audit.record(session, user, "booking", booking.id, "orders_attributed",
                 {"orders": changed, "order_ids": ids[:100]})
    return changed


def bookings_for_assignment(session: so.Session, user, start: datetime, end: datetime) -> list[Booking]:
    """Sessions overlapping [start, end) that orders may be assigned to (not cancelled)."""
    require(user, "orders.write")
    return list(session.scalars(
        sa.select(Booking).options(so.joinedload(Booking.room), so.joinedload(Booking.tenant))
        .where(Booking.starts_at < end, Booking.ends_at > start, Booking.status != "cancelled")
        .order_by(Booking.starts_at, Booking.room_id)))


def unattributed_count(session: so.Session, user) -> int:
    require(user, "orders.write")
    return session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.booking_id.is_(None))) or 0


def unattributed_page(session: so.Session, user, *, start: datetime | None = None, end: datetime | None = None,
                      platform: str | None = None, room_code: str | None = None, anchor_account: str | None = None,
                      offset: int = 0, limit: int = 50) -> tuple[list[Order], int]:
    """One page of the unattributed orders matching the filters (ordered_at in
    [start, end), exact platform, room code and anchor account), oldest first,
    and how many match in all."""
    require(user, "orders.write")
    where = [Order.booking_id.is_(None)]
    if start is not None:
        where.append(Order.ordered_at >= start)
    if end is not None:
        where.append(Order.ordered_at < end)
    if platform:
        where.append(Order.platform == platform)
    if room_code:
        where.append(Order.room_code == room_code)
    if anchor_account:
        where.append(Order.anchor_account == anchor_account)
    total = session.scalar(sa.select(sa.func.count()).select_from(Order).where(*where)) or 0
    rows = session.scalars(sa.select(Order).where(*where).order_by(Order.ordered_at, Order.id)
                           .offset(offset).limit(limit))
    return list(rows), total


def suggest_sessions(session: so.Session, user, orders: list[Order], *, reach: timedelta = timedelta(hours=12),
                     per_order: int = 3) -> tuple[dict[int, list[Booking]], list[Booking]]:
    """For each order, the sessions it most likely belongs to (domain/orders.likely_sessions:
    same room code or anchor account, nearest window), among the sessions within
    `reach` of the orders; and those sessions, for choosing by hand."""
    require(user, "orders.write")
    if not orders:
        return {}, []
    lo = min(o.ordered_at for o in orders) - reach
    hi = max(o.ordered_at for o in orders) + reach
    bookings = list(session.scalars(
        sa.select(Booking).options(so.joinedload(Booking.room), so.joinedload(Booking.tenant),
                                   so.selectinload(Booking.assignments).joinedload(Assignment.anchor))
        .where(Booking.starts_at < hi, Booking.ends_at > lo, Booking.status != "cancelled")
        .order_by(Booking.starts_at, Booking.room_id)).unique())
    by_id = {b.id: b for b in bookings}
    candidates = [Candidate(b.id, b.starts_at, b.ends_at, b.room.code,
                            frozenset(f"{k}:{v}" for a in b.assignments for k, v in (a.anchor.platform_accounts or {}).items()))
                  for b in bookings]
    suggestions = {o.id: [by_id[c.booking_id] for c in likely_sessions(o.ordered_at, o.platform, o.room_code,
                                                                       o.anchor_account, candidates, per_order)]
                   for o in orders}
    return suggestions, bookings
