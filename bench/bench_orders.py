"""Benchmark: order ingestion (JSON batches, shop-export CSV) against a raw
executemany of the same rows into the same table, and the peak memory of a
1,000,000-row CSV import, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_orders.py [--db sqlite|postgres|both] [--rows 100000]
        [--million] [--quick] [--pg-url URL]

Each backend gets a fresh migrated database with a park (bench/park.py: 200
rooms, two weeks of sessions), 50 anchors with Douyin accounts each assigned to
every session of one room, and a coordinator. The orders are generated for past
sessions, in time order as a shop exports them: 70% carry the room code, 10%
only the anchor's account, 5% an explicit booking id, 15% a room no session
matches (unattributed); 5% are refunded, 2% closed.

Measured, each on an empty orders table, through the real service functions
inside an app context (`create_app(TestConfig, DATABASE_URL=url)`):

- JSON batches: `services.orders.import_json` with 5,000 decoded JSON rows a
  call (parsing, checks, attribution, upsert, batch record; the HTTP layer
  and json.loads are not included; "JSON over HTTP" adds them through the
  Flask test client);
- re-import: the same batches again (every row unchanged);
- CSV: `services.orders.import_export` on a 抖店 export (GBK) of the same rows,
  streamed and committed per 5,000-row chunk;
- floor: the rows the service stored, read back, the table emptied, then one
  DBAPI `cursor.executemany(INSERT …)` of them in one transaction;
- 1M-row CSV (`--million`): a subprocess imports a 1,000,000-row export from a
  file and reports its peak RSS (`resource.getrusage(RUSAGE_SELF).ru_maxrss`)
  before and after.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench import park as park_builder  # noqa: E402
from bench.common import DEFAULT_PG_URL, code_version, provision, server_version  # noqa: E402
from config import TestConfig  # noqa: E402
from opsroom import clock, create_app  # noqa: E402
from opsroom.db import intent, make_engine  # noqa: E402
from opsroom.migrate import upgrade  # noqa: E402
from opsroom.models import Anchor, Assignment, Booking, Order, Room, User  # noqa: E402
from opsroom.services.sales.ingestion import import_export, import_json  # noqa: E402
from bench.order_rows import HEADER, PRODUCTS, as_json, csv_line, export_bytes  # noqa: E402


UTC = timezone.utc


TZ = ZoneInfo("Asia/Shanghai")


NOW = datetime(2026, 11, 22, 9, 30, tzinfo=TZ)


BATCH = 5000


RESULTS_DIR = Path(__file__).resolve().parent / "results"


COLUMNS = ("platform", "external_id", "parent_id", "booking_id", "attributed_by", "room_code", "anchor_account",
           "sku", "product_id", "product_name", "buyer", "quantity", "amount_fen", "refund_fen", "status",
           "ordered_at", "batch_id", "created_at", "updated_at")


def log(msg: str = "") -> None:
    print(msg, flush=True)


def build(url: str, rows: int, seed: int) -> dict:
    engine = make_engine(url)
    upgrade(engine)
    park = park_builder.build(engine, rooms=200, days=14, now=NOW, seed=seed, log=lambda *_: None)
    rnd = random.Random(seed)
    with engine.begin() as conn:
        rooms = conn.execute(sa.select(Room.id, Room.code).order_by(Room.id)).all()
        anchor_rows = [{"name": f"主播{i}", "verified": True, "max_minutes_per_day": 1440, "min_rest_minutes": 0,
                        "platform_accounts": {"douyin": f"dy_{i:04d}"}, "active": True, "feed_version": 1,
                        "created_at": NOW} for i in range(50)]
        conn.execute(sa.insert(Anchor), anchor_rows)
        anchors = conn.execute(sa.select(Anchor.id).order_by(Anchor.id)).scalars().all()
        sessions = conn.execute(sa.select(Booking.id, Booking.room_id, Booking.starts_at, Booking.ends_at)
                                .where(Booking.status.in_(("ended", "confirmed", "live")), Booking.ends_at <= NOW)
                                .order_by(Booking.starts_at, Booking.id)).all()
        anchor_of_room = {room_id: (anchors[i], f"dy_{i:04d}") for i, (room_id, _code) in enumerate(rooms[:50])}
        conn.execute(sa.insert(Assignment), [
            {"booking_id": b.id, "anchor_id": anchor_of_room[b.room_id][0], "role": "host",
             "starts_at": b.starts_at, "ends_at": b.ends_at, "active": True}
            for b in sessions if b.room_id in anchor_of_room])
    code_of = dict((rid, code) for rid, code in rooms)
    park_builder.analyze(engine)
    engine.dispose()

    orders = []
    for n in range(rows):
        b = sessions[rnd.randrange(len(sessions))]
        at = b.starts_at + timedelta(seconds=rnd.randrange(int((b.ends_at - b.starts_at).total_seconds())))
        kind = rnd.random()
        row = {"platform": "douyin", "external_id": f"69310{n:014d}", "parent_id": f"69310{n // 2:014d}",
               "sku": f"SKU{rnd.randrange(300):04d}", "product_name": PRODUCTS[n % len(PRODUCTS)],
               "quantity": rnd.choice((1, 1, 1, 2, 3)), "amount_fen": rnd.randrange(990, 129900),
               "ordered_at": at, "status": "paid"}
        if kind < 0.70:
            row["room_code"] = code_of[b.room_id]
        elif kind < 0.80 and b.room_id in anchor_of_room:
            row["anchor_account"] = anchor_of_room[b.room_id][1]
        elif kind < 0.85:
            row["booking_id"] = b.id
        else:
            row["room_code"] = "ZZ-NONE"
        r = rnd.random()
        if r < 0.05:
            row["status"] = "refunded"
        elif r < 0.07:
            row["status"] = "cancelled"
        orders.append(row)
    orders.sort(key=lambda r: r["ordered_at"])
    return {"coordinator": park.coordinator_email, "orders": orders, "sessions": len(sessions)}


def empty(engine: sa.Engine, *, batches: bool = True) -> None:
    tables = ("import_rejects", "orders", "import_batches") if batches else ("orders",)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)}")
        else:
            for table in tables:
                conn.exec_driver_sql(f"DELETE FROM {table}")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE orders")


def count(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count(), sa.func.count(Order.booking_id))).one())


PROFILE: list[str] = []


class ServerCPU:
    """CPU seconds of the PostgreSQL backends serving an engine's connections,
    read from /proc (the server on this host): the database's share of a
    measurement, which this process's CPU time does not include."""

    def __init__(self, engine: sa.Engine):
        self.pids: set[int] = set()
        sa.event.listen(engine, "checkout", lambda dbapi_conn, *_: self.pids.add(dbapi_conn.info.backend_pid))

    def snapshot(self) -> dict[int, int]:
        ticks = {}
        for pid in self.pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:  # not on this host, or the backend has gone
                continue
            ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        return ticks

    def since(self, before: dict[int, int]) -> float:
        after = self.snapshot()
        return sum(t - before.get(pid, 0) for pid, t in after.items()) / os.sysconf("SC_CLK_TCK")


SERVER: list[ServerCPU] = []
SERVER_SAMPLES: dict[str, list[float]] = {}


def timed(fn, name: str = "", key: str = "") -> tuple[float, float]:
    """Wall and CPU seconds of fn(); with --profile, also the top of its profile.
    On PostgreSQL the backends' CPU seconds go to SERVER_SAMPLES[key]."""
    before = SERVER[0].snapshot() if SERVER and key else None
    profiler = None
    if name and name in PROFILE:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU, not wall: waits on the server cost nothing
        profiler.enable()
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if before is not None:
        SERVER_SAMPLES.setdefault(key, []).append(SERVER[0].since(before))
    if profiler is not None:
        import pstats

        profiler.disable()
        log(f"   --- profile: {name} (cumulative, top 25) ---")
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(25)
        log("\n".join(line for line in stream.getvalue().splitlines()[6:] if line.strip()))
    return wall, cpu


def run_backend(backend: str, args) -> dict:
    url, drop = provision(backend, args.pg_url)
    try:
        return _run(backend, url, args)
    finally:
        if not args.keep:
            drop()


def _run(backend: str, url: str, args) -> dict:
    log(f"\n== {backend}: building the park and {args.rows:,} orders …")
    t0 = time.perf_counter()
    world = build(url, args.rows, args.seed)
    log(f"   built in {time.perf_counter() - t0:.1f} s ({world['sessions']:,} past sessions)")
    clock.set_now(NOW)
    app = create_app(TestConfig, DATABASE_URL=url)
    engine = app.extensions["opsroom.engine"]
    SERVER.clear()
    SERVER_SAMPLES.clear()
    if backend == "postgres":
        SERVER.append(ServerCPU(engine))
    rows = world["orders"]
    json_rows = [as_json(r) for r in rows]
    results: dict = {"backend": backend, "rows": len(rows), "server": server_version(engine)}

    samples: dict[str, list[tuple[float, float]]] = {"json": [], "reimport": [], "floor": [], "csv": []}
    data = export_bytes(rows)
    results["csv_bytes"] = len(data)
    with app.app_context(), intent(write=True):
        session = app.extensions["opsroom.sessionmaker"]()
        user = session.scalar(sa.select(User).where(User.email == world["coordinator"]))
        session.rollback()  # hold no transaction (SQLite: no lock) between measurements

        def json_batches():
            for i in range(0, len(json_rows), BATCH):
                out = import_json(session, user, json_rows[i:i + BATCH])
                assert not out["errors"], out["errors"][:3]

        for rep in range(args.repeat):
            empty(engine)
            samples["json"].append(timed(json_batches, "json" if rep == 0 else "", "json"))
            stored = count(engine)
            assert stored[0] == len(rows), stored
            results["attributed"] = stored[1]

            samples["reimport"].append(timed(json_batches, key="reimport"))
            assert count(engine) == stored

            # The floor: the very rows the service stored, inserted raw.
            with engine.connect() as conn:
                stored_rows = [tuple(r) for r in conn.execute(sa.select(*[Order.__table__.c[c] for c in COLUMNS]))]
            empty(engine, batches=False)
            placeholders = ", ".join(["%s" if backend == "postgres" else "?"] * len(COLUMNS))
            sql = f"INSERT INTO orders ({', '.join(COLUMNS)}) VALUES ({placeholders})"
            if backend == "sqlite":  # stored as UTC text, as UTCDateTime writes it
                stored_rows = [tuple(v.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
                                     if isinstance(v, datetime) else v for v in r) for r in stored_rows]

            def raw():
                raw_conn = engine.raw_connection()
                try:
                    cur = raw_conn.cursor()
                    if backend == "sqlite":
                        cur.execute("BEGIN IMMEDIATE")
                    cur.executemany(sql, stored_rows)
                    raw_conn.commit()
                finally:
                    raw_conn.close()

            samples["floor"].append(timed(raw, key="floor"))
            assert count(engine)[0] == len(rows)

            empty(engine)
            out: dict = {}
            samples["csv"].append(timed(
                lambda: out.update(import_export(session, user, io.BytesIO(data), size=len(data))),
                "csv" if rep == 0 else "", "csv"))
            assert out["created"] == len(rows) and not out["errors"], (out["created"], out["errors"][:3])
            log(f"   run {rep + 1}: " + ", ".join(
                f"{name} {len(rows) / runs[-1][0]:,.0f}/s" for name, runs in samples.items()))
        session.close()
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        results[name] = {"seconds": wall, "cpu": cpu, "rows_s": len(rows) / wall, "cpu_rows_s": len(rows) / cpu,
                         "runs": [len(rows) / w for w, _ in runs],
                         "cpu_ms_per_1000": cpu / len(rows) * 1e6}
        if SERVER_SAMPLES.get(name):
            results[name]["server_cpu_ms_per_1000"] = statistics.median(SERVER_SAMPLES[name]) / len(rows) * 1e6
    log(f"   {results['attributed']:,} of {len(rows):,} orders attributed; CSV {len(data) / 1e6:.1f} MB")

    if args.http:
        from opsroom.services.park.users import create_token

        with app.app_context(), intent(write=True):
            session = app.extensions["opsroom.sessionmaker"]()
            user = session.scalar(sa.select(User).where(User.email == world["coordinator"]))
            token = create_token(session, user, "bench")
            session.commit()
            session.close()
        empty(engine)
        client = app.test_client()
        payloads = [json.dumps({"orders": json_rows[i:i + BATCH]}) for i in range(0, len(json_rows), BATCH)]

        def http():
            for p in payloads:
                r = client.post("/api/v1/orders", data=p, content_type="application/json",
                                headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200, r.get_data(as_text=True)[:300]

        wall, cpu = timed(http)
        results["http"] = {"seconds": wall, "cpu": cpu, "rows_s": len(rows) / wall}
        log(f"   JSON over HTTP (test client): {len(rows) / wall:,.0f} rows/s")

    if args.million:
        results["million"] = million(url, world, args)
    app.extensions["opsroom.engine"].dispose()
    clock.set_now(None)
    return results


def million(url: str, world: dict, args) -> dict:
    """Write a 1,000,000-row export to a file, import it in a subprocess, report its peak RSS."""
    engine = make_engine(url)
    empty(engine)
    engine.dispose()
    random.Random(args.seed + 1)
    base = world["orders"]
    folder = tempfile.mkdtemp(prefix="opsroom-bench-orders-")
    path = Path(folder) / "export.csv"
    with open(path, "wb") as f:
        f.write(HEADER.encode("gbk"))
        for n in range(args.million_rows):
            r = dict(base[n % len(base)])
            r["external_id"] = f"71000{n:014d}"
            f.write(csv_line(r).encode("gbk"))
    size = path.stat().st_size
    log(f"   1M-row export: {size / 1e6:.0f} MB; importing in a subprocess …")
    proc = subprocess.run([sys.executable, __file__, "--child", url, str(path), world["coordinator"]],
                          capture_output=True, text=True, cwd=ROOT)
    os.unlink(path)
    os.rmdir(folder)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["bytes"] = size
    log(f"   1M rows: {out['rows_s']:,.0f} rows/s, peak RSS {out['rss_peak_mb']:.0f} MB "
        f"(before the import {out['rss_before_mb']:.0f} MB; VmHWM {out['vm_hwm_mb']:.0f} MB)")
    return out


def child(url: str, path: str, email: str) -> None:
    clock.set_now(NOW)
    app = create_app(TestConfig, DATABASE_URL=url)
    with app.app_context(), intent(write=True):
        session = app.extensions["opsroom.sessionmaker"]()
        user = session.scalar(sa.select(User).where(User.email == email))
        session.rollback()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            out = import_export(session, user, f, size=os.path.getsize(path))
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": out["created"], "seconds": wall, "rows_s": out["created"] / wall,
                      "rss_before_mb": before / 1024, "rss_peak_mb": peak / 1024, "vm_hwm_mb": _vm_hwm() / 1024}))


def _vm_hwm() -> int:
    """The kernel's peak RSS of this process (kB), a cross-check of getrusage."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def print_table(reports: list[dict]) -> None:
    http = any("http" in r for r in reports)
    log("\n| backend | rows | JSON batches rows/s | re-import rows/s | CSV rows/s | floor rows/s | JSON ÷ floor | "
        "CSV ÷ floor |" + (" HTTP rows/s |" if http else ""))
    log("|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if http else ""))
    for r in reports:
        floor = r["floor"]["rows_s"]
        line = (f"| {r['backend']} | {r['rows']:,} | {r['json']['rows_s']:,.0f} | {r['reimport']['rows_s']:,.0f} | "
                f"{r['csv']['rows_s']:,.0f} | {floor:,.0f} | {r['json']['rows_s'] / floor:.0%} | "
                f"{r['csv']['rows_s'] / floor:.0%} |")
        if http:
            line += f" {r['http']['rows_s']:,.0f} |" if "http" in r else " |"
        log(line)
    log("\nBy CPU time of this process (rows ÷ CPU s; on PostgreSQL the server's work is not in it):\n")
    log("| backend | JSON | re-import | CSV | floor |")
    log("|---|---:|---:|---:|---:|")
    for r in reports:
        log(f"| {r['backend']} | {r['json']['cpu_rows_s']:,.0f} | {r['reimport']['cpu_rows_s']:,.0f} | "
            f"{r['csv']['cpu_rows_s']:,.0f} | {r['floor']['cpu_rows_s']:,.0f} |")
    log("\nCPU ms per 1,000 rows: this process + the PostgreSQL backends serving it (read from /proc):\n")
    log("| backend | JSON | re-import | CSV | floor |")
    log("|---|---:|---:|---:|---:|")
    for r in reports:
        def cell(name):
            m = r[name]
            server = m.get("server_cpu_ms_per_1000")
            return f"{m['cpu_ms_per_1000']:.1f}" + (f" + {server:.1f} = {m['cpu_ms_per_1000'] + server:.1f}"
                                                    if server is not None else "")
        log(f"| {r['backend']} | {cell('json')} | {cell('reimport')} | {cell('csv')} | {cell('floor')} |")
    for r in reports:
        if "million" in r:
            m = r["million"]
            log(f"- {r['backend']}: 1,000,000-row CSV ({m['bytes'] / 1e6:.0f} MB): {m['rows_s']:,.0f} rows/s, "
                f"peak RSS {m['rss_peak_mb']:.0f} MB (process before the import: {m['rss_before_mb']:.0f} MB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rows", type=int, default=100_000, help="orders per measurement (default 100,000)")
    parser.add_argument("--million", action="store_true", help="also the peak RSS of a 1,000,000-row CSV import")
    parser.add_argument("--million-rows", type=int, default=1_000_000, help=argparse.SUPPRESS)
    parser.add_argument("--http", action="store_true", help="also JSON batches over HTTP (Flask test client)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is reported")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20,000 rows, one run")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--profile", action="append", choices=("json", "csv"), default=[],
                        help="print a cProfile of that measurement (repeatable)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        # An exec'd process inherits its parent's peak RSS in ru_maxrss (Linux
        # records the pre-exec memory, here the whole benchmark's); a process
        # forked from this small one starts its count afresh, so it measures.
        pid = os.fork()
        if pid == 0:
            try:
                child(*args.child)
            finally:
                sys.stdout.flush()
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)
    if args.quick:
        args.rows, args.repeat = 20_000, 1
    PROFILE.extend(args.profile)
    backends = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    log(f"opsroom order ingestion benchmark · commit {code_version()} · Python {platform.python_version()} · "
        f"SQLAlchemy {sa.__version__} · load {os.getloadavg()[0]:.1f}")
    reports = [run_backend(b, args) for b in backends]
    print_table(reports)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "latest-orders.json").write_text(json.dumps(reports, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
