"""Orders (订单) of the demo park: the sales of the sessions that took place or
are live now, so that stats, the big screen, the review and the reports are alive.
Each session sells a share of its room's capacity (its load, 10 %–130 %, see
data.LOAD_*): the sessions live now at full volume, so the screen, the board and
the booking page show capacity alerts; the sessions already over at one order in
data.HISTORY_SAMPLE. Evenings sell more, a few orders are refunded or
cancelled, and some came from outside any session (unattributed). Inserted in bulk.

`feed_live_orders` (the demo-live command) keeps the screen moving afterwards.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.demo.builders import Demo
from opsroom.demo.data import (
    CANCELLED_SHARE_ORDERS, FALLBACK_PRICES, FLASH_SALE_LOAD, HISTORY_SAMPLE, HOUR_WEIGHT, KUAISHOU_SHARE, LOAD_HIGH,
    LOAD_LOW, LOAD_MODE, REFUNDED_SHARE, UNATTRIBUTED_SHARE,
)
from opsroom.models import Assignment, Booking, LineupItem, Order, Product, User

LIVE_WINDOW = timedelta(hours=1)


def _order_row(demo: Demo, booking: Booking | None, at: datetime, products: list[Product], *,
               accounts: list[str], buyers: int, status: str | None = None) -> dict:
    rng = demo.rng
    product = rng.choice(products) if products else None
    quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
    price = product.price_fen if product else rng.choice(FALLBACK_PRICES)
    amount = price * quantity
    if status is None:
        roll = rng.random()
        status = ("refunded" if roll < REFUNDED_SHARE else
                  "cancelled" if roll < REFUNDED_SHARE + CANCELLED_SHARE_ORDERS else "paid")
    platform = "kuaishou" if rng.random() < KUAISHOU_SHARE else "douyin"
    external_id = str(rng.randrange(10**18, 10**19))
    while external_id in demo.order_ids:
        external_id = str(rng.randrange(10**18, 10**19))
    demo.order_ids.add(external_id)
    imported = min(demo.now, at + timedelta(minutes=rng.randint(1, 30)))
    return {
        "platform": platform, "external_id": external_id, "parent_id": external_id,
        "booking_id": booking.id if booking else None, "attributed_by": "room" if booking else None,
        "room_code": booking.room.code if booking else "", "anchor_account": rng.choice(accounts) if accounts else "",
        "sku": product.sku if product else "", "product_id": product.id if product else None,
        "product_name": product.name if product else "", "buyer": f"{platform[:2]}_{rng.randrange(buyers):06d}",
        "quantity": quantity, "amount_fen": amount, "refund_fen": amount if status == "refunded" else 0,
        "status": status, "ordered_at": at, "created_at": imported,
        "updated_at": imported + timedelta(days=1) if status == "refunded" and imported + timedelta(days=1) < demo.now
        else imported,
    }


def _sale_times(demo: Demo, start: datetime, end: datetime, n: int) -> list[datetime]:
    """n instants in [start, end), more of them in the evening hours (rejection sampling)."""
    rng, span = demo.rng, (end - start).total_seconds()
    out: list[datetime] = []
    top = max(HOUR_WEIGHT.values())
    while len(out) < n:
        at = start + timedelta(seconds=rng.random() * span)
        if rng.random() * top < HOUR_WEIGHT[at.astimezone(demo.tz).hour]:
            out.append(at)
    return out


def build_orders(demo: Demo) -> None:
    """Orders of every session that took place (ended) or is live now, and a few
    unattributed ones per day."""
    tenants_by_id = {t.id: name for name, t in demo.tenants.items()}
    sold = [b for b in demo.bookings if b.status in ("ended", "live")]
    lineups: dict[int, list[Product]] = {}
    for item in demo.session.scalars(sa.select(LineupItem).options(so.joinedload(LineupItem.product))):
        lineups.setdefault(item.booking_id, []).append(item.product)
    accounts: dict[int, list[str]] = {}
    for a in demo.session.scalars(sa.select(Assignment).options(so.joinedload(Assignment.anchor))):
        accounts.setdefault(a.booking_id, []).append(a.anchor.platform_accounts.get("douyin", ""))
    rows: list[dict] = []
    live = [b for b in sold if b.status == "live"]
    flash = min(live, key=lambda b: (b.room.order_capacity_per_hour, b.id)) if live else None
    for b in sorted(sold, key=lambda b: (b.starts_at, b.id)):
        name = tenants_by_id[b.tenant_id]
        load = demo.rng.triangular(LOAD_LOW, LOAD_HIGH, LOAD_MODE)
        end = min(b.ends_at, demo.now)
        # A live session's last hour (what the screen's and the board's live load read) at full
        # volume; everything before it at the history's sample.
        full_from = max(b.starts_at, demo.now - LIVE_WINDOW) if b.status == "live" else end
        products = lineups.get(b.id) or demo.products.get(name, [])
        for start, stop, scale in ((b.starts_at, full_from, 1.0 / HISTORY_SAMPLE), (full_from, end, 1.0)):
            hours_ = max(0.0, (stop - start).total_seconds() / 3600)
            n = int(b.room.order_capacity_per_hour * load * hours_ * scale * demo.order_scale)
            for at in _sale_times(demo, start, stop, n):
                rows.append(_order_row(demo, b, at, products, accounts=accounts.get(b.id, []),
                                       buyers=max(50, n * 2), status="paid" if b is flash else None))
        if b is flash:  # the last hour (or what has elapsed of it) above the room's capacity
            since = max(b.starts_at, demo.now - timedelta(hours=1))
            burst = (demo.now - since).total_seconds() / 3600 * b.room.order_capacity_per_hour * FLASH_SALE_LOAD
            already = sum(1 for r in rows if r["booking_id"] == b.id and r["ordered_at"] >= since)
            for at in sorted(since + (demo.now - since) * demo.rng.random() for _ in range(max(0, int(burst) - already))):
                rows.append(_order_row(demo, b, at, products, accounts=accounts.get(b.id, []), buyers=500,
                                       status="paid"))
    # Orders from the shops' other channels (short videos, the shop window): attributed to no session.
    unattributed = int(len(rows) * UNATTRIBUTED_SHARE)
    first = demo.at(demo.day(demo.first_day), "00:00")
    catalogue = [p for items in demo.products.values() for p in items]
    for at in sorted(_sale_times(demo, first, demo.now, unattributed)):
        rows.append(_order_row(demo, None, at, catalogue, accounts=[], buyers=5000))
    if rows:
        # Core, not the ORM's bulk path: tens of thousands of plain rows.
        demo.session.connection().execute(Order.__table__.insert(), rows)
    demo.session.flush()


# ---------------------------------------------------------------------------
# demo-live: keep the screen moving.


def feed_live_orders(session: so.Session, *, interval: float = 3.0, rng: random.Random | None = None) -> str:
    """One round of demo orders for every session live now, through the same
    ingestion as the API (services.orders.ingest_rows), by the first admin.
    Each session gets 0–3 orders; the one in the room with the smallest capacity
    keeps its flash sale above capacity. Commits; returns a one-line summary."""
    from opsroom.services.sales import stats
    from opsroom.services.sales.ingestion import ingest_rows

    rng = rng or random.Random()
    now = clock.now()
    admin = session.scalar(sa.select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id))
    if admin is None:
        return "no active admin user to import as; run seed-demo first"
    live = session.scalars(
        sa.select(Booking).where(stats.live_now_clause(now))
        .options(so.joinedload(Booking.room), so.selectinload(Booking.lineup).joinedload(LineupItem.product),
                 so.selectinload(Booking.assignments).joinedload(Assignment.anchor))
        .order_by(Booking.id)
    ).unique().all()
    if not live:
        return "no session is live now"
    flash = min(live, key=lambda b: (b.room.order_capacity_per_hour, b.id))
    rows = []
    for b in live:
        n = rng.randint(0, 3)
        if b is flash:
            n = max(n, round(b.room.order_capacity_per_hour * interval / 3600 * FLASH_SALE_LOAD + rng.random()))
        products = [item.product for item in b.lineup]
        accounts = [a.anchor.platform_accounts.get("douyin", "") for a in b.assignments]
        for _ in range(n):
            product = rng.choice(products) if products else None
            quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
            rows.append({
                "platform": "douyin", "external_id": str(rng.randrange(10**18, 10**19)), "booking_id": b.id,
                "room_code": b.room.code, "anchor_account": rng.choice(accounts) if accounts else "",
                "sku": product.sku if product else "", "product_name": product.name if product else "",
                "quantity": quantity, "amount_fen": (product.price_fen if product else rng.choice(FALLBACK_PRICES)) * quantity,
                "ordered_at": now - timedelta(seconds=rng.uniform(0.5, max(1.0, interval))), "status": "paid",
                "buyer": f"do_{rng.randrange(100000):06d}",
            })
    if not rows:
        return f"{len(live)} sessions live, no new orders this round"
    result = ingest_rows(session, admin, rows, source="json", platform="douyin")
    return f"{len(live)} sessions live, {result['created']} new orders"
