"""A large, deterministic park for the benchmarks, built with bulk Core inserts.

The park: `rooms` rooms in five zones (one room kind per zone), open 08:00–02:00
park time with 15–30 minutes of changeover; 40 tenants; a handful of users; and
`days` days of bookings around "now" (300/365 of them in the past), about 5–6
per room and day, back to back with idle gaps, never overlapping (their
occupied ranges [starts_at, ends_at + changeover) are disjoint), on 15-minute
boundaries. Past sessions are mostly ended, future ones mostly confirmed, a few
of either are cancelled. A few rooms are closed for a whole day (blackout).

On every future day (from tomorrow) each room keeps 10:00–12:00 free, with its
changeover after it, so the benchmark can book real free slots
(`Park.free_slots`); `Park.conflicts` are future confirmed bookings whose window
the benchmark asks for again to get a 409.

Everything comes from `random.Random(seed)`, so two builds are identical.
"""
from __future__ import annotations

import random
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from opsroom.models import Blackout, Booking, Room, Tenant, User

UTC = timezone.utc
TZ = ZoneInfo("Asia/Shanghai")  # TestConfig.TIMEZONE; it has no DST, so minute arithmetic is exact
PASSWORD = "bench-password-1"
COORDINATOR_EMAIL = "coordinator@bench.example"
CHUNK = 10_000

OPEN, CLOSE = time(8, 0), time(2, 0)
DAY_MINUTES = 18 * 60  # 08:00 → 02:00 next day
FREE_START, FREE_END = 120, 240  # the kept-free slot, in minutes after opening: 10:00–12:00
GRANULARITY = 15

ZONES = (  # zone, kind, code letter
    ("服装区", "服装", "A"),
    ("美妆区", "美妆", "B"),
    ("食品区", "食品", "C"),
    ("绿幕区", "绿幕", "D"),
    ("珠宝玉石区", "珠宝", "E"),
)
CHANGEOVERS = (15, 20, 30, 30)
IDLE = ((0, 15, 30, 45, 60, 90), (36, 20, 14, 10, 12, 8))  # minutes between sessions, weights
DURATIONS = (60, 90, 120, 120, 150, 180, 180, 240)
TITLES = ("秋冬上新专场", "工厂直发福利场", "爆款返场", "新品首发", "清仓秒杀", "品质专场", "周末狂欢", "产地直播")


@dataclass
class Slot:
    room_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass
class Park:
    now: datetime
    first_day: date
    last_day: date
    room_ids: list[int]
    active_tenant_ids: list[int]
    coordinator_email: str
    free_slots: list[Slot] = field(default_factory=list)
    conflicts: list[Slot] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def days(self) -> list[date]:
        n = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(n)]


def _ceil(minutes: int) -> int:
    return -(-minutes // GRANULARITY) * GRANULARITY


def _pack(rng: random.Random, lo: int, hi: int, changeover: int, *, keep_changeover: bool) -> list[tuple[int, int]]:
    """Back-to-back sessions inside [lo, hi) minutes after opening. With
    keep_changeover the last one's changeover must also end by `hi` (a free slot follows)."""
    out, cursor = [], lo
    while True:
        start = cursor + rng.choices(IDLE[0], IDLE[1])[0]
        fitting = [d for d in DURATIONS if start + d + (changeover if keep_changeover else 0) <= hi]
        if not fitting:
            return out
        want = rng.choice(DURATIONS)
        duration = want if want in fitting else max(fitting)
        out.append((start, start + duration))
        cursor = _ceil(start + duration + changeover)


def _insert(conn, table: sa.Table, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        conn.execute(table.insert(), rows[i:i + CHUNK])


def build(engine: sa.Engine, *, rooms: int, days: int, now: datetime, seed: int = 2026, log=print) -> Park:
    """Fill the (migrated, empty) database behind `engine`; returns what the benchmark needs."""
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    past_days = round(days * 300 / 365)
    today = now.astimezone(TZ).date()
    first_day = today - timedelta(days=past_days)
    last_day = first_day + timedelta(days=days - 1)

    t0 = _time.perf_counter()
    # One hash for every user: werkzeug's default method; check_password_hash reads it from the hash.
    password_hash = generate_password_hash(PASSWORD)
    created = now - timedelta(days=days + 30)
    users = [
        {"email": COORDINATOR_EMAIL, "name": "排期 陈", "role": "coordinator"},
        {"email": "admin@bench.example", "name": "管理员 赵", "role": "admin"},
        {"email": "manager@bench.example", "name": "经理 王", "role": "manager"},
        {"email": "anchor1@bench.example", "name": "主播 林", "role": "anchor"},
        {"email": "anchor2@bench.example", "name": "主播 李", "role": "anchor"},
    ]
    for u in users:
        u.update(password_hash=password_hash, locale=None, active=True, created_at=created)
    n_tenants = 40
    tenants = [
        {"name": f"商家{i:02d} 电商有限公司", "contact": f"联系人{i:02d} 138{i:08d}", "credit_code": "",
         "status": "suspended" if i == n_tenants - 1 else "blacklisted" if i == n_tenants else "active",
         "created_at": created}
        for i in range(1, n_tenants + 1)
    ]
    room_rows = []
    for i in range(rooms):
        zone, kind, letter = ZONES[i % len(ZONES)]
        number = i // len(ZONES) + 1
        room_rows.append({
            "code": f"{letter}{number:03d}", "name": f"{letter}{number:03d} {kind}直播间", "zone": zone, "kind": kind,
            "area_m2": float(rng.choice((30, 45, 60, 90, 120, 160))), "equipment": ["补光灯", "声卡", "提词器"],
            "open_time": OPEN, "close_time": CLOSE, "changeover_minutes": rng.choice(CHANGEOVERS),
            "min_minutes": 30, "max_minutes": 720, "order_capacity_per_hour": rng.choice((300, 600, 1200, 2400)),
            "active": True,
        })

    with engine.begin() as conn:
        _insert(conn, User.__table__, users)
        _insert(conn, Tenant.__table__, tenants)
        _insert(conn, Room.__table__, room_rows)
        user_ids = dict(conn.execute(sa.select(User.email, User.id)).all())
        tenant_rows = conn.execute(sa.select(Tenant.id, Tenant.status).order_by(Tenant.id)).all()
        room_info = conn.execute(sa.select(Room.id, Room.changeover_minutes).order_by(Room.id)).all()
    coordinator_id = user_ids[COORDINATOR_EMAIL]
    tenant_ids = [t.id for t in tenant_rows]
    active_tenants = [t.id for t in tenant_rows if t.status == "active"]
    timings["users_tenants_rooms_s"] = _time.perf_counter() - t0

    # Whole-day closures: a few rooms, half of them in the future; no sessions those days.
    all_days = [first_day + timedelta(days=i) for i in range(days)]
    closed: set[tuple[int, date]] = set()
    n_blackouts = max(4, rooms // 20)
    future_days = [d for d in all_days if d > today]
    for i in range(n_blackouts):
        pool = future_days if i % 2 and future_days else all_days
        closed.add((rng.choice(room_info).id, rng.choice(pool)))
    blackouts = []
    for room_id, d in sorted(closed):
        opens = datetime.combine(d, OPEN, tzinfo=TZ).astimezone(UTC)
        blackouts.append({"room_id": room_id, "starts_at": opens, "ends_at": opens + timedelta(minutes=DAY_MINUTES),
                          "reason": "设备检修", "created_at": opens - timedelta(days=7)})

    t1 = _time.perf_counter()
    bookings: list[dict] = []
    free_slots: list[Slot] = []
    conflicts: list[Slot] = []
    now_utc = now.astimezone(UTC)
    hold_until = now_utc + timedelta(minutes=60)
    # Day by day, room by room: ids grow with time, as they do in a park in use.
    for d in all_days:
        opens = datetime.combine(d, OPEN, tzinfo=TZ).astimezone(UTC)
        for room in room_info:
            if (room.id, d) in closed:
                continue
            co = room.changeover_minutes
            if d > today:
                spans = _pack(rng, 0, FREE_START, co, keep_changeover=True)
                spans += _pack(rng, _ceil(FREE_END + co), DAY_MINUTES, co, keep_changeover=False)
                free_slots.append(Slot(room.id, opens + timedelta(minutes=FREE_START),
                                       opens + timedelta(minutes=FREE_END)))
            else:
                spans = _pack(rng, 0, DAY_MINUTES, co, keep_changeover=False)
            for a, b in spans:
                starts, ends = opens + timedelta(minutes=a), opens + timedelta(minutes=b)
                row = {
                    "room_id": room.id, "tenant_id": rng.choice(tenant_ids), "title": rng.choice(TITLES),
                    "starts_at": starts, "ends_at": ends, "occupied_until": ends + timedelta(minutes=co),
                    "status": "confirmed", "hold_expires_at": None, "series_id": None, "checked_in_at": None,
                    "cancelled_at": None, "cancel_reason": "",
                    "created_at": min(starts - timedelta(days=rng.randint(1, 21)), now_utc - timedelta(hours=1)),
                    "created_by_id": coordinator_id,
                }
                roll = rng.random()
                if roll < 0.05:
                    row.update(status="cancelled", cancelled_at=min(starts - timedelta(hours=6), now_utc),
                               cancel_reason="商家取消")
                elif ends <= now_utc:
                    if roll < 0.08:
                        row["status"] = "no_show"
                    else:
                        row.update(status="ended", checked_in_at=starts - timedelta(minutes=10))
                elif starts <= now_utc:
                    row.update(status="live", checked_in_at=starts - timedelta(minutes=10))
                elif roll < 0.07:
                    row.update(status="hold", hold_expires_at=min(hold_until, starts))
                elif d > today:
                    conflicts.append(Slot(room.id, starts, ends))
                bookings.append(row)
    timings["generate_s"] = _time.perf_counter() - t1

    t2 = _time.perf_counter()
    with engine.begin() as conn:
        _insert(conn, Blackout.__table__, blackouts)
        for i in range(0, len(bookings), CHUNK):
            conn.execute(Booking.__table__.insert(), bookings[i:i + CHUNK])
            if (i // CHUNK) % 10 == 9:
                log(f"    {i + CHUNK:>7} bookings inserted ({_time.perf_counter() - t2:.1f} s)")
    timings["insert_bookings_s"] = _time.perf_counter() - t2

    rng.shuffle(free_slots)
    rng.shuffle(conflicts)
    return Park(
        now=now, first_day=first_day, last_day=last_day, room_ids=[r.id for r in room_info],
        active_tenant_ids=active_tenants,
        coordinator_email=COORDINATOR_EMAIL, free_slots=free_slots, conflicts=conflicts, timings=timings,
    )


def analyze(engine: sa.Engine) -> None:
    """Fresh planner statistics, as a park in use would have. On PostgreSQL also
    VACUUM, as autovacuum would have: it sets the visibility map that
    index-only scans rely on."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def row_counts(engine: sa.Engine) -> dict[str, object]:
    with engine.connect() as conn:
        counts: dict[str, object] = {
            t.name: conn.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (User.__table__, Tenant.__table__, Room.__table__, Blackout.__table__, Booking.__table__)
        }
        counts["bookings_by_status"] = dict(
            conn.execute(sa.select(Booking.status, sa.func.count()).group_by(Booking.status).order_by(Booking.status)).all()
        )
    return counts
