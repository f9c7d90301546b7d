"""The forecast at booking through the service, on the bench's park
(bench/world.py: 200 rooms, a year of bookings, background orders over the
ended sessions): milliseconds per `forecast_for` call, as the booking form and
`GET /api/v1/forecast` make it (history load + domain + better rooms), on SQLite
and PostgreSQL.

    .venv/bin/python bench/bench_forecast_service.py [--backends sqlite postgres] [--extra 1000000] [--n 200]

Queries: tomorrow and the next days, random active tenant, random room, a
2-hour window on the quarter hour, half of them naming two of the tenant's
anchors (the most specific basis) and the others none. The first 10 calls warm
the caches and are not counted.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import sqlalchemy as sa  # noqa: E402

from common import DEFAULT_PG_URL, provision  # noqa: E402
from world import NOW, SECRET, build  # noqa: E402
from config import Config  # noqa: E402
from opsroom import clock, create_app  # noqa: E402
from opsroom.models import Anchor, Room, Tenant, User  # noqa: E402
from opsroom.services.sales.forecast import forecast_for, forecast_json  # noqa: E402


def run(backend: str, args) -> dict:
    url, drop = provision(backend, args.pg_url, prefix="opsroom_bench_fc")
    try:
        t0 = time.perf_counter()
        world = build(url, rooms=args.rooms, days=args.days, big=2_000, per_session=50, extra=args.extra,
                      rollups=False)
        built = time.perf_counter() - t0
        app = create_app(Config, DATABASE_URL=url, SECRET_KEY=SECRET)
        clock.set_now(NOW)
        rng = random.Random(19)
        timings, bases, fits = [], {}, 0
        with app.app_context():
            s = app.extensions["opsroom.sessionmaker"]()
            staff = s.scalar(sa.select(User).where(User.role == "coordinator"))
            tenants = s.scalars(sa.select(Tenant.id).where(Tenant.status == "active")).all()
            rooms = s.scalars(sa.select(Room.id).where(Room.active.is_(True))).all()
            anchors = {t: s.scalars(sa.select(Anchor.id).where(Anchor.tenant_id == t)).all() for t in tenants}
            day0 = NOW.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
            for i in range(args.n + 10):
                tenant = rng.choice(tenants)
                start = day0 + timedelta(days=rng.randrange(7), minutes=15 * rng.randrange(8 * 4, 22 * 4))
                mine = anchors.get(tenant) or []
                chosen = rng.sample(mine, min(2, len(mine))) if i % 2 and mine else []
                t = time.perf_counter()
                out = forecast_json(forecast_for(s, staff, tenant, rng.choice(rooms), start,
                                                 start + timedelta(hours=2), chosen))
                dt = (time.perf_counter() - t) * 1000
                s.rollback()
                if i >= 10:
                    timings.append(dt)
                    bases[out["basis"]] = bases.get(out["basis"], 0) + 1
                    fits += out["fits"]
            s.close()
        clock.set_now(None)
        app.extensions["opsroom.engine"].dispose()
        timings.sort()
        return {"backend": backend, "orders": world["orders"], "built_s": built, "n": len(timings),
                "median_ms": statistics.median(timings), "p95_ms": timings[int(0.95 * (len(timings) - 1))],
                "max_ms": timings[-1], "bases": bases, "fits": fits}
    finally:
        drop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL)
    ap.add_argument("--rooms", type=int, default=200)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--extra", type=int, default=1_000_000, help="background orders over the ended sessions")
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    print("| engine | rooms | orders | forecasts | median ms | p95 ms | max ms | bases |")
    print("|---|---|---|---|---|---|---|---|")
    for backend in args.backends:
        r = run(backend, args)
        print(f"| {r['backend']} | {args.rooms} | {r['orders']:,} | {r['n']} | {r['median_ms']:.1f} | "
              f"{r['p95_ms']:.1f} | {r['max_ms']:.1f} | "
              f"{', '.join(f'{k} {v}' for k, v in sorted(r['bases'].items()))} |", flush=True)
        print(f"  (built in {r['built_s']:.0f} s; {r['fits']} of {r['n']} fit their room)", file=sys.stderr)


if __name__ == "__main__":
    main()
