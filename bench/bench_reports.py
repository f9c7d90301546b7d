"""Benchmark: the managers' utilization report over a year of a 200-room park
(bench/park.py, ~400k bookings), on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_reports.py [--backend sqlite|postgres|both]
        [--rooms 200] [--days 365] [--samples 30] [--quick]

Each backend gets a fresh database built by bench/park.py (as bench_bookings.py
does), then the report rollups are computed once for the whole year (timed:
what `flask reports-refresh` or the scheduler does ahead of time). Then, with
the clock frozen at the park's "now", every call goes through a real app and
its real engine: GET /api/v1/reports/utilization?from=<first day>&to=<last
day>&group_by=G with a manager's bearer token, over the park's whole year
(365 days). "after a change" books one free slot first (outside the timing) so
that the report also recomputes the room-day it touched, as it does after any
change the scheduler has not picked up yet. The reports page (/reports/, five
reports and the heatmap) is timed for a 31-day range as a logged-in manager.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench import park as park_builder  # noqa: E402
from bench.bench_bookings import (  # noqa: E402
    DEFAULT_PG_URL, RESULTS_DIR, StatementCounter, code_version, log, provision, server_version,
    summarize, timed,
)
from bench.common import NOW  # noqa: E402
from config import TestConfig  # noqa: E402
from opsroom import clock, create_app  # noqa: E402
from opsroom.db import intent, make_engine  # noqa: E402
from opsroom.migrate import upgrade  # noqa: E402
from opsroom.models import User  # noqa: E402
from opsroom.services.park import users as user_service  # noqa: E402
from opsroom.services.bookings.create import create_booking
from opsroom.services.reporting.refresh import refresh

WARMUP = 2
MANAGER_EMAIL = "manager@bench.example"


def run_backend(backend: str, args) -> dict:
    log(f"\n=== {backend}: {args.rooms} rooms, {args.days} days, {args.samples} samples per report ===")
    url, remove = provision(backend, args.pg_url)
    try:
        engine = make_engine(url)
        upgrade(engine)
        t0 = time.perf_counter()
        park = park_builder.build(engine, rooms=args.rooms, days=args.days, now=NOW, seed=args.seed, log=log)
        park_builder.analyze(engine)
        build_s = time.perf_counter() - t0
        version = server_version(engine)
        engine.dispose()
        log(f"  park built in {build_s:.1f} s")

        clock.set_now(NOW)
        app = create_app(TestConfig, DATABASE_URL=url)
        counter = StatementCounter(app.extensions["opsroom.engine"])
        first, last = park.first_day, park.last_day
        with app.app_context(), intent(write=True):
            session = app.extensions["opsroom.sessionmaker"]()
            t0 = time.perf_counter()
            room_days = refresh(session, first, last)
            session.commit()
            rollup_s = time.perf_counter() - t0
            manager = session.scalar(sa.select(User).where(User.email == MANAGER_EMAIL))
            token = user_service.create_token(session, manager, "bench")
            coordinator = session.scalar(sa.select(User).where(User.email == park.coordinator_email))
            session.commit()
            session.close()
        log(f"  rollups for {room_days} room-days computed in {rollup_s:.1f} s")
        park_builder.analyze(app.extensions["opsroom.engine"])

        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        results = []

        def report(group: str, fmt: str = "json"):
            def call():
                r = client.get(f"/api/v1/reports/utilization?from={first}&to={last}&group_by={group}"
                               + (f"&format={fmt}" if fmt != "json" else ""), headers=headers)
                assert r.status_code == 200, r.get_data(as_text=True)[:300]
                if fmt == "json":
                    body = r.get_json()
                    assert body["total"]["bookable_minutes"] > 0
                return len(r.get_data())
            return call

        def measure(name: str, fn, n: int, before=None):
            for _ in range(WARMUP):
                if before:
                    before()
                fn()
            samples = []
            for _ in range(n):
                if before:
                    before()
                samples.append(timed(counter, fn))
            results.append(summarize(name, samples))
            log(f"  {name}: median {results[-1]['median_ms']} ms")

        for group in ("room", "hour", "zone", "day", "week", "tenant", "anchor"):
            measure(f"group_by={group}, {args.days} days", report(group), args.samples)
        measure("group_by=room, CSV", report("room", "csv"), max(5, args.samples // 3))
        measure("group_by=room, XLSX", report("room", "xlsx"), max(5, args.samples // 3))

        slots = iter(park.free_slots)

        def change():
            slot = next(slots)
            with app.app_context(), intent(write=True):
                s = app.extensions["opsroom.sessionmaker"]()
                who = s.get(User, coordinator.id)
                create_booking(s, who, {
                    "room_id": slot.room_id, "tenant_id": park.active_tenant_ids[0],
                    "starts_at": slot.starts_at, "ends_at": slot.ends_at})
                s.close()

        measure("group_by=room after a change", report("room"), max(5, args.samples // 2), before=change)

        web = app.test_client()
        _login(web)
        page_first = NOW.date() - timedelta(days=30)

        def page():
            r = web.get(f"/reports/?from={page_first}&to={NOW.date()}")
            assert r.status_code == 200 and b"heatmap" in r.get_data()
            return len(r.get_data())

        measure("reports page, 31 days", page, max(5, args.samples // 3))
        return {"backend": backend, "server": version, "code": code_version(), "rooms": args.rooms,
                "days": args.days, "build_s": round(build_s, 1), "rollup_s": round(rollup_s, 1),
                "room_days": room_days, "results": results}
    finally:
        clock.set_now(None)
        if not args.keep:
            remove()
        else:
            log(f"  kept: {url}")


def _login(client) -> None:
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"email": MANAGER_EMAIL, "password": park_builder.PASSWORD, "csrf_token": token})
    assert r.status_code in (302, 303), r.status_code


def print_table(reports: list[dict]) -> None:
    print("\n| backend | report | n | median ms | p95 ms | max ms | cpu ms | SQL | KB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for rep in reports:
        for r in rep["results"]:
            print(f"| {rep['backend']} | {r['operation']} | {r['n']} | {r['median_ms']} | {r['p95_ms']} | "
                  f"{r['max_ms']} | {r['cpu_median_ms']} | {r['sql_per_call']} | {r.get('response_kb_median', '')} |")
    print()
    for rep in reports:
        print(f"{rep['backend']} ({rep['server']}, code {rep['code']}): park built in {rep['build_s']} s; "
              f"rollups of {rep['room_days']} room-days computed in {rep['rollup_s']} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rooms", type=int)
    parser.add_argument("--days", type=int)
    parser.add_argument("--samples", type=int)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 rooms, 30 days, 5 samples")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    args.rooms = args.rooms or (20 if args.quick else 200)
    args.days = args.days or (30 if args.quick else 365)
    args.samples = args.samples or (5 if args.quick else 30)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    out = []
    RESULTS_DIR.mkdir(exist_ok=True)
    for backend in backends:
        rep = run_backend(backend, args)
        out.append(rep)
        path = RESULTS_DIR / f"reports-{backend}{'-quick' if args.quick else ''}.json"
        path.write_text(json.dumps(rep, ensure_ascii=False, indent=2, default=str) + "\n")
    print_table(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
