"""Benchmark: the notice jobs and the inbox on a large park, SQLite and PostgreSQL.

    .venv/bin/python bench/bench_notifications.py [--backend sqlite|postgres|both]
        [--rooms 200] [--notices 500000] [--samples 50]

The park: `rooms` rooms, each with a session every two hours (08:30, 10:30 …)
yesterday, today and tomorrow, two anchors (with logins) per room, in each of
their room's sessions; 50 coordinators; one hold per room expiring soon; and
`notices` notifications already in the inboxes (5 % unread). The clock stands
at 10:00 park time, so the 10:30 sessions are due for their reminder.

Measured, with real services on a real app and engine:
- the anchor-reminder sweep when `2 × rooms` reminders are due (once), and again
  when all were sent (the sweep every scheduler tick pays);
- the hold-warning sweep, the morning summary's figures;
- the header's unread count, and GET /api/v1/notifications (100 newest).
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
from werkzeug.security import generate_password_hash  # noqa: E402

from bench.common import insert_rows, provision  # noqa: E402
from config import TestConfig  # noqa: E402
from opsroom import clock, create_app  # noqa: E402
from opsroom.db import intent, make_engine  # noqa: E402
from opsroom.migrate import upgrade  # noqa: E402
from opsroom.models import Anchor, Assignment, Booking, Notification, Room, Tenant, User  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
DEFAULT_PG_URL = os.environ.get("OPSROOM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def log(msg: str = "") -> None:
    print(msg, flush=True)


def build(engine, *, rooms: int, notices: int, seed: int = 9) -> dict:
    rng = random.Random(seed)
    now = NOW.astimezone(UTC)
    pw = generate_password_hash("bench-password-1")
    users, anchors, bookings, assignments = [], [], [], []
    uid = iter(range(1, 10**9))
    for i in range(50):
        users.append({"id": next(uid), "email": f"c{i}@bench.example", "name": f"排期{i}", "role": "coordinator"})
    users.append({"id": next(uid), "email": "manager@bench.example", "name": "经理", "role": "manager"})
    bid = iter(range(1, 10**9))
    for r in range(1, rooms + 1):
        pair = []
        for k in range(2):
            u = next(uid)
            users.append({"id": u, "email": f"a{r}-{k}@bench.example", "name": f"主播{r}-{k}", "role": "anchor"})
            anchors.append({"id": len(anchors) + 1, "name": f"主播{r}-{k}", "user_id": u, "verified": True,
                            "max_minutes_per_day": 1440, "min_rest_minutes": 0, "platform_accounts": {},
                            "active": True, "feed_version": 1, "created_at": now})
            pair.append(len(anchors))
        for day in (-1, 0, 1):
            for slot in range(8):
                start = (NOW.replace(hour=8, minute=30) + timedelta(days=day, hours=2 * slot)).astimezone(UTC)
                status = "ended" if start < now else "confirmed"
                b = next(bid)
                bookings.append({"id": b, "room_id": r, "tenant_id": 1, "title": f"场次{b}", "starts_at": start,
                                 "ends_at": start + timedelta(minutes=90), "occupied_until": start + timedelta(minutes=90),
                                 "status": status, "created_at": now, "cancel_reason": "",
                                 "hold_expires_at": None, "created_by_id": 1})
                for a in pair:
                    assignments.append({"booking_id": b, "anchor_id": a, "role": "host", "starts_at": start,
                                        "ends_at": start + timedelta(minutes=90), "active": status == "confirmed"})
        start = (NOW + timedelta(days=2)).astimezone(UTC)  # one hold per room, expiring in 10 minutes
        bookings.append({"id": next(bid), "room_id": r, "tenant_id": 1, "title": "预留", "starts_at": start,
                         "ends_at": start + timedelta(hours=1), "occupied_until": start + timedelta(hours=1),
                         "status": "hold", "created_at": now, "cancel_reason": "",
                         "hold_expires_at": now + timedelta(minutes=10), "created_by_id": 1 + r % 50})
    for u in users:
        u.update(password_hash=pw, locale=None, active=True, created_at=now, email_notifications=True)
    with engine.begin() as conn:
        insert_rows(conn, Tenant.__table__, [{"id": 1, "name": "商家", "contact": "", "credit_code": "", "status": "active",
                                          "created_at": now}])
        insert_rows(conn, User.__table__, users)
        insert_rows(conn, Room.__table__, [{
            "id": r, "code": f"R{r:03d}", "name": f"直播间{r}", "zone": f"Z{r % 5}", "kind": "服装", "equipment": [],
            "area_m2": 60.0, "open_time": datetime.min.time(), "close_time": datetime.min.time(),
            "changeover_minutes": 0, "min_minutes": 30, "max_minutes": 720, "order_capacity_per_hour": 600,
            "active": True} for r in range(1, rooms + 1)])
        insert_rows(conn, Anchor.__table__, anchors)
        insert_rows(conn, Booking.__table__, bookings)
        insert_rows(conn, Assignment.__table__, assignments)
        user_ids = [u["id"] for u in users]
        rows = [{"user_id": rng.choice(user_ids), "kind": "reminder", "key": f"old:{n}", "booking_id": None,
                 "title": "旧通知", "body": "…", "locale": "zh_CN",
                 "created_at": now - timedelta(minutes=n % 100_000),
                 "read_at": None if rng.random() < 0.05 else now, "email_status": None, "email_attempts": 0,
                 "email_error": ""} for n in range(notices)]
        insert_rows(conn, Notification.__table__, rows)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return {"users": len(users), "bookings": len(bookings), "anchor_users": 2 * rooms, "notices": notices}


class Counter:
    def __init__(self, engine):
        self.n = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        self.n += 1


def timed(fn, counter, samples: int) -> dict:
    times, sql = [], []
    for _ in range(samples):
        before = counter.n
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
        sql.append(counter.n - before)
    times.sort()
    return {"median": statistics.median(times), "p95": times[max(0, math.ceil(0.95 * len(times)) - 1)],
            "sql": statistics.median(sql), "n": samples}


def run(backend: str, args) -> dict:
    url, drop = provision(backend, args.pg_url, "opsroom_bench_notices")
    try:
        engine = make_engine(url)
        upgrade(engine)
        t = time.perf_counter()
        built = build(engine, rooms=args.rooms, notices=args.notices)
        log(f"[{backend}] built {built} in {time.perf_counter() - t:.1f} s")
        engine.dispose()
        app = create_app(TestConfig, DATABASE_URL=url)
        clock.set_now(NOW)
        from opsroom.services.operations import notifications, reminders
        from opsroom.services.park import users

        counter = Counter(app.extensions["opsroom.engine"])
        out = {}
        with app.app_context(), intent(write=True):
            session = app.extensions["opsroom.sessionmaker"]()
            sent = []
            out["reminders_due"] = timed(lambda: sent.append(reminders.remind_anchors(session)), counter, 1)
            assert sent == [2 * args.rooms], sent
            out["reminders_idle"] = timed(lambda: reminders.remind_anchors(session), counter, args.samples)
            out["hold_warnings"] = timed(lambda: reminders.warn_expiring_holds(session), counter, 1)
            out["summary_figures"] = timed(lambda: reminders.summary_figures(session, NOW.date()), counter, 5)
            people = session.scalars(sa.select(User).limit(200)).all()
            rng = random.Random(1)
            out["unread_count"] = timed(lambda: notifications.unread_count(session, rng.choice(people)), counter,
                                        args.samples)
            user = session.scalar(sa.select(User).where(User.email == "a1-0@bench.example"))
            token = users.create_token(session, user, "bench")
            session.commit()
            session.close()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def inbox():
            r = client.get("/api/v1/notifications", headers=headers)
            assert r.status_code == 200 and r.json

        out["api_inbox"] = timed(inbox, counter, args.samples)
        app.extensions["opsroom.engine"].dispose()
        return {"backend": backend, **out, **built}
    finally:
        clock.set_now(None)
        drop()


LABELS = [
    ("reminders_due", "anchor reminders, {anchor_users} due (first run)"),
    ("reminders_idle", "anchor reminders, all sent already"),
    ("hold_warnings", "hold warnings, one hold per room"),
    ("summary_figures", "morning summary figures"),
    ("unread_count", "header unread count ({notices:,} notices)"),
    ("api_inbox", "GET /notifications (100 newest)"),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--notices", type=int, default=500_000)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    reports = [run(b, args) for b in backends]
    log("")
    log(f"{'backend':<10} {'operation':<52} {'median ms':>10} {'p95 ms':>8} {'SQL':>5}")
    for rep in reports:
        for key, label in LABELS:
            m = rep[key]
            log(f"{rep['backend']:<10} {label.format(**rep):<52} {m['median']:10.1f} {m['p95']:8.1f} {m['sql']:>5.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
