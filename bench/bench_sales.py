"""Benchmark: session stats and the big screen on a busy park, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_sales.py [--backend sqlite|postgres|both] [--rooms 200]
        [--orders-per-session 300] [--big-session 20000] [--samples 60]

Each backend gets a fresh, migrated database (a temporary SQLite file, or
`opsroom_bench_sales_<pid>` on the PostgreSQL server, dropped at the end), filled
with bulk Core inserts:

- `rooms` rooms (capacity 300–3,000 orders an hour), 20 tenants, two anchors per room;
- per room: yesterday 19:00–23:00 (ended), today 08:00–12:00 (ended) and today
  13:00–18:00 **live now** (checked in, still "confirmed": the scheduler has not
  ticked), each with `orders-per-session` orders (7 % refunded, 3 % cancelled)
  spread over the session, plus 3 % unattributed orders today;
- one session of room 1 two days ago with `big-session` orders and a lineup of
  five products (by product id and by SKU).

With the clock frozen at today 16:00 park time, through a real app and its
engine (`app.test_client()`, bearer tokens):

- `GET /api/v1/bookings/{id}/stats` of the big session (checked: `orders` equals
  the sold orders inserted);
- `GET /api/v1/screen` with every room live (checked: `live_rooms` = rooms).

Wall-clock ms per request after 3 warm-up calls: median, p95 (nearest rank),
max; the median CPU time of this process per request; the SQL statements per request. Targets: stats ≤ 50 ms, screen ≤ 100 ms.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.common import insert_rows, provision  # noqa: E402
from config import TestConfig  # noqa: E402
from opsroom import clock, create_app  # noqa: E402
from opsroom.db import make_engine  # noqa: E402
from opsroom.migrate import upgrade  # noqa: E402
from opsroom.models import Anchor, Assignment, Booking, LineupItem, Order, Product, Room, Tenant  # noqa: E402

UTC = timezone.utc
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 16, 0, tzinfo=TZ)
TODAY = NOW.replace(hour=0, minute=0)
DEFAULT_PG_URL = os.environ.get("OPSROOM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
WARMUP = 3


def log(msg: str = "") -> None:
    print(msg, flush=True)


def build(engine, *, rooms: int, per_session: int, big: int, seed: int = 7, anonymous: bool = False) -> dict:
    rng = random.Random(seed)
    now = NOW.astimezone(UTC)
    counter = iter(range(1, 10**9))
    with engine.begin() as conn:
        insert_rows(conn, Tenant.__table__, [{"id": i, "name": f"商家{i:02d}", "contact": "", "credit_code": "",
                                          "status": "active", "created_at": now} for i in range(1, 21)])
        insert_rows(conn, Room.__table__, [{
            "id": r, "code": f"R{r:03d}", "name": f"直播间{r}", "zone": f"Z{r % 5}", "kind": "服装", "equipment": [],
            "area_m2": 60.0, "open_time": datetime.min.time(), "close_time": datetime.min.time(),
            "changeover_minutes": 0, "min_minutes": 30, "max_minutes": 720,
            "order_capacity_per_hour": rng.choice((300, 600, 1000, 2000, 3000)), "active": True} for r in range(1, rooms + 1)])
        insert_rows(conn, Anchor.__table__, [{
            "id": a, "name": f"主播{a}", "tenant_id": None, "verified": True, "max_minutes_per_day": 1440,
            "min_rest_minutes": 0, "platform_accounts": {"douyin": f"dy{a}"}, "active": True, "feed_version": 1,
            "created_at": now} for a in range(1, 2 * rooms + 1)])
        insert_rows(conn, Product.__table__, [{
            "id": p, "tenant_id": 1, "sku": f"SKU{p}", "name": f"商品{p}", "category": "", "price_fen": 1990 * p,
            "stock": 1000, "certifications": [], "active": True, "created_at": now} for p in range(1, 6)])
        bookings, assignments, orders = [], [], []
        windows = [(-1, 19, 23, "ended"), (0, 8, 12, "ended"), (0, 13, 18, "confirmed")]
        live_ids = []

        def order(bid, start, end, status=None, product=None):
            roll = rng.random()
            amount = rng.choice((990, 2990, 5990, 9900, 12900, 39900))
            status = status or ("refunded" if roll < 0.07 else "cancelled" if roll < 0.1 else "paid")
            at = start + (min(end, now) - start) * rng.random()
            n = next(counter)
            return {"id": n, "platform": "douyin", "external_id": f"B{n:012d}", "parent_id": "", "booking_id": bid,
                    "attributed_by": "room" if bid else None, "room_code": "", "anchor_account": "",
                    "sku": f"SKU{product}" if product else "", "product_id": product if product and product <= 5 and n % 2 else None,
                    "product_name": "", "buyer": "" if anonymous else f"u{rng.randrange(10**6)}", "quantity": 1, "amount_fen": amount,
                    "refund_fen": amount if status == "refunded" else 0, "status": status, "ordered_at": at,
                    "created_at": now}

        bid = 0
        for r in range(1, rooms + 1):
            for day, h1, h2, status in windows:
                bid += 1
                start = (TODAY + timedelta(days=day, hours=h1)).astimezone(UTC)
                end = (TODAY + timedelta(days=day, hours=h2)).astimezone(UTC)
                bookings.append({"id": bid, "room_id": r, "tenant_id": 1 + r % 20, "title": "压测", "starts_at": start,
                                 "ends_at": end, "occupied_until": end, "status": status,
                                 "checked_in_at": start - timedelta(minutes=10), "created_at": now, "cancel_reason": ""})
                for k, role in ((2 * r - 1, "host"), (2 * r, "assistant")):
                    assignments.append({"booking_id": bid, "anchor_id": k, "role": role, "starts_at": start,
                                        "ends_at": end, "active": status == "confirmed"})
                orders += [order(bid, start, end) for _ in range(per_session)]
                if status == "confirmed":
                    live_ids.append(bid)
        bid += 1
        big_start = (TODAY + timedelta(days=-2, hours=18)).astimezone(UTC)
        big_end = big_start + timedelta(hours=6)
        bookings.append({"id": bid, "room_id": 1, "tenant_id": 1, "title": "两万单大场", "starts_at": big_start,
                         "ends_at": big_end, "occupied_until": big_end, "status": "ended",
                         "checked_in_at": big_start, "created_at": now, "cancel_reason": ""})
        big_orders = [order(bid, big_start, big_end, product=rng.randint(1, 7)) for _ in range(big)]
        orders += big_orders
        orders += [order(None, TODAY.astimezone(UTC), now) for _ in range(int(len(orders) * 0.03))]
        insert_rows(conn, Booking.__table__, bookings)
        insert_rows(conn, Assignment.__table__, assignments)
        insert_rows(conn, LineupItem.__table__, [{"booking_id": bid, "product_id": p, "position": p} for p in range(1, 6)])
        insert_rows(conn, Order.__table__, orders)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    sold = sum(1 for o in big_orders if o["status"] != "cancelled")
    return {"big_id": bid, "big_sold": sold, "orders": len(orders), "live": len(live_ids)}


class Counter:
    def __init__(self, engine):
        self.n = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        self.n += 1


def measure(client, path, token, check, n, counter):
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(WARMUP):
        check(client.get(path, headers=headers).json)
    times, cpu, statements = [], [], []
    for _ in range(n):
        before = counter.n
        t, c = time.perf_counter(), time.process_time()
        r = client.get(path, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        statements.append(counter.n - before)
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        check(r.json)
    times.sort()
    return {"median": statistics.median(times), "p95": times[max(0, math.ceil(0.95 * len(times)) - 1)],
            "max": times[-1], "cpu": statistics.median(cpu), "sql": statistics.median(statements)}


def run(backend: str, args) -> dict:
    url, drop = provision(backend, args.pg_url, "opsroom_bench_sales")
    try:
        engine = make_engine(url)
        upgrade(engine)
        t = time.perf_counter()
        built = build(engine, rooms=args.rooms, per_session=args.orders_per_session, big=args.big_session,
                      anonymous=args.anonymous_buyers)
        log(f"[{backend}] built {built['orders']:,} orders, {built['live']} live sessions "
            f"in {time.perf_counter() - t:.1f} s")
        engine.dispose()
        app = create_app(TestConfig, DATABASE_URL=url)
        clock.set_now(NOW)
        from opsroom.services.park import users

        with app.app_context():
            session = app.extensions["opsroom.sessionmaker"]()
            user = users.create_user(session, email="manager@bench.example", role="manager", password="bench-pass-1")
            token = users.create_token(session, user, "bench")
            session.commit()
            session.close()
        counter = Counter(app.extensions["opsroom.engine"])
        client = app.test_client()

        def check_stats(body):
            assert body["orders"] == built["big_sold"], body["orders"]

        def check_screen(body):
            assert body["totals"]["live_rooms"] == built["live"], body["totals"]

        stats = measure(client, f"/api/v1/bookings/{built['big_id']}/stats", token, check_stats, args.samples, counter)
        screen = measure(client, "/api/v1/screen", token, check_screen, args.samples, counter)
        app.extensions["opsroom.engine"].dispose()
        return {"backend": backend, "stats": stats, "screen": screen, **built}
    finally:
        clock.set_now(None)
        drop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--orders-per-session", type=int, default=300)
    parser.add_argument("--big-session", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--anonymous-buyers", action="store_true",
                        help="orders name no buyer (as most shop exports): no distinct-buyers pass")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    reports = [run(b, args) for b in backends]
    log("")
    log(f"{'backend':<10} {'operation':<44} {'median':>8} {'p95':>8} {'max':>8} {'cpu ms':>7} {'SQL':>4} {'target':>8}")
    for rep in reports:
        for key, label, target in (("stats", f"GET /bookings/{{id}}/stats ({args.big_session:,} orders)", 50),
                                   ("screen", f"GET /screen ({rep['live']} rooms live)", 100)):
            m = rep[key]
            ok = "ok" if m["median"] <= target else "MISS"
            log(f"{rep['backend']:<10} {label:<44} {m['median']:8.1f} {m['p95']:8.1f} {m['max']:8.1f} "
                f"{m['cpu']:7.1f} {m['sql']:>4.0f} {target:>5} {ok}")
    log(f"(median/p95/max: wall-clock ms per request; cpu ms: median CPU time of this process per request, "
        f"i.e. app + SQLite, not the PostgreSQL server; load average {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
