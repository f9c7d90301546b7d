"""Benchmark: create-booking, the board's day view and room availability on a
large park (200 rooms, a year of bookings, ~400k rows), on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_bookings.py [--backend sqlite|postgres|both]
        [--rooms 200] [--days 365] [--samples 200] [--quick] [--explain] [--keep]

Each backend gets a fresh database (a temporary SQLite file; a database
`opsroom_bench_<pid>` created on the PostgreSQL server and dropped at the end),
migrated with Alembic, filled by bench/park.py with bulk inserts and analyzed.
Then, with the clock frozen at the park's "now", every operation runs through
a real app (`create_app(TestConfig, DATABASE_URL=url)`) and its real engine:

- create booking: `services.bookings.create_booking` in a fresh session inside
  `app.app_context()` and `intent(write=True)`, at a free future slot; commits.
- create booking, conflict: the window of an existing future booking again:
  raises Conflict after computing the alternatives (other rooms, nearest slots).
- board day: GET /board/?date=D as a logged-in coordinator, every room, on
  random days of the year and on random upcoming days (today on: free hours
  are links then); and with ?zone= (one zone of five).
- availability: GET /api/v1/rooms/<id>/availability?date=D with a bearer token.

Times are wall-clock per call (milliseconds), after a few untimed warm-up
calls; "cpu ms" is the median CPU time of this process per call (app code and
SQLite; not the PostgreSQL server), "SQL" the median number of statements a
call sent, "KB" the median size of the page. Results are printed and written
to bench/results/latest-<backend>.json (latest-<backend>-quick.json with
--quick). With --explain, bench/explain.py then
prints the plans and timings of the queries behind these operations.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import statistics
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench import park as park_builder  # noqa: E402
from bench.common import DEFAULT_PG_URL, NOW, code_version, provision, server_version  # noqa: E402,F401
from config import TestConfig  # noqa: E402
from opsroom import clock, create_app  # noqa: E402
from opsroom.db import intent, make_engine  # noqa: E402
from opsroom.migrate import upgrade  # noqa: E402
from opsroom.models import Room, User  # noqa: E402
from opsroom.services.park import users as user_service  # noqa: E402
from opsroom.services.errors import Conflict  # noqa: E402
from opsroom.services.bookings.create import create_booking

UTC = timezone.utc
TZ = ZoneInfo("Asia/Shanghai")
RESULTS_DIR = Path(__file__).resolve().parent / "results"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
LANE_RE = re.compile(r'<div class="lane" role="row">')
WARMUP = 3


def log(msg: str = "") -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------
# Statistics


def summarize(name: str, samples: list[tuple[float, float, int, int | None]]) -> dict:
    """Samples are (wall ms, this process's CPU ms, statements, response bytes or None)."""
    ms = sorted(s[0] for s in samples)
    n = len(ms)
    sizes = [s[3] for s in samples if s[3] is not None]
    return {
        "operation": name,
        "n": n,
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[max(0, math.ceil(0.95 * n) - 1)], 2),  # nearest rank
        "max_ms": round(ms[-1], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "cpu_median_ms": round(statistics.median(s[1] for s in samples), 2),
        "sql_per_call": int(statistics.median(s[2] for s in samples)),
        **({"response_kb_median": round(statistics.median(sizes) / 1024)} if sizes else {}),
    }


class StatementCounter:
    """Counts the statements an engine sends (executemany counts once)."""

    def __init__(self, engine: sa.Engine):
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *args, **kwargs):
        self.count += 1


def timed(counter: StatementCounter, fn) -> tuple[float, float, int, int | None]:
    """Wall-clock ms, CPU ms of this process (the app, and SQLite, but not the
    PostgreSQL server: steadier than wall time on a busy machine), statements
    sent, and whatever size `fn` returns."""
    before = counter.count
    c0, t0 = time.process_time(), time.perf_counter()
    size = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall * 1000, cpu * 1000, counter.count - before, size


# ---------------------------------------------------------------------------
# Databases


# ---------------------------------------------------------------------------
# Measurements


def bench_create(app, counter, user, park, n: int) -> tuple[list, list]:
    """Free slots booked for real; then conflicting windows (409 with alternatives)."""
    sessionmaker = app.extensions["opsroom.sessionmaker"]
    rng = random.Random(1)

    def create(slot: park_builder.Slot, expect_conflict: bool):
        data = {"room_id": slot.room_id, "tenant_id": rng.choice(park.active_tenant_ids),
                "starts_at": slot.starts_at, "ends_at": slot.ends_at, "status": "confirmed", "title": "压测专场"}
        with app.app_context(), intent(write=True):
            session = sessionmaker()
            try:
                result = create_booking(session, user, data)
            except Conflict as exc:
                if not expect_conflict:
                    raise
                assert exc.details and "alternatives" in exc.extra, exc.body()
                return
            finally:
                session.close()
            assert not expect_conflict, f"expected a conflict at {slot}"
            assert len(result.bookings) == 1

    free = park.free_slots[: n + WARMUP]
    if len(free) < n + WARMUP:
        log(f"  (only {len(free)} free slots: {len(free) - WARMUP} create samples)")
    taken = park.conflicts[: n + WARMUP]
    for slot in free[:WARMUP]:
        create(slot, False)
    ok = [timed(counter, lambda s=slot: create(s, False)) for slot in free[WARMUP:]]
    for slot in taken[:WARMUP]:
        create(slot, True)
    clash = [timed(counter, lambda s=slot: create(s, True)) for slot in taken[WARMUP:]]
    return ok, clash


def login(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    response = client.post("/login", data={"email": email, "password": park_builder.PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"login failed: {response.status_code}"


def bench_board(app, counter, park, n: int, rooms_per_zone: dict[str, int]) -> tuple[list, list, list]:
    """Random days of the year; random upcoming days (today on, where free
    hours are links); random days of one zone. Checks every page has a lane per room."""
    client = app.test_client()
    login(client, park.coordinator_email)
    rng = random.Random(2)
    days = park.days
    today = park.now.astimezone(TZ).date()
    upcoming = [d for d in days if d >= today]

    def get(day: date, zone: str | None, lanes: int) -> int:
        url = f"/board/?date={day.isoformat()}" + (f"&zone={zone}" if zone else "")
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.get_data(as_text=True)
        found = len(LANE_RE.findall(html))
        assert found == lanes, f"{url}: {found} lanes, expected {lanes}"
        return len(response.data)

    total = sum(rooms_per_zone.values())
    for _ in range(WARMUP):
        get(rng.choice(days), None, total)
    all_rooms = [timed(counter, lambda d=rng.choice(days): get(d, None, total)) for _ in range(n)]
    ahead = [timed(counter, lambda d=rng.choice(upcoming): get(d, None, total)) for _ in range(max(1, n // 2))]
    zoned = []
    for _ in range(n):
        zone, day = rng.choice(sorted(rooms_per_zone)), rng.choice(days)
        zoned.append(timed(counter, lambda d=day, z=zone: get(d, z, rooms_per_zone[z])))
    return all_rooms, ahead, zoned


def bench_availability(app, counter, park, token: str, n: int) -> list:
    client = app.test_client()
    rng = random.Random(3)
    headers = {"Authorization": f"Bearer {token}"}

    def get(room_id: int, day: date):
        response = client.get(f"/api/v1/rooms/{room_id}/availability?date={day.isoformat()}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert "free" in response.get_json()

    for _ in range(WARMUP):
        get(rng.choice(park.room_ids), rng.choice(park.days))
    return [timed(counter, lambda r=rng.choice(park.room_ids), d=rng.choice(park.days): get(r, d)) for _ in range(n)]


# ---------------------------------------------------------------------------
# One backend


def run_backend(backend: str, args) -> dict:
    log(f"\n=== {backend}: {args.rooms} rooms, {args.days} days, {args.samples} samples per operation ===")
    url, remove = provision(backend, args.pg_url)
    app = engine = None
    try:
        engine = make_engine(url)
        t0 = time.perf_counter()
        upgrade(engine)
        migrate_s = time.perf_counter() - t0
        log(f"  migrated in {migrate_s:.1f} s; building the park …")
        t0 = time.perf_counter()
        park = park_builder.build(engine, rooms=args.rooms, days=args.days, now=NOW, seed=args.seed, log=log)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        park_builder.analyze(engine)
        analyze_s = time.perf_counter() - t0
        counts = park_builder.row_counts(engine)
        version = server_version(engine)
        engine.dispose()
        log(f"  built in {build_s:.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in park.timings.items())}), "
            f"analyzed in {analyze_s:.1f} s")
        log("  rows: " + ", ".join(f"{k} {v}" for k, v in counts.items() if k != "bookings_by_status"))
        log(f"  bookings by status: {counts['bookings_by_status']}")

        clock.set_now(NOW)
        app = create_app(TestConfig, DATABASE_URL=url)
        app_engine = app.extensions["opsroom.engine"]
        counter = StatementCounter(app_engine)
        with app.app_context():
            session = app.extensions["opsroom.sessionmaker"]()
            coordinator = session.scalar(sa.select(User).where(User.email == park.coordinator_email))
            token = user_service.create_token(session, coordinator, "bench")
            session.commit()
            rooms_per_zone = dict(
                session.execute(sa.select(Room.zone, sa.func.count()).where(Room.active.is_(True)).group_by(Room.zone)).all()
            )
            session.close()

        load_before = tuple(round(x, 2) for x in os.getloadavg())
        results = []
        log("  create booking …")
        ok, clash = bench_create(app, counter, coordinator, park, args.samples)
        results += [summarize("create booking (free slot)", ok), summarize("create booking, conflict (409)", clash)]
        log("  board day view …")
        all_rooms, ahead, zoned = bench_board(app, counter, park, args.samples, rooms_per_zone)
        results += [summarize(f"board day, all {args.rooms} rooms", all_rooms),
                    summarize("board day, all rooms, upcoming", ahead),
                    summarize(f"board day, ?zone= (~{args.rooms // len(rooms_per_zone)} rooms)", zoned)]
        log("  availability API …")
        results.append(summarize("API room availability (1 day)", bench_availability(app, counter, park, token, args.samples)))

        load_after = tuple(round(x, 2) for x in os.getloadavg())
        log(f"  load average (1/5/15 min) before {fmt_load(load_before)}, after {fmt_load(load_after)}")
        probes = []
        if args.explain:
            from bench import explain

            probes = explain.report(app, log=log)

        return {
            "backend": backend,
            "server": version,
            "code": code_version(),
            "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                        "sqlalchemy": sa.__version__, "loadavg_before": load_before, "loadavg_after": load_after},
            "params": {"rooms": args.rooms, "days": args.days, "samples": args.samples, "seed": args.seed,
                       "now": NOW.isoformat(), "first_day": park.first_day.isoformat(),
                       "last_day": park.last_day.isoformat(), "warmup_calls": WARMUP},
            "build": {"migrate_s": round(migrate_s, 2), "build_s": round(build_s, 2), "analyze_s": round(analyze_s, 2),
                      **{k: round(v, 2) for k, v in park.timings.items()}},
            "rows": counts,
            "results": results,
            "probes": probes,
        }
    finally:
        clock.set_now(None)
        if app is not None:
            app.extensions["opsroom.engine"].dispose()
        if engine is not None:
            engine.dispose()
        if args.keep:
            log(f"  kept the database: {url}")
        else:
            remove()


def fmt_load(load: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.1f}" for x in load)


def print_table(reports: list[dict]) -> None:
    head = (f"{'backend':<10} {'operation':<34} {'n':>5} {'median ms':>10} {'p95 ms':>9} {'max ms':>9} "
            f"{'cpu ms':>7} {'SQL':>4} {'KB':>6}")
    log("\n" + head)
    log("-" * len(head))
    for report in reports:
        for r in report["results"]:
            log(f"{report['backend']:<10} {r['operation']:<34} {r['n']:>5} {r['median_ms']:>10.2f} "
                f"{r['p95_ms']:>9.2f} {r['max_ms']:>9.2f} {r['cpu_median_ms']:>7.2f} {r['sql_per_call']:>4} "
                f"{r.get('response_kb_median', ''):>6}")
    log("")
    for report in reports:
        b, rows = report["build"], report["rows"]
        log(f"{report['backend']:<10} build {b['build_s']:.1f} s (+ migrate {b['migrate_s']:.1f} s, "
            f"analyze {b['analyze_s']:.1f} s); {rows['bookings']} bookings, {rows['rooms']} rooms, "
            f"{rows['tenants']} tenants, {rows['users']} users, {rows['blackouts']} blackouts; {report['server']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rooms", type=int, help="rooms in the park (default 200; 20 with --quick)")
    parser.add_argument("--days", type=int, help="days of bookings, 300/365 of them past (default 365; 30 with --quick)")
    parser.add_argument("--samples", type=int, help="timed calls per operation (default 200; 50 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 rooms, 30 days, 50 samples")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL,
                        help="PostgreSQL server to create the bench database on (env OPSROOM_BENCH_POSTGRES_URL)")
    parser.add_argument("--explain", action="store_true", help="also print query plans and probe timings")
    parser.add_argument("--keep", action="store_true", help="keep the databases (prints their URLs)")
    args = parser.parse_args(argv)
    args.rooms = args.rooms or (20 if args.quick else 200)
    args.days = args.days or (30 if args.quick else 365)
    args.samples = args.samples or (50 if args.quick else 200)

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    reports = []
    RESULTS_DIR.mkdir(exist_ok=True)
    for backend in backends:
        report = run_backend(backend, args)
        reports.append(report)
        # A smoke run must not overwrite the last full run's numbers.
        path = RESULTS_DIR / f"latest-{backend}{'-quick' if args.quick else ''}.json"
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n")
        log(f"  wrote {path.relative_to(ROOT)}")
    print_table(reports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
