"""The park the bench measures: built deterministically with bulk inserts (park.py's
rooms and a year of bookings; here anchors, products, a session of 20,000 orders and
today's orders of every session; PostgreSQL rows by COPY), and the order rows it ingests."""
from __future__ import annotations

import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import sqlalchemy as sa  # noqa: E402

import park as park_builder  # noqa: E402
from order_rows import PRODUCTS  # noqa: E402
from config import Config  # noqa: E402
from opsroom import clock, create_app  # noqa: E402
from opsroom.db import make_engine  # noqa: E402
from opsroom.migrate import upgrade  # noqa: E402
from opsroom.models import Anchor, Assignment, Booking, Order, Product, Room  # noqa: E402
from opsroom.services.reporting.refresh import refresh


UTC = timezone.utc
SECRET = "bench-secret-key"


TZ = park_builder.TZ


NOW = datetime(2026, 11, 20, 16, 0, tzinfo=TZ)  # a Friday, 16:00 park time: most rooms are live


ORDER_COLS = ("platform", "external_id", "parent_id", "booking_id", "attributed_by", "room_code", "anchor_account",
              "sku", "product_id", "product_name", "buyer", "quantity", "amount_fen", "refund_fen", "status",
              "ordered_at", "created_at")


def bulk(conn, table, rows: list[dict], cols=None) -> None:
    """COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    cols = cols or tuple(rows[0])
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(json.dumps(r[c]) if isinstance(r[c], (dict, list)) else r[c] for c in cols))
    else:
        for i in range(0, len(rows), 10_000):
            conn.execute(table.insert(), rows[i:i + 10_000])


def order_row(rng, n, booking_id, start, end, now, *, product=None):
    roll = rng.random()
    amount = rng.choice((990, 2990, 5990, 9900, 12900, 39900))
    status = "refunded" if roll < 0.07 else "cancelled" if roll < 0.1 else "paid"
    at = start + (min(end, now) - start) * rng.random()
    return {"platform": "douyin", "external_id": f"B{n:012d}", "parent_id": "", "booking_id": booking_id,
            "attributed_by": "room" if booking_id else None, "room_code": "", "anchor_account": "",
            "sku": f"SKU{product}" if product else "", "product_id": product, "product_name": "",
            "buyer": f"u{rng.randrange(10**6)}", "quantity": 1, "amount_fen": amount,
            "refund_fen": amount if status == "refunded" else 0, "status": status, "ordered_at": at, "created_at": now}


def build(url: str, *, rooms: int, days: int, big: int, per_session: int, seed: int = 2026, extra: int = 0,
          rollups: bool = True) -> dict:
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    park = park_builder.build(engine, rooms=rooms, days=days, now=NOW, seed=seed, log=lambda *_: None)
    rng = random.Random(seed)
    now = NOW.astimezone(UTC)
    today = NOW.date()
    n_anchors, n_products = min(3000, 15 * rooms), min(30_000, 150 * rooms)
    with engine.begin() as conn:
        bulk(conn, Anchor.__table__, [{
            "id": a, "name": f"主播{a}", "verified": True, "max_minutes_per_day": 1440, "min_rest_minutes": 0,
            "platform_accounts": {"douyin": f"dy{a}"}, "active": True, "feed_version": 1, "created_at": now}
            for a in range(1, n_anchors + 1)])
        tenants = park.active_tenant_ids
        bulk(conn, Product.__table__, [{
            "id": p, "tenant_id": tenants[p % len(tenants)], "sku": f"SKU{p}", "name": f"商品{p}", "category": "",
            "price_fen": 990 + p, "stock": 1000, "certifications": [], "active": True, "created_at": now}
            for p in range(1, n_products + 1)])
        # anchor 1 hosts the first session of room 1 every day: a full month schedule and a feed
        first = conn.execute(sa.select(Booking.id, Booking.starts_at, Booking.ends_at)
                             .where(Booking.room_id == park.room_ids[0], Booking.status != "cancelled")
                             .order_by(Booking.starts_at)).all()
        seen, assignments = set(), []
        for b in first:
            d = b.starts_at.astimezone(TZ).date()
            if d not in seen:
                seen.add(d)
                assignments.append({"booking_id": b.id, "anchor_id": 1, "role": "host", "starts_at": b.starts_at,
                                    "ends_at": b.ends_at, "active": True})
        bulk(conn, Assignment.__table__, assignments)
        # the big session: yesterday's longest ended session; today's sessions get per_session orders each
        yesterday = [datetime.combine(today - timedelta(days=1), datetime.min.time(), TZ).astimezone(UTC)]
        yesterday.append(yesterday[0] + timedelta(days=1))
        big_b = conn.execute(sa.select(Booking.id, Booking.starts_at, Booking.ends_at)
                             .where(Booking.status == "ended", Booking.starts_at >= yesterday[0],
                                    Booking.starts_at < yesterday[1])
                             .order_by((Booking.ends_at - Booking.starts_at).desc() if engine.dialect.name == "postgresql"
                                       else sa.text("julianday(ends_at) - julianday(starts_at) DESC"), Booking.id)
                             .limit(1)).one()
        counter = iter(range(1, 10**9))
        orders = [order_row(rng, next(counter), big_b.id, big_b.starts_at, big_b.ends_at, now,
                            product=rng.randint(1, 7)) for _ in range(big)]
        midnight = datetime.combine(today, datetime.min.time(), TZ).astimezone(UTC)
        todays = conn.execute(sa.select(Booking.id, Booking.starts_at, Booking.ends_at)
                              .where(Booking.status.in_(("ended", "live")), Booking.ends_at > midnight,
                                     Booking.starts_at < now)).all()
        for b in todays:
            orders += [order_row(rng, next(counter), b.id, max(b.starts_at, midnight), b.ends_at, now)
                       for _ in range(per_session)]
        bulk(conn, Order.__table__, orders, ORDER_COLS)
        if extra:
            # Background volume, the history of a park in use: `extra` orders spread over the
            # sessions that ended before today (not the big session), inserted in slices. Today
            # and the big session keep their orders, so what grows is only the table.
            history = conn.execute(sa.select(Booking.id, Booking.starts_at, Booking.ends_at)
                                   .where(Booking.status == "ended", Booking.ends_at <= midnight,
                                          Booking.id != big_b.id)).all()
            for i in range(0, extra, 200_000):
                bulk(conn, Order.__table__, [
                    order_row(rng, next(counter), b.id, b.starts_at, b.ends_at, now)
                    for b in (history[rng.randrange(len(history))] for _ in range(min(200_000, extra - i)))],
                    ORDER_COLS)
        live = conn.execute(sa.select(sa.func.count()).where(Booking.status == "live")).scalar()
        rooms_rows = conn.execute(sa.select(Room.id, Room.code)).all()
        past = conn.execute(sa.select(Booking.id, Booking.room_id, Booking.starts_at, Booking.ends_at)
                            .where(Booking.status == "ended", Booking.starts_at >= now - timedelta(days=14))
                            .order_by(Booking.id)).all()
    sold = sum(1 for o in orders[:big] if o["status"] in ("paid", "refunded"))
    built_s = time.perf_counter() - t0
    park_builder.analyze(engine)

    app = create_app(Config, DATABASE_URL=url, SECRET_KEY=SECRET)
    clock.set_now(NOW)
    try:
        from opsroom.services.people_goods import anchors as anchor_service
        from opsroom.services.park import users

        with app.app_context():
            s = app.extensions["opsroom.sessionmaker"]()
            t = time.perf_counter()
            if rollups:  # (skipped by --only when no report is measured: the longest step of a build)
                refresh(s, park.first_day, park.last_day)
                s.commit()
            rollup_s = time.perf_counter() - t
            from opsroom.services.sales import screen as screen_service

            screen_service.compact_quarters(s)  # as the scheduler's job does every sweep (PostgreSQL)
            admin = s.scalar(sa.select(users.User).where(users.User.role == "admin"))
            token = users.create_token(s, admin, "bench")
            feed = anchor_service.feed_token(s, s.get(Anchor, 1))
            s.commit()
            s.close()
    finally:
        clock.set_now(None)
        app.extensions["opsroom.engine"].dispose()
    # As autovacuum would have been by the time the rollups and the screen's sums are read: the
    # rollup refresh deleted the change marks of every bulk insert above (one per COPY slice, ≈ 62,000
    # at 10M orders), the fold of sales_quarters its change rows; on a server without autovacuum those
    # dead rows stay, and every report read scans `report_dirty` (341 pages at 10M orders against 13 at 41k).
    analyze_rollups(engine)
    if engine.dialect.name == "postgresql":
        # The build's gigabyte of WAL written out now, not by a checkpoint spread over the
        # minutes being measured (every timing and floor of the run would share its I/O).
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("CHECKPOINT")
        except sa.exc.DBAPIError as exc:  # a role without pg_checkpoint: measure anyway
            print(f"no CHECKPOINT after the build ({exc.orig}); timings may share its I/O", file=sys.stderr)
    engine.dispose()
    code_of = dict(rooms_rows)
    return {"park": park, "token": token, "extra": extra, "feed": feed, "big_id": big_b.id, "big_sold": sold, "live": live,
            "orders": len(orders) + extra, "anchors": n_anchors, "products": n_products, "past": past, "code_of": code_of,
            "tenant_products": {t: [p for p in range(1, n_products + 1) if tenants[p % len(tenants)] == t][:50]
                                for t in tenants},
            "build_s": built_s, "rollup_s": rollup_s}


def analyze_rollups(engine) -> None:
    tables = ("report_dirty", "report_days", "report_room_days", "report_booking_days", "report_start_hours",
              "report_tenant_days", "sales_quarters")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(tables)}")
        else:
            for t in tables:
                conn.exec_driver_sql(f"ANALYZE {t}")


def ingest_rows(world: dict, n: int, start: int, seed: int) -> list[dict]:
    """n shop orders of the last two weeks' sessions, as bench_orders writes them (70% room code,
    15% booking id, 15% a room no session has)."""
    rng = random.Random(seed)
    past = world["past"]
    rows = []
    for k in range(n):
        b = past[rng.randrange(len(past))]
        at = b.starts_at + timedelta(seconds=rng.randrange(int((b.ends_at - b.starts_at).total_seconds())))
        row = {"platform": "douyin", "external_id": f"69310{start + k:014d}", "parent_id": f"69310{(start + k) // 2:014d}",
               "sku": f"SKU{rng.randrange(300):04d}", "product_name": PRODUCTS[k % len(PRODUCTS)],
               "quantity": rng.choice((1, 1, 1, 2, 3)), "amount_fen": rng.randrange(990, 129900), "ordered_at": at,
               "status": "refunded" if rng.random() < 0.05 else "paid"}
        kind = rng.random()
        if kind < 0.70:
            row["room_code"] = world["code_of"][b.room_id]
        elif kind < 0.85:
            row["booking_id"] = b.id
        else:
            row["room_code"] = "ZZ-NONE"
        rows.append(row)
    rows.sort(key=lambda r: r["ordered_at"])
    return rows


def multipart(data: bytes, filename: str) -> tuple[bytes, str]:
    boundary = "benchboundary7d1f"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
