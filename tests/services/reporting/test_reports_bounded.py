"""A report read never does unbounded work inside one write transaction: it
recomputes only what changed within its own days, at most
`ROOM_DAYS_PER_TRANSACTION` room-days per transaction; a room made dirty
as a whole (new, or its hours changed) costs a read its asked days, not every
day ever computed; and the figures still equal a computation from scratch."""
from __future__ import annotations

import threading
from collections import Counter, defaultdict
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.db import intent
from opsroom.domain import utilization as util
from opsroom.domain.hours import local_days
from opsroom.domain.intervals import Interval
from opsroom.web.i18n import park_tz
from opsroom.models import Blackout, Booking, report_days, report_dirty, Room, Tenant, User
from opsroom.services.park import rooms, users
from opsroom.services.reporting import refresh
from tests.conftest import NOW, at
from opsroom.services.bookings.create import create_booking
from opsroom.services.reporting.query import Query, as_minutes, scratch_totals, utilization
from opsroom.services.reporting.refresh import refresh_job, refresh_step
from opsroom.services.reporting.rollups import _steady_offset, compute_rows, settings

BOUND = 20  # room-days per transaction in these tests (production: ROOM_DAYS_PER_TRANSACTION)


class Writes:
    """Room-day rollup rows inserted per refresh step (each step is one transaction),
    and the number of SQL statements each step ran."""

    def __init__(self, session, monkeypatch):
        self.steps: list[int] = []
        self.statements: list[int] = []
        self._rows = self._stmts = 0
        engine = session.get_bind().engine
        inner = refresh_step

        def step(*args, **kwargs):
            self._rows = self._stmts = 0
            out = inner(*args, **kwargs)
            self.steps.append(self._rows)
            self.statements.append(self._stmts)
            return out

        def count(conn, cursor, statement, parameters, context, executemany):
            self._stmts += 1
            if statement.lstrip().upper().startswith("INSERT INTO REPORT_ROOM_DAYS"):
                self._rows += len(parameters) if executemany else 1

        monkeypatch.setattr(refresh, "refresh_step", step)
        sa.event.listen(engine, "before_cursor_execute", count)
        self._engine, self._count = engine, count

    def close(self):
        sa.event.remove(self._engine, "before_cursor_execute", self._count)

    def clear(self):
        self.steps.clear()
        self.statements.clear()


def same_as_scratch(session, user, first: date, last: date) -> dict:
    """The report by room (and its hour-of-day session counts) equals the scratch computation."""
    scratch = scratch_totals(session, first, last)
    want = defaultdict(Counter)
    for r in scratch["rooms"]:
        want[r["room_id"]].update({f: r[f] for f in ("bookable", "booked", "used")})
    for r in scratch["bookings_rows"]:
        want[r["room_id"]].update({f: r[f] for f in ("sessions", "cancellations", "orders", "gmv_fen")})
    codes = dict(session.execute(sa.select(Room.code, Room.id)).all())
    got = utilization(session, user, Query(first, last, "room"))
    assert {row["key"]: (row["bookable_minutes"], row["booked_minutes"], row["used_minutes"], row["bookings"],
                         row["cancellations"], row["orders"], row["gmv"]) for row in got["rows"]} == {
        code: (as_minutes(want[rid]["bookable"]), as_minutes(want[rid]["booked"]),
               as_minutes(want[rid]["used"]), want[rid]["sessions"], want[rid]["cancellations"],
               want[rid]["orders"], f"{want[rid]['gmv_fen'] / 100:.2f}") for code, rid in codes.items()}
    hours = utilization(session, user, Query(first, last, "hour"))
    assert sum(r["bookings"] for r in hours["rows"]) == sum(w["sessions"] for w in want.values())
    return got


def test_a_whole_room_change_costs_a_read_its_own_days_in_bounded_transactions(make, db_session, monkeypatch):
    monkeypatch.setattr(refresh, "ROOM_DAYS_PER_TRANSACTION", BOUND)
    s = db_session
    admin = make.user("admin")
    a = make.room(code="A1", open_time=time(8), close_time=time(2))
    b = make.room(code="B1", open_time=time(20), close_time=time(4))
    t = make.tenant()
    for day in range(0, 30, 3):
        make.order(make.booking(a, t, starts_at=at(day, 20), ends_at=at(day, 22)), amount_fen=900)
    far_first = date(2031, 1, 1)  # far outside the kept window (NOW is 2026-11-20)
    far_last = far_first + timedelta(days=399)
    far_day = (far_first + timedelta(days=40) - NOW.date()).days
    make.booking(b, t, starts_at=at(far_day, 21), ends_at=at(far_day, 23))
    first, last = NOW.date() - timedelta(days=5), NOW.date() + timedelta(days=24)  # 30 days
    writes = Writes(s, monkeypatch)
    try:
        # A report over 400 days not computed yet: 800 room-days, in steps of at most BOUND.
        same_as_scratch(s, admin, far_first, far_last)
        assert sum(writes.steps) == 2 * 400 and max(writes.steps) <= BOUND and len(writes.steps) >= 800 // BOUND
        same_as_scratch(s, admin, first, last)
        writes.clear()

        # Room A's open hours change: the triggers mark the whole room, which covers 430 days.
        rooms.update_room(s, admin, a.id, {"open_time": time(9), "close_time": time(23)})
        got = same_as_scratch(s, admin, first, last)
        assert {r["key"]: r["bookable_minutes"] for r in got["rows"]}["A1"] == 30 * 14 * 60
        # Only A's 30 asked days were recomputed, never more than BOUND in one transaction ...
        assert sum(writes.steps) == 30 and max(writes.steps) <= BOUND, writes.steps
        # ... the far days were forgotten rather than rewritten (a read recomputes them) ...
        assert s.scalar(sa.select(sa.func.count()).select_from(report_days)
                        .where(report_days.c.day >= far_first)) == 0
        # ... and the kept window's other days wait for the scheduler as marks.
        assert s.scalar(sa.select(sa.func.count()).select_from(report_dirty)) > 0
        writes.clear()
        same_as_scratch(s, admin, far_first, far_last)
        assert max(writes.steps) <= BOUND
        # The scheduler takes the marks left in the kept window, in bounded steps too.
        writes.clear()
        refresh_job(s)
        assert s.scalar(sa.select(sa.func.count()).select_from(report_dirty)) == 0
        assert max(writes.steps) <= BOUND
        same_as_scratch(s, admin, first - timedelta(days=10), last + timedelta(days=10))
    finally:
        writes.close()


def test_a_refresh_runs_as_many_statements_for_many_changed_room_days_as_for_few(make, db_session, monkeypatch):
    """Statements per refresh step do not grow with the changed room-days or bookings."""
    s = db_session
    admin = make.user("admin")
    rs = [make.room(code=f"R{i}", open_time=time(0), close_time=time(0)) for i in range(4)]
    t = make.tenant()
    first, last = NOW.date(), NOW.date() + timedelta(days=20)
    utilization(s, admin, Query(first, last, "room"))
    writes = Writes(s, monkeypatch)
    counts = []
    try:
        for n_rooms, n_days, hour in ((1, 2, 8), (4, 10, 12)):
            booked = [make.booking(r, t, starts_at=at(d, hour), ends_at=at(d, hour + 2))
                      for r in rs[:n_rooms] for d in range(n_days)]
            writes.clear()
            same_as_scratch(s, admin, first, last)
            counts.append(writes.statements)
            for bk in booked:
                make.order(bk, amount_fen=100)
                make.order(bk, amount_fen=250)
            writes.clear()
            same_as_scratch(s, admin, first, last)
            counts.append(writes.statements)
        # 2 changed room-days vs 40, then 2 bookings' sales vs 40: one step each, as many statements
        assert counts[0] == counts[2] and counts[1] == counts[3] and len(counts[0]) == len(counts[1]) == 1, counts
    finally:
        writes.close()


@pytest.mark.live
def test_a_booking_is_not_held_up_by_a_big_report_on_sqlite(committed_app, database_url, monkeypatch):
    """While a report computes 3 rooms × 200 days, a booking made meanwhile commits
    between the report's transactions, not after all of them (SQLite has one
    write lock); none of those transactions wrote more than the bound."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL locks rows: writers do not queue behind a report")
    monkeypatch.setattr(refresh, "ROOM_DAYS_PER_TRANSACTION", BOUND)
    app = committed_app
    with app.app_context(), intent(write=True):
        s = app.extensions["opsroom.sessionmaker"]()
        admin = users.create_user(s, email="rep@test.example", role="admin", password="long-enough-password-1")
        for i in range(3):
            s.add(Room(code=f"L{i}", name=f"L{i}", zone="z", kind="k", open_time=time(0), close_time=time(0)))
        s.add(Tenant(name="t"))
        s.commit()
        ids = admin.id, s.scalar(sa.select(Room.id).limit(1)), s.scalar(sa.select(Tenant.id))
        s.close()
    frozen, log, lock = clock.now(), [], threading.Lock()
    writing = threading.Event()
    engine = app.extensions["opsroom.engine"]

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _first_rows(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO REPORT_ROOM_DAYS"):
            writing.set()

    inner = refresh_step

    def step(*args, **kwargs):
        out = inner(*args, **kwargs)
        with lock:
            log.append(("report step", out.written))
        return out

    monkeypatch.setattr(refresh, "refresh_step", step)
    first = NOW.date() - timedelta(days=100)
    errors = []

    def read():
        clock.set_now(frozen)
        try:
            with app.app_context(), intent(write=False):
                s = app.extensions["opsroom.sessionmaker"]()
                utilization(s, s.get(User, ids[0]), Query(first, first + timedelta(days=199), "room"))
                s.close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            writing.set()

    def book():
        clock.set_now(frozen)
        try:
            writing.wait(timeout=60)
            with app.app_context(), intent(write=True):
                s = app.extensions["opsroom.sessionmaker"]()
                create_booking(s, s.get(User, ids[0]), {"room_id": ids[1], "tenant_id": ids[2],
                                                                  "starts_at": at(1, 20), "ends_at": at(1, 22)})
                with lock:
                    log.append(("booking", 1))
                s.close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read), threading.Thread(target=book)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    sa.event.remove(engine, "before_cursor_execute", _first_rows)
    assert not errors, errors
    steps = [n for kind, n in log if kind == "report step"]
    assert sum(steps) == 3 * 200 and max(steps) <= BOUND
    # The booking got the write lock while the report still had work to do.
    assert log.index(("booking", 1)) < len(log) - 1, log
    with app.app_context(), intent(write=False):
        s = app.extensions["opsroom.sessionmaker"]()
        same_as_scratch(s, s.get(User, ids[0]), first, first + timedelta(days=199))
        s.close()


def test_idle_room_days_computed_once_equal_each_day_computed_in_full(make, db_session):
    """compute_rows computes a day without sessions or blackouts once per room
    hours; every such row equals the full computation of its own day."""
    s = db_session
    t = make.tenant()
    hours = [(time(8), time(2)), (time(0), time(0)), (time(9), time(18)), (time(20), time(4))]
    rs = [make.room(code=f"I{i}", open_time=o, close_time=c) for i, (o, c) in enumerate(hours)]
    make.booking(rs[0], t, starts_at=at(3, 20), ends_at=at(3, 23))
    make.blackout(rs[2], starts_at=at(5, 10), ends_at=at(5, 12))
    first = NOW.date()
    days = set(util.days_of(first, first + timedelta(days=59)))
    room_rows, _ = compute_rows(s, {r.id: days for r in rs})
    assert len(room_rows) == 4 * 60
    by_id = {r.id: r for r in rs}
    cfg = settings(s)
    for row in room_rows:
        room = by_id[row["room_id"]]
        full = util.room_day(
            row["day"], park_tz(), open_time=room.open_time, close_time=room.close_time,
            blackouts=[Interval(b.starts_at, b.ends_at) for b in s.scalars(sa.select(Blackout).where(
                Blackout.room_id == room.id))],
            sessions=[util.Session(b.id, b.starts_at, b.ends_at) for b in s.scalars(sa.select(Booking).where(
                Booking.room_id == room.id))],
            prime=cfg["prime"])
        assert (row["bookable"], row["prime_bookable"], row["booked"]) == \
            (full.bookable, full.prime_bookable, full.booked), row
        assert [row[f"bookable_h{h:02d}"] for h in range(24)] == full.bookable_hours
    # A daylight-saving change near the days: no shortcut there.
    berlin = ZoneInfo("Europe/Berlin")
    assert not _steady_offset(berlin, local_days(date(2026, 3, 1), date(2026, 3, 31), berlin))
    assert not _steady_offset(berlin, local_days(date(2026, 3, 30), date(2026, 4, 20), berlin))
    assert _steady_offset(berlin, local_days(date(2026, 6, 1), date(2026, 7, 1), berlin))
