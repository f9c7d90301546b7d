"""Attribution of ingested order rows to sessions, set-based per chunk: the explicit
booking id; else the room code and a session of that room (not cancelled) whose
[starts_at, ends_at + grace) holds the order time; else an anchor's platform
account and a session they are on, same window; else unattributed."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from sqlalchemy.dialects.postgresql import ARRAY

from opsroom.domain import orders as rules
from opsroom.db import among, is_postgres
from opsroom.domain.booking_rules import MAX_BOOKING_MINUTES
from opsroom.settings import settings_of
from opsroom.models import Anchor, Assignment, Booking, Product, Room
from opsroom.services.sales.row_messages import ROW_MESSAGES


def _grace(session: so.Session) -> timedelta:
    return timedelta(minutes=settings_of(session).order_attribution_grace_minutes)


def attribute_rows(session: so.Session, items: list[tuple[int, dict]], late_errors: list) -> list[dict]:
    """Set booking_id, attributed_by and tenant_id on each row, with a few
    set-based queries for the whole chunk (none per row)."""
    grace = _grace(session)
    rows: list[dict] = []
    explicit = {row["booking_id"] for _, row in items if row["booking_id"]}
    tenants, cancelled = {}, set()
    if explicit:
        found = session.execute(sa.select(Booking.id, Booking.tenant_id, Booking.status)
                                .where(among(session, Booking.id, explicit))).all()
        tenants = {b.id: b.tenant_id for b in found}
        cancelled = {b.id for b in found if b.status == "cancelled"}
    pending: list[dict] = []
    for pos, row in items:
        row["tenant_id"] = None
        if row["booking_id"]:
            if row["booking_id"] not in tenants or row["booking_id"] in cancelled:
                # The same rule as assigning by hand: a cancelled session sold nothing.
                reason = "cancelled_booking" if row["booking_id"] in cancelled else "no_booking"
                late_errors.append((pos, row["external_id"], str(ROW_MESSAGES[reason])))
                continue
            row["attributed_by"], row["tenant_id"] = "booking", tenants[row["booking_id"]]
        else:
            row["attributed_by"] = None
            pending.append(row)
        rows.append(row)

    by_room = [r for r in pending if r["room_code"]]
    if by_room:
        found = _windows(session, by_room, "room_code", grace, lambda lo, hi, keys: (
            sa.select(Room.code, Booking.id, Booking.starts_at, Booking.ends_at, Booking.tenant_id)
            .join(Room, Room.id == Booking.room_id)
            .where(among(session, Room.code, keys), Booking.status != "cancelled",
                   Booking.starts_at <= hi, Booking.starts_at > lo - _LONGEST, Booking.ends_at > lo)))
        _apply_windows(by_room, "room_code", found, "room")
        pending = [r for r in pending if r["booking_id"] is None]

    by_anchor = [r for r in pending if r["anchor_account"]]
    if by_anchor:
        anchor_of = _anchors(session, by_anchor)
        for r in by_anchor:
            r["anchor_id"] = anchor_of.get((r["platform"], r["anchor_account"]))
        by_anchor = [r for r in by_anchor if r["anchor_id"] is not None]
        if by_anchor:
            found = _windows(session, by_anchor, "anchor_id", grace, lambda lo, hi, keys: (
                sa.select(Assignment.anchor_id, Booking.id, Booking.starts_at, Booking.ends_at, Booking.tenant_id)
                .join(Booking, Booking.id == Assignment.booking_id)
                .where(among(session, Assignment.anchor_id, keys), Booking.status != "cancelled",
                       # an assignment carries its booking's times: its index bounds the search
                       Assignment.starts_at <= hi, Assignment.starts_at > lo - _LONGEST,
                       Booking.starts_at <= hi, Booking.ends_at > lo)))
            _apply_windows(by_anchor, "anchor_id", found, "anchor")
    return rows


# Rows further apart in time than this are looked up in separate queries, so a
# chunk spread over a year never loads a year of sessions.
_SPAN = timedelta(days=1)

# No session lasts longer (domain.booking_rules): one that holds an order time
# started at most this long before it, which bounds the index range searched.
_LONGEST = timedelta(minutes=MAX_BOOKING_MINUTES)


def _windows(session, rows: list[dict], key: str, grace: timedelta, query) -> dict[Any, rules.Windows]:
    """Candidate sessions per key (room code or anchor id), one query per
    cluster of order times."""
    # (key, booking id) → its window: clusters may read the same session twice.
    found: dict[tuple[Any, int], tuple] = {}
    first = min(r["ordered_at"] for r in rows)
    last = max(r["ordered_at"] for r in rows)
    if last - first <= _SPAN:  # the usual chunk: orders of a day or less, one query
        clusters = [(first, last, {r[key] for r in rows})]
    else:
        clusters = []
        times = sorted((r["ordered_at"], r[key]) for r in rows)
        start, n = 0, len(times)
        while start < n:
            lo = times[start][0]
            end = start
            while end < n and times[end][0] <= lo + _SPAN:
                end += 1
            clusters.append((lo, times[end - 1][0], {k for _, k in times[start:end]}))
            start = end
    for lo, hi, keys in clusters:
        for k, booking_id, starts_at, ends_at, tenant_id in session.execute(query(lo - grace, hi, keys)):
            found[(k, booking_id)] = (booking_id, starts_at, ends_at, tenant_id)
    by_key: dict[Any, list[rules.Window]] = {}
    for (k, _), w in found.items():
        by_key.setdefault(k, []).append(rules.Window(*w))
    return {k: rules.Windows(v, grace) for k, v in by_key.items()}


def _apply_windows(rows: list[dict], key: str, windows: dict, method: str) -> None:
    for r in rows:
        w = windows.get(r[key])
        hit = w.find(r["ordered_at"]) if w else None
        if hit is not None:
            r["booking_id"], r["attributed_by"], r["tenant_id"] = hit.booking_id, method, hit.tenant_id


def _anchors(session: so.Session, rows: list[dict]) -> dict[tuple[str, str], int]:
    """(platform, account) → anchor id, from Anchor.platform_accounts."""
    wanted: dict[str, set[str]] = {}
    for r in rows:
        wanted.setdefault(r["platform"], set()).add(r["anchor_account"])
    out: dict[tuple[str, str], int] = {}
    for platform, accounts in wanted.items():
        account = Anchor.platform_accounts[platform].as_string()
        for anchor_id, value in session.execute(
                sa.select(Anchor.id, account).where(among(session, account, accounts)).order_by(Anchor.id.desc())):
            out[(platform, value)] = anchor_id  # the oldest anchor wins a shared account
    return out


def link_products(session: so.Session, rows: list[dict]) -> None:
    """product_id where the session's tenant has a product with the row's SKU."""
    pairs = {(r["tenant_id"], r["sku"]) for r in rows if r["tenant_id"] and r["sku"]}
    found = {}
    if pairs and is_postgres(session):
        tenant_ids, skus = zip(*pairs)
        found = {(t, s): pid for pid, t, s in session.execute(_PRODUCTS_OF_PAIRS, {
            "tenant_ids": list(tenant_ids), "skus": list(skus)})}
    elif pairs:
        tenant_ids, skus = {t for t, _ in pairs}, {s for _, s in pairs}
        found = {(t, s): pid for pid, t, s in session.execute(
            sa.select(Product.id, Product.tenant_id, Product.sku)
            .where(Product.tenant_id.in_(tenant_ids), Product.sku.in_(skus)))}
    for r in rows:
        r["product_id"] = found.get((r["tenant_id"], r["sku"])) if r["tenant_id"] else None


# The products of exact (tenant, SKU) pairs: one probe of their unique index per pair ("OFFSET
# 0" keeps the planner from making it a join, which read every product of the tenants, or the
# whole table, to match a chunk's few hundred SKUs: ≈ 3× the time at 30,000 products).
_PRODUCTS_OF_PAIRS = sa.text(
    f"SELECT p.id, w.tenant_id, w.sku FROM unnest(:tenant_ids, :skus) AS w (tenant_id, sku) "
    f"CROSS JOIN LATERAL (SELECT id FROM {Product.__tablename__} "
    f"WHERE tenant_id = w.tenant_id AND sku = w.sku OFFSET 0) AS p"
).bindparams(sa.bindparam("tenant_ids", type_=ARRAY(Product.tenant_id.type)),
             sa.bindparam("skus", type_=ARRAY(Product.sku.type)))
