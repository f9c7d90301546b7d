"""Query plans and probe timings for the queries behind the benchmarked pages
(`bench_bookings.py --explain`).

The SQL here mirrors opsroom/services/bookings.py `_busy` (the clash check of
create-booking, the "other rooms" of its alternatives, availability),
opsroom/services/board.py `_load` (the board day) and the SQLite overlap
trigger of migration 0001. Each runs as the app writes it and, where marked
"+ lower bound", with `starts_at >= window.start - 28 h` added: a booking lasts
at most 1440 minutes (max_minutes) plus at most 240 minutes of changeover, so
nothing that starts earlier can reach the window, and the index range on
(room_id, starts_at, …) shrinks from "the room's whole history" to a day.
"""
from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from opsroom import clock  # noqa: E402
from opsroom.db import UTCDateTime, intent  # noqa: E402
from opsroom.domain import hours  # noqa: E402
from opsroom.models import Booking, Room  # noqa: E402

ACTIVE = "('hold', 'confirmed', 'live')"
SHOWN = "('hold', 'confirmed', 'live', 'ended', 'no_show')"
REACH = timedelta(minutes=1440 + 240)

BUSY = f"""SELECT bookings.* FROM bookings
WHERE bookings.room_id IN :ids AND bookings.status IN {ACTIVE}
  AND bookings.starts_at < :end AND bookings.occupied_until > :start"""
BUSY_BOUNDED = BUSY + "\n  AND bookings.starts_at >= :floor"
TRIGGER = f"""SELECT 1 FROM bookings b
WHERE b.room_id = :room AND b.status IN {ACTIVE}
  AND b.starts_at < :end AND :start < b.occupied_until"""
TRIGGER_BOUNDED = TRIGGER + "\n  AND b.starts_at >= :floor"
BOARD = f"""SELECT bookings.*, tenants.id, tenants.name, tenants.status FROM bookings
LEFT OUTER JOIN tenants ON tenants.id = bookings.tenant_id
WHERE bookings.room_id IN :ids AND bookings.starts_at < :end
  AND bookings.starts_at >= :floor AND bookings.ends_at > :start AND bookings.status IN {SHOWN}
ORDER BY bookings.starts_at"""


def _text(sql: str) -> sa.TextClause:
    binds = [sa.bindparam(name, type_=UTCDateTime) for name in ("start", "end", "floor") if f":{name}" in sql]
    if ":ids" in sql:
        binds.append(sa.bindparam("ids", expanding=True))
    return sa.text(sql).bindparams(*binds)


def _plan(conn, sql: str, params: dict) -> list[str]:
    if conn.dialect.name == "postgresql":
        rows = conn.execute(_text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql), params).all()
        return [r[0] for r in rows]
    rows = conn.execute(_text("EXPLAIN QUERY PLAN " + sql), params).all()
    return [r[-1] for r in rows]


def _time(conn, sql: str, params_list: list[dict]) -> tuple[float, float]:
    stmt = _text(sql)
    ms = []
    for params in params_list:
        t0 = time.perf_counter()
        conn.execute(stmt, params).all()
        ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    return statistics.median(ms), ms[max(0, int(0.95 * len(ms) + 0.999) - 1)]


def report(app, *, log=print, n: int = 100) -> list[dict]:
    """Print plans and median/p95 of each probe on the app's database; returns the timings.

    Samples: random future active bookings (their window asked again, as a
    conflicting create does) and random days of the bookings' range.
    """
    engine = app.extensions["opsroom.engine"]
    rng = random.Random(4)
    tz = ZoneInfo(app.config["TIMEZONE"])
    now = clock.now()
    with intent(write=False), engine.connect() as conn:
        rooms = conn.execute(sa.select(Room.id, Room.kind)).all()
        by_kind: dict[str, list[int]] = {}
        for r in rooms:
            by_kind.setdefault(r.kind, []).append(r.id)
        kind_of = {r.id: r.kind for r in rooms}
        slots = conn.execute(
            sa.select(Booking.room_id, Booking.starts_at, Booking.ends_at)
            .where(Booking.status.in_(("confirmed", "hold")), Booking.starts_at > now)
            .order_by(sa.func.random()).limit(n)
        ).all()
        first, last = conn.execute(sa.select(sa.func.min(Booking.starts_at), sa.func.max(Booking.starts_at))).one()
        first, last = first.astimezone(tz).date(), last.astimezone(tz).date()
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]

        def one_room(s):
            return {"ids": [s.room_id], "start": s.starts_at, "end": s.ends_at + timedelta(minutes=30),
                    "floor": s.starts_at - REACH}

        def kind_rooms(s):
            return {**one_room(s), "ids": [i for i in by_kind[kind_of[s.room_id]] if i != s.room_id]}

        def trigger(s):
            return {"room": s.room_id, "start": s.starts_at, "end": s.ends_at + timedelta(minutes=30),
                    "floor": s.starts_at - REACH}

        def board(_):
            day = hours.local_day(rng.choice(days), tz)
            return {"ids": [r.id for r in rooms], "start": day.start, "end": day.end,
                    "floor": day.start - timedelta(days=1)}

        probes = [
            ("_busy, 1 room (create's clash check)", BUSY, one_room),
            ("_busy, 1 room + lower bound", BUSY_BOUNDED, one_room),
            ("_busy, rooms of a kind (alternatives)", BUSY, kind_rooms),
            ("_busy, rooms of a kind + lower bound", BUSY_BOUNDED, kind_rooms),
            ("board _load, all rooms, one day", BOARD, board),
        ]
        if conn.dialect.name == "sqlite":
            probes += [("overlap trigger body (each insert)", TRIGGER, trigger),
                       ("overlap trigger body + lower bound", TRIGGER_BOUNDED, trigger)]
        out = []
        log(f"\n--- query plans and probes ({engine.dialect.name}, n={len(slots)}) ---")
        for name, sql, make in probes:
            params = [make(s) for s in slots]
            _time(conn, sql, params[:5])  # warm
            median, p95 = _time(conn, sql, params)
            log(f"\n[{name}] median {median:.2f} ms, p95 {p95:.2f} ms")
            for line in _plan(conn, sql, params[0]):
                log("    " + line)
            out.append({"probe": name, "median_ms": round(median, 3), "p95_ms": round(p95, 3)})
        conn.rollback()
    return out


if __name__ == "__main__":
    # On a database kept by `bench_bookings.py --keep`: python bench/explain.py <url>
    from config import TestConfig
    from opsroom import create_app
    from bench.common import NOW

    clock.set_now(NOW)
    report(create_app(TestConfig, DATABASE_URL=sys.argv[1]))
