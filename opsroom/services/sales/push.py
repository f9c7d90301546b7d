"""The 抖店 order push (抖店开放平台 消息推送): store, de-duplicate, apply.

The route has verified the signature and parsed the body (domain/integrations/
doudian.verify_and_parse); here each message is stored once per `msg_id`
(unique, so a push repeated by 抖店, or two deliveries of it at once, applies
it once) and applied to the orders it names, all in one transaction, so the
answer "success" means it is kept:

- by sub-order id (`s_ids`, or the `s_id` of an after-sale message), else by
  the parent order id (`p_id`) on the orders' `parent_id`, on platform douyin;
- 101 paid: status paid, and the amount when the message names one sub-order;
- 106 cancelled: status cancelled (nothing refunded);
- 206 refund succeeded: status refunded, refund amount (capped at the amount);
- an order not yet known is created when the message names exactly one
  sub-order with an amount and a time (100/101); it is attributed as an import
  row is (by `room_code` or the anchor's account `author_id` when the message
  carries them, else kept unattributed for a coordinator).
Other tags are stored and change nothing.
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from opsroom import clock
from opsroom.domain import orders as order_rules
from opsroom.domain.csv_rows import RowError
from opsroom.domain.integrations.doudian import DoudianEvent
from opsroom.models import DoudianMessage, ImportBatch, Order
from opsroom.services.sales.ingestion import apply_chunk
from opsroom.services.transaction import transactional

PLATFORM = "douyin"


def _orders(session: so.Session, event: DoudianEvent) -> list[Order]:
    if event.order_ids:
        where = Order.external_id.in_(event.order_ids)
    elif event.parent_order_id:
        where = Order.parent_id == event.parent_order_id
    else:
        return []
    return list(session.scalars(sa.select(Order).where(Order.platform == PLATFORM, where).with_for_update()))


def _create(session: so.Session, event: DoudianEvent, status: str) -> str:
    """A new order from a message that carries enough: one sub-order, an amount, a time."""
    at = event.ordered_at or event.happened_at
    if len(event.order_ids) != 1 or event.amount_fen is None or at is None:
        return "unknown order"
    row = {"platform": PLATFORM, "external_id": event.order_ids[0], "parent_id": event.parent_order_id or "",
           "room_code": event.room_code, "anchor_account": event.author_id,
           "quantity": 1, "amount_fen": event.amount_fen, "status": status, "ordered_at": at}
    try:
        checked = order_rules.check_row(row, PLATFORM)
    except RowError as exc:
        return f"not created: {exc}"[:200]
    batch = ImportBatch(user_id=None, source="json", platform=PLATFORM, state="done", started_at=clock.now(),
                        finished_at=clock.now(), message="抖店 push")
    session.add(batch)
    session.flush()
    counts = apply_chunk(session, batch, [(0, checked)], [])
    batch.rows_seen = 1
    return "created" + (" (unattributed)" if counts["unattributed"] else "")


def _apply(session: so.Session, event: DoudianEvent) -> str:
    if event.kind not in ("created", "paid", "cancelled", "refund"):
        return "stored"
    orders = _orders(session, event)
    if not orders:
        if event.kind in ("created", "paid"):
            return _create(session, event, "paid")
        return "unknown order"
    now = clock.now()
    for order in orders:
        if event.kind == "paid":
            if event.amount_fen is not None and len(orders) == 1:
                order.amount_fen = event.amount_fen
                order.refund_fen = min(order.refund_fen, order.amount_fen)
            if order.status == "cancelled":
                order.refund_fen = 0
            order.status = "paid" if order.status != "refunded" else order.status
        elif event.kind == "cancelled":
            order.status, order.refund_fen = "cancelled", 0
        elif event.kind == "refund":
            refund = event.refund_fen if event.refund_fen is not None else order.amount_fen
            order.status, order.refund_fen = "refunded", min(refund, order.amount_fen)
        order.updated_at = now
    return f"{event.kind}: {len(orders)} order(s)"


@transactional
def receive(session: so.Session, events: list[DoudianEvent]) -> dict[str, int]:
    """Store each message once (by msg_id) and apply the new ones, in one
    transaction. → {"stored", "duplicates"}. The verification message (tag 0)
    is answered and not stored."""
    stored = duplicates = 0
    for event in events:
        if event.kind == "verify":
            continue
        known = session.scalar(sa.select(DoudianMessage.id).where(DoudianMessage.msg_id == event.msg_id))
        if known is not None:
            duplicates += 1
            continue
        message = DoudianMessage(msg_id=event.msg_id, tag=event.tag, raw=dict(event.raw), received_at=clock.now())
        try:
            # The same message pushed twice at once: the unique msg_id lets one insert
            # win; the other waits for it, then sees a duplicate and applies nothing.
            with session.begin_nested():
                session.add(message)
                session.flush()
        except IntegrityError:
            duplicates += 1
            continue
        message.result = _apply(session, event)[:200]
        stored += 1
    return {"stored": stored, "duplicates": duplicates}
