"""Managers' reports: utilization, used and prime time, sales, turned-away demand.

Definitions (DESIGN.md §4) live in domain/utilization.py. This module keeps two
rollups in step and aggregates them in SQL:

- `report_room_days`: each room's figures per park-local day (and per hour of day);
- `report_booking_days`: each booking's share of them per day, with its counts
  and sales on the day it starts (for tenants, anchors and the tenant filter).

Database triggers (migration 0004) write every change of bookings, blackouts,
orders and room hours to `report_dirty`; before a report reads, `prepare`
recomputes what is dirty within its days and any of its days not yet covered,
so a report always equals a computation from scratch
(tests/test_reports_rollups.py proves it). It does so in short transactions of
at most ROOM_DAYS_PER_TRANSACTION room-days (SQLite has one write lock), and
leaves changes elsewhere to the scheduler (`refresh_job`), which keeps the
configured window computed ahead of time, so a report usually only reads
(tests/test_reports_bounded.py).
"""
from __future__ import annotations

import csv
import io
import time as time_module
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.db import intent, is_postgres
from opsroom.domain import utilization as util
from opsroom.domain.booking_rules import LONGEST_OCCUPANCY
from opsroom.domain.cells import safe_cell
from opsroom.domain.hours import local_days
from opsroom.domain.intervals import Interval, to_utc
from opsroom.domain.money import format_money
from opsroom.i18n import park_tz
from opsroom.models import (
    Anchor, Assignment, Blackout, Booking, Order, report_booking_days, report_days, report_dirty, report_room_days,
    report_start_hours, report_tenant_days, Room, Tenant, TurnedAway,
)
from opsroom.domain.statuses import COUNTED_STATUSES, SOLD_STATUSES
from opsroom.services.permissions import require
from opsroom.services.errors import ValidationFailed

GROUPS = ("room", "zone", "kind", "day", "week", "hour", "tenant", "anchor")
FORMATS = ("json", "csv", "xlsx")
HOURS = range(24)
# Years a report may name: converting the far edges of the calendar to UTC overflows.
YEARS = (1900, 9000)
_LOCK_KEY = 80080008  # PostgreSQL advisory lock: one rollup refresh at a time
_CHUNK_DAYS = 31

A, B, H, T = report_room_days, report_booking_days, report_start_hours, report_tenant_days


def _hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh) % 24, int(mm))


def settings() -> dict[str, Any]:
    cfg = current_app.config
    return {
        "prime": (_hhmm(cfg["REPORT_PRIME_START"]), _hhmm(cfg["REPORT_PRIME_END"])),
        "late_notice": timedelta(hours=cfg["REPORT_LATE_CANCEL_HOURS"]),
        "max_days": cfg["REPORT_MAX_DAYS"],
        "checkin_before": timedelta(minutes=cfg["CHECKIN_OPENS_MINUTES_BEFORE"]),
    }


# ---------------------------------------------------------------------------
# Computing room-days (read only)


def _chunks(days: list[date]) -> list[tuple[date, date]]:
    out: list[tuple[date, date]] = []
    for d in sorted(days):
        if out and (d - out[-1][0]).days < _CHUNK_DAYS:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _local_date(instant: datetime, tz) -> date:
    return to_utc(instant).astimezone(tz).date()


def _steady_offset(tz, window: Interval) -> bool:
    """Whether the park's UTC offset is the same at every hour from a day before
    `window` to two days after it. Then a room-day's figures without sessions or
    blackouts depend only on the room's hours (every instant they use is the same
    local time plus that one offset), so one computation serves every such day.
    (tzdata has no offset change that reverts within the hour.)"""
    t, end = to_utc(window.start) - timedelta(days=1), to_utc(window.end) + timedelta(days=2)
    offset = t.astimezone(tz).utcoffset()
    while t <= end:
        if t.astimezone(tz).utcoffset() != offset:
            return False
        t += timedelta(hours=1)
    return True


def compute_rows(session: so.Session, targets: dict[int, set[date]]) -> tuple[list[dict], list[dict]]:
    """The rollup rows of the given rooms and park-local days, computed from
    the bookings, blackouts, rooms and orders as they are now. Reads only."""
    tz, cfg = park_tz(), settings()
    room_rows: list[dict] = []
    booking_rows: list[dict] = []
    all_days = sorted(set().union(*targets.values())) if targets else []
    for first, last in _chunks(all_days):
        chunk = {rid: {d for d in days if first <= d <= last} for rid, days in targets.items()}
        chunk = {rid: days for rid, days in chunk.items() if days}
        room_ids = sorted(chunk)
        window = local_days(first, last, tz)
        steady, idle = _steady_offset(tz, window), {}
        # Used time may begin before the start (early check-in), so look a little past the window.
        reach = Interval(window.start, window.end + cfg["checkin_before"])
        rooms = {r.id: r for r in session.execute(
            sa.select(Room.id, Room.open_time, Room.close_time, Room.order_capacity_per_hour)
            .where(Room.id.in_(room_ids)))}
        blackouts: dict[int, list[Interval]] = defaultdict(list)
        for b in session.execute(sa.select(Blackout.room_id, Blackout.starts_at, Blackout.ends_at).where(
                Blackout.room_id.in_(room_ids), Blackout.starts_at < window.end, Blackout.ends_at > window.start)):
            blackouts[b.room_id].append(Interval(b.starts_at, b.ends_at))
        by_start: dict[tuple[int, date], list] = defaultdict(list)
        rows = session.execute(sa.select(
            Booking.id, Booking.room_id, Booking.tenant_id, Booking.starts_at, Booking.ends_at, Booking.status,
            Booking.checked_in_at, Booking.cancelled_at, Booking.cancel_reason,
        ).where(
            Booking.room_id.in_(room_ids), Booking.starts_at < reach.end, Booking.ends_at > window.start,
            Booking.starts_at >= window.start - LONGEST_OCCUPANCY,
        )).all()
        for b in rows:
            by_start[(b.room_id, _local_date(b.starts_at, tz))].append(b)
        sales = dict(((r.booking_id, (r.orders, r.gmv)) for r in session.execute(
            sa.select(Order.booking_id, sa.func.count().label("orders"),
                      sa.func.coalesce(sa.func.sum(Order.amount_fen), 0).label("gmv"))
            .join(Booking, Booking.id == Order.booking_id)
            .where(Booking.room_id.in_(room_ids), Booking.starts_at >= window.start, Booking.starts_at < window.end,
                   Order.status.in_(SOLD_STATUSES))
            .group_by(Order.booking_id))))
        for rid in room_ids:
            room = rooms.get(rid)
            if room is None:
                continue
            for day in sorted(chunk[rid]):
                near = [b for d in (day - timedelta(days=1), day, day + timedelta(days=1))
                        for b in by_start.get((rid, d), ())]
                if steady and not near and not blackouts.get(rid):
                    # An idle day: the same figures as any idle day of these hours (see _steady_offset).
                    key = (room.open_time, room.close_time)
                    if key not in idle:
                        idle[key] = util.room_day(day, tz, open_time=room.open_time, close_time=room.close_time,
                                                  blackouts=(), sessions=(), prime=cfg["prime"])
                    figures = idle[key]
                else:
                    figures = util.room_day(
                        day, tz, open_time=room.open_time, close_time=room.close_time,
                        blackouts=blackouts.get(rid, ()),
                        sessions=[util.Session(b.id, b.starts_at, b.ends_at, counted=b.status in COUNTED_STATUSES,
                                               checked_in_at=b.checked_in_at if b.status in ("live", "ended")
                                               else None)
                                  for b in near],
                        prime=cfg["prime"])
                row = {"room_id": rid, "day": day, "weekday": day.weekday(), "bookable": figures.bookable,
                       "booked": figures.booked, "prime_bookable": figures.prime_bookable,
                       "prime_booked": figures.prime_booked, "used": figures.used}
                for h in HOURS:
                    row[f"bookable_h{h:02d}"] = figures.bookable_hours[h]
                    row[f"booked_h{h:02d}"] = figures.booked_hours[h]
                row.update({name: 0 for name in COUNT_FIELDS})
                room_rows.append(row)
                for b in near:
                    share = figures.shares[b.id]
                    starts_here = _local_date(b.starts_at, tz) == day
                    cancelled = b.status == "cancelled" and b.cancel_reason != "hold_expired"
                    if not (starts_here and (b.status in COUNTED_STATUSES or cancelled)) \
                            and not (share.booked or share.used):
                        continue
                    orders, gmv = sales.get(b.id, (0, 0)) if starts_here else (0, 0)
                    brow = {
                        "booking_id": b.id, "day": day, "room_id": rid, "tenant_id": b.tenant_id,
                        "weekday": day.weekday(), "starts_here": int(starts_here),
                        "start_hour": to_utc(b.starts_at).astimezone(tz).hour,
                        "sessions": int(starts_here and b.status in COUNTED_STATUSES),
                        "no_shows": int(starts_here and b.status == "no_show"),
                        "cancellations": int(starts_here and cancelled),
                        "late_cancellations": int(starts_here and cancelled and util.is_late_cancellation(
                            b.starts_at, b.cancelled_at, cfg["late_notice"])),
                        "orders": int(orders), "gmv_fen": int(gmv),
                        "capacity": room.order_capacity_per_hour * (b.ends_at - b.starts_at).total_seconds() / 3600
                        if starts_here and b.status in COUNTED_STATUSES else 0.0,
                        "booked": share.booked, "prime_booked": share.prime_booked, "used": share.used,
                    }
                    for h in HOURS:
                        brow[f"booked_h{h:02d}"] = share.booked_hours[h]
                    booking_rows.append(brow)
                    for name in COUNT_FIELDS:
                        row[name] += brow[name]
    return room_rows, booking_rows


# ---------------------------------------------------------------------------
# Keeping the rollups in step (writes)


def _write(session: so.Session, targets: dict[int, set[date]]) -> None:
    """Replace the rollup rows of these room-days: a few statements per call,
    however many room-days. The deletes name the (room, day) pairs in one
    statement each, not one statement a pair: PostgreSQL plans a repeated
    prepared DELETE once, generically, and on a rollup table last analyzed
    while empty (a park's first refresh) that plan scans the whole table for
    every pair (seen: 4 billion rows read to fill a year)."""
    room_rows, booking_rows = compute_rows(session, targets)
    pairs = [(rid, d) for rid, days in targets.items() for d in sorted(days)]
    for table in (A, B):
        for i in range(0, len(pairs), 500):
            session.execute(sa.delete(table).where(sa.tuple_(table.c.room_id, table.c.day).in_(pairs[i:i + 500])))
    for rows, table in ((room_rows, A), (booking_rows, B)):
        for i in range(0, len(rows), 5000):
            session.execute(table.insert(), rows[i:i + 5000])


def _write_day_summaries(session: so.Session, days: set[date]) -> None:
    """Recount these days' sessions by start hour, zone and kind, and each
    tenant's figures by zone and kind, from the booking-day rollup."""
    days_list = sorted(days)
    for i in range(0, len(days_list), 200):
        part = days_list[i:i + 200]
        session.execute(sa.delete(T).where(T.c.day.in_(part)))
        session.execute(T.insert().from_select(
            ["day", "tenant_id", "zone", "kind", *FACT_FIELDS],
            sa.select(B.c.day, B.c.tenant_id, Room.zone, Room.kind, *[_sum(B.c[f]) for f in FACT_FIELDS])
            .join(Room.__table__, Room.id == B.c.room_id)
            .where(B.c.day.in_(part))
            .group_by(B.c.day, B.c.tenant_id, Room.zone, Room.kind)))
        session.execute(sa.delete(H).where(H.c.day.in_(part)))
        session.execute(H.insert().from_select(
            ["day", "hour", "zone", "kind", *COUNT_FIELDS],
            sa.select(B.c.day, B.c.start_hour, Room.zone, Room.kind, *[_sum(B.c[f]) for f in COUNT_FIELDS])
            .join(Room.__table__, Room.id == B.c.room_id)
            .where(B.c.day.in_(part), B.c.starts_here == 1)
            .group_by(B.c.day, B.c.start_hour, Room.zone, Room.kind)))


def _update_sales(session: so.Session, booking_ids: set[int]) -> set[date]:
    """Recount these bookings' orders and sales on their start days, and their
    room-days' totals: four statements per 500 bookings (the room-days named
    in one statement, not one prepared statement a pair: see `_write`)."""
    ids = sorted(booking_ids)
    days: set[date] = set()
    sold = sa.and_(Order.booking_id == B.c.booking_id, Order.status.in_(SOLD_STATUSES))
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        session.execute(sa.update(B).where(B.c.booking_id.in_(part), B.c.starts_here == 1).values(
            orders=sa.select(sa.func.count()).select_from(Order).where(sold).scalar_subquery(),
            gmv_fen=sa.select(_sum(Order.amount_fen)).where(sold).scalar_subquery()))
        # The room-day totals are the sums of their sessions' rows.
        pairs = session.execute(sa.select(B.c.room_id, B.c.day).distinct().where(
            B.c.booking_id.in_(part), B.c.starts_here == 1)).all()
        if not pairs:
            continue
        days |= {day for _, day in pairs}
        here = sa.and_(B.c.room_id == A.c.room_id, B.c.day == A.c.day)
        session.execute(sa.update(A).where(sa.tuple_(A.c.room_id, A.c.day).in_([tuple(p) for p in pairs]))
                        .values(orders=sa.select(_sum(B.c.orders)).where(here).scalar_subquery(),
                                gmv_fen=sa.select(_sum(B.c.gmv_fen)).where(here).scalar_subquery()))
    return days


def _lock(session: so.Session) -> None:
    if is_postgres(session):
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


# What one refresh transaction may do: SQLite has one write lock, and every
# other writer (a booking, a check-in) waits while a refresh holds it. A room-day
# costs ≈ 0.4 ms to compute and write there, so a transaction holds it ≈ 0.1 s.
ROOM_DAYS_PER_TRANSACTION = 250
BOOKINGS_PER_TRANSACTION = 2000
STEP_PAUSE_MAX = 0.1  # seconds; see `refresh`

Span = tuple[date, date]  # park-local days, both inclusive
_ALL: Span = (date.min, date.max)


def _merge(spans) -> list[Span]:
    out: list[Span] = []
    for lo, hi in sorted(spans):
        if out and (lo - out[-1][1]).days <= 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _clip(spans: list[Span], to: Span) -> list[Span]:
    return [(max(lo, to[0]), min(hi, to[1])) for lo, hi in spans if lo <= to[1] and hi >= to[0]]


def _minus(spans: list[Span], cut: Span) -> list[Span]:
    out: list[Span] = []
    for lo, hi in spans:
        if hi < cut[0] or lo > cut[1]:
            out.append((lo, hi))
            continue
        if lo < cut[0]:
            out.append((lo, cut[0] - timedelta(days=1)))
        if hi > cut[1]:
            out.append((cut[1] + timedelta(days=1), hi))
    return out


def _runs(days) -> list[Span]:
    return _merge((d, d) for d in days)


def keep_window() -> Span:
    """The days the scheduler keeps computed (REPORT_KEEP_DAYS_BACK/AHEAD of today)."""
    cfg = current_app.config
    today = _local_date(clock.now(), park_tz())
    return (today - timedelta(days=cfg["REPORT_KEEP_DAYS_BACK"]), today + timedelta(days=cfg["REPORT_KEEP_DAYS_AHEAD"]))


def _mark_of(room_id: int, span: Span, tz, checkin_before: timedelta) -> dict:
    """A `report_dirty` row that expands (in `refresh_step`) to exactly these days of the room."""
    return {"room_id": room_id, "booking_id": None,
            "starts_at": local_days(span[0], span[0], tz).start + checkin_before,
            "ends_at": local_days(span[1], span[1], tz).end}


_MARK_COLUMNS = (report_dirty.c.room_id, report_dirty.c.booking_id, report_dirty.c.starts_at, report_dirty.c.ends_at)


def _marks(rows) -> tuple[dict[int, list[Span]], set[int]]:
    """Change marks as each room's changed days (merged spans) and the bookings whose sales changed."""
    tz, cfg = park_tz(), settings()
    spans: dict[int, list[Span]] = defaultdict(list)
    sales: set[int] = set()
    for d in rows:
        if d.room_id is None:
            if d.booking_id is not None:
                sales.add(d.booking_id)
        elif d.starts_at is None:  # the whole room: new, or its hours or capacity changed
            spans[d.room_id].append(_ALL)
        else:
            lo = _local_date(d.starts_at - cfg["checkin_before"], tz)
            hi = _local_date(max(d.ends_at, d.starts_at + timedelta(microseconds=1)) - timedelta(microseconds=1), tz)
            spans[d.room_id].append((lo, hi))
    return {rid: _merge(s) for rid, s in spans.items()}, sales


@dataclass
class Progress:
    written: int  # room-days recomputed by this transaction
    left: int  # room-days (and bookings' sales) of what was asked still to do


def refresh_step(session: so.Session, first: date | None = None, last: date | None = None, *,
                 budget: int | None = None) -> Progress:
    """One bounded step of keeping the rollups in step; the caller commits.

    Takes every change mark (`report_dirty`) and sorts the room-days it names
    that are covered (`report_days`) by where they lie:
    - in the asked days [first, last] (without them, the kept window): recomputed,
      at most `budget` room-days now, the rest put back as marks;
    - elsewhere in the kept window: put back as marks for the scheduler;
    - anywhere else (a far range some report once read): those days are
      forgotten (no longer covered), so a report reading them again recomputes them.
    With room left in the budget, days of [first, last] not covered yet are
    computed for every room (at least one day). Bookings' sales are recounted,
    `BOOKINGS_PER_TRANSACTION` at most. So a room made dirty as a whole (new, or
    its hours changed) costs a read at most its asked days, in bounded steps."""
    budget = budget or ROOM_DAYS_PER_TRANSACTION
    _lock(session)
    tz, cfg = park_tz(), settings()
    keep = keep_window()
    asked: Span | None = (first, last) if first and last else None
    zone = asked or keep
    spans, sales = _marks(session.execute(sa.delete(report_dirty).returning(*_MARK_COLUMNS)).all())
    # Far days: forget them (a cheap delete of a few day ranges, whatever the rooms).
    far = _merge(s for rid_spans in spans.values() for s in _minus(_minus(rid_spans, zone), keep))
    if far:
        session.execute(sa.delete(report_days).where(report_days.c.day >= sa.bindparam("f_lo"),
                                                     report_days.c.day <= sa.bindparam("f_hi")),
                        [{"f_lo": lo, "f_hi": hi} for lo, hi in far])
    requeue: dict[int, list[Span]] = {rid: _clip(_minus(s, zone), keep) for rid, s in spans.items()}
    here = {rid: _clip(s, zone) for rid, s in spans.items()}
    covered: set[date] = set()
    if asked or any(here.values()):
        covered = set(session.scalars(sa.select(report_days.c.day).where(
            report_days.c.day >= zone[0], report_days.c.day <= zone[1])))
    todo = sorted((day, rid) for rid, s in here.items() for lo, hi in s
                  for day in util.days_of(lo, hi) if day in covered)
    targets: dict[int, set[date]] = defaultdict(set)
    for day, rid in todo[:budget]:
        targets[rid].add(day)
    later: dict[int, list[date]] = defaultdict(list)
    for day, rid in todo[budget:]:
        later[rid].append(day)
    for rid, days in later.items():
        requeue[rid] = requeue.get(rid, []) + _runs(days)
    missing = [d for d in util.days_of(*asked) if d not in covered] if asked else []
    fill: list[date] = []
    room_ids: list[int] = []
    if missing:
        room_ids = list(session.scalars(sa.select(Room.id)))
        space = budget - min(len(todo), budget)
        fill = missing[:max(space // max(len(room_ids), 1), 0 if todo else 1)]
        for rid in room_ids:
            targets[rid] |= set(fill)
    targets = {rid: days for rid, days in targets.items() if days}
    if targets:
        _write(session, targets)
    if fill:
        session.execute(report_days.insert(), [{"day": d} for d in fill])
    touched = set().union(*targets.values()) if targets else set()
    chosen = sorted(sales)[:BOOKINGS_PER_TRANSACTION]
    if chosen:
        touched |= _update_sales(session, set(chosen))
    if touched:
        _write_day_summaries(session, touched)
    back = [_mark_of(rid, s, tz, cfg["checkin_before"]) for rid, ss in requeue.items() for s in _merge(ss)]
    back += [{"room_id": None, "booking_id": bid, "starts_at": None, "ends_at": None}
             for bid in sorted(sales)[BOOKINGS_PER_TRANSACTION:]]
    if back:
        session.execute(report_dirty.insert(), back)
    left = (len(todo) - min(len(todo), budget) + (len(missing) - len(fill)) * len(room_ids)
            + max(len(sales) - BOOKINGS_PER_TRANSACTION, 0))
    return Progress(written=sum(len(v) for v in targets.values()), left=left)


def needs_refresh(session: so.Session, first: date, last: date) -> bool:
    """Whether a report over [first, last] must refresh first (reads only): a day
    not covered, sales to recount, or a change within or far from these days.
    Changes only elsewhere in the kept window are the scheduler's."""
    spans, sales = _marks(session.execute(sa.select(*_MARK_COLUMNS)).all())
    keep = keep_window()
    if sales or any(_clip(ss, (first, last)) or _minus(_minus(ss, (first, last)), keep) for ss in spans.values()):
        return True
    covered = session.scalar(sa.select(sa.func.count()).select_from(report_days)
                             .where(report_days.c.day >= first, report_days.c.day <= last))
    return covered < (last - first).days + 1


def refresh(session: so.Session, first: date | None = None, last: date | None = None, *,
            pause: bool = False) -> int:
    """Bring the rollups up to date for [first, last] (without them: what
    changed in the kept window) in steps of one short transaction each
    (`refresh_step`); commits. Returns the room-days written. `pause`: leave
    the write lock free between steps (`_pause`), when other writers may wait."""
    written = steps = 0
    cap = None
    while True:
        began = time_module.monotonic()
        with intent(write=True):
            try:
                progress = refresh_step(session, first, last)
                session.commit()
            except Exception:
                session.rollback()
                raise
        written += progress.written
        steps += 1
        if cap is None:  # every step computes a day or a budget's worth; more comes only from concurrent
            days = (last - first).days + 1 if first and last else 0  # writes: stop them from keeping it busy
            cap = 2 * (days + 2 + progress.left // ROOM_DAYS_PER_TRANSACTION)
        if not progress.left or steps >= cap:
            return written
        if pause:
            _pause(session, began)


def prepare(session: so.Session, first: date, last: date) -> None:
    """Bring the rollups up to date for [first, last] before a report reads
    them, in short write transactions of their own (each step recomputes a
    bounded number of room-days, so other writers never wait long for SQLite's
    write lock); a no-op (read only) when nothing changed. Changes outside the
    range are left to the scheduler."""
    if not needs_refresh(session, first, last):
        return
    session.commit()  # end the read transaction: each step takes the write lock afresh
    refresh(session, first, last, pause=True)


def _pause(session: so.Session, began: float) -> None:
    """Between two refresh steps on SQLite: its busy handler is not fair (a writer
    waiting for the lock retries every 100 ms), so back-to-back steps would starve
    every other writer. Leave the lock free as long as the step held it (at most
    those 100 ms). PostgreSQL locks rows, not the database: no pause."""
    if not is_postgres(session):
        time_module.sleep(min(time_module.monotonic() - began, STEP_PAUSE_MAX))


def refresh_job(session: so.Session, *, days_per_run: int = 7, steps: int = 40) -> dict[str, int]:
    """For the scheduler: recompute what changed within the kept window (the
    configured days back and ahead), forget far days that changed, and extend
    the computed range by a few days per run, nearest to today first. Every
    step is a transaction of its own and at most `steps` run, so no run holds
    the write lock for long; what is left waits for the next run. Commits."""
    window = keep_window()
    written = 0
    for _ in range(steps):
        began = time_module.monotonic()
        progress = refresh_step(session)
        session.commit()
        written += progress.written
        if not progress.left:
            break
        _pause(session, began)
    today = _local_date(clock.now(), park_tz())
    covered = set(session.scalars(sa.select(report_days.c.day).where(report_days.c.day >= window[0])))
    missing = sorted((d for d in util.days_of(*window) if d not in covered),
                     key=lambda d: abs((d - today).days))[:days_per_run]
    for day in missing:
        began = time_module.monotonic()
        written += refresh_step(session, day, day).written
        session.commit()
        _pause(session, began)
    return {"room_days": written}


# ---------------------------------------------------------------------------
# Reading


@dataclass
class Query:
    first: date
    last: date
    group_by: str = "room"
    zone: str | None = None
    kind: str | None = None
    tenant_id: int | None = None


def validate(session: so.Session, first: date | None, last: date | None, group_by: str | None = "room", *,
             zone: str | None = None, kind: str | None = None, tenant_id: int | None = None) -> Query:
    """A report's parameters, or a 422 naming every bad one."""
    errors = []
    if first is None:
        errors.append({"field": "from", "message": _l("This field is required.")})
    if last is None:
        errors.append({"field": "to", "message": _l("This field is required.")})
    if first and last:
        if first > last:
            errors.append({"field": "from", "message": _l("The first day must not be after the last day.")})
        elif (last - first).days + 1 > settings()["max_days"]:
            errors.append({"field": "to", "message": _l("A report covers at most %(n)s days.", n=settings()["max_days"])})
    for name, value in (("from", first), ("to", last)):
        if value and not YEARS[0] <= value.year <= YEARS[1]:
            errors.append({"field": name, "message": _l("The year must be between %(lo)s and %(hi)s.",
                                                        lo=YEARS[0], hi=YEARS[1])})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    for name, value in (("zone", zone), ("kind", kind)):
        if value and ("\x00" in value or len(value) > 50):  # no column holds it (and PostgreSQL refuses NUL)
            errors.append({"field": name, "message": _l("No room is in this zone.") if name == "zone"
                           else _l("No room is of this kind.")})
            zone, kind = (None, kind) if name == "zone" else (zone, None)
    group_by = group_by or "room"
    if group_by not in GROUPS:
        errors.append({"field": "group_by", "message": _l("Must be one of: %(choices)s.", choices=", ".join(GROUPS))})
    if zone and session.scalar(sa.select(Room.id).where(Room.zone == zone).limit(1)) is None:
        errors.append({"field": "zone", "message": _l("No room is in this zone.")})
    if kind and session.scalar(sa.select(Room.id).where(Room.kind == kind).limit(1)) is None:
        errors.append({"field": "kind", "message": _l("No room is of this kind.")})
    if tenant_id is not None and session.get(Tenant, tenant_id) is None:
        errors.append({"field": "tenant_id", "message": _l("No such tenant.")})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    return Query(first, last, group_by, zone or None, kind or None, tenant_id)


def _rooms_filter(q: Query, room_col):
    conds = []
    if q.zone:
        conds.append(room_col.in_(sa.select(Room.id).where(Room.zone == q.zone)))
    if q.kind:
        conds.append(room_col.in_(sa.select(Room.id).where(Room.kind == q.kind)))
    return conds


def _sum(col):
    return sa.func.coalesce(sa.func.sum(col), 0)


MINUTE_FIELDS = ("bookable", "booked", "prime_bookable", "prime_booked", "used")
COUNT_FIELDS = ("sessions", "no_shows", "cancellations", "late_cancellations", "orders", "gmv_fen", "capacity")
FACT_FIELDS = COUNT_FIELDS + ("booked", "prime_booked", "used")


def _group_col(q: Query, table) -> Any:
    """The SQL expression a table is grouped by (zone and kind join the rooms)."""
    g = q.group_by
    if g == "room":
        return table.c.room_id
    if g in ("zone", "kind"):
        return getattr(Room, g)
    if g in ("day", "week"):
        return table.c.day
    return None


def _aggregate(session: so.Session, q: Query, table, fields, *, group=None, where=(), join_anchor=False) -> dict:
    """Sums of `fields` over the selection, per group key (None: one total)."""
    cols = [_sum(table.c[f]).label(f) for f in fields]
    stmt = sa.select(*([group.label("k")] if group is not None else []), *cols).select_from(table)
    if join_anchor:
        stmt = stmt.join(Assignment.__table__, Assignment.booking_id == table.c.booking_id)
    if group is not None and getattr(group, "table", None) is Room.__table__:
        stmt = stmt.join(Room.__table__, Room.id == table.c.room_id)
    stmt = stmt.where(table.c.day >= q.first, table.c.day <= q.last, *_rooms_filter(q, table.c.room_id), *where)
    if group is not None:
        stmt = stmt.group_by(group)
    out = {}
    for r in session.execute(stmt):
        m = r._mapping
        out[m["k"] if group is not None else None] = {f: m[f] for f in fields}
    return out


def _add_up(parts) -> dict:
    total: dict = {}
    for part in parts:
        for name, value in part.items():
            total[name] = total.get(name, 0) + (value or 0)
    return total


def _turned(session: so.Session, q: Query, group) -> dict:
    conds = [TurnedAway.day >= q.first, TurnedAway.day <= q.last]
    if q.zone:
        conds.append(TurnedAway.zone == q.zone)
    if q.kind:
        conds.append(TurnedAway.kind == q.kind)
    if q.tenant_id is not None:
        conds.append(TurnedAway.tenant_id == q.tenant_id)
    if group is None:
        return {None: session.scalar(sa.select(sa.func.count()).select_from(TurnedAway).where(*conds))}
    return dict(session.execute(sa.select(group, sa.func.count()).where(*conds).group_by(group)).all())


def _minutes(seconds) -> float | int | None:
    if seconds is None:
        return None
    value = round(seconds / 60, 2)
    return int(value) if float(value).is_integer() else value


def _row(key, label, m: dict | None, f: dict | None, turned: int | None) -> dict:
    """One report row from summed seconds (m: room-days, f: booking-days)."""
    m = m or {}
    f = f or {}
    bookable, prime_bookable = m.get("bookable"), m.get("prime_bookable")
    booked = m["booked"] if "booked" in m else f.get("booked", 0)
    prime_booked = m["prime_booked"] if "prime_booked" in m else f.get("prime_booked", 0)
    used = m["used"] if "used" in m else f.get("used", 0)
    sessions, orders, gmv = int(f.get("sessions", 0)), int(f.get("orders", 0)), int(f.get("gmv_fen", 0))
    capacity = float(f.get("capacity", 0) or 0)
    return {
        "key": key, "label": label,
        "bookable_minutes": _minutes(bookable), "booked_minutes": _minutes(booked),
        "utilization": util.ratio(booked, bookable) if bookable is not None else None,
        "prime_bookable_minutes": _minutes(prime_bookable), "prime_booked_minutes": _minutes(prime_booked),
        "prime_utilization": util.ratio(prime_booked, prime_bookable) if prime_bookable is not None else None,
        "used_minutes": _minutes(used),
        "bookings": sessions, "no_shows": int(f.get("no_shows", 0)),
        "no_show_rate": util.ratio(int(f.get("no_shows", 0)), sessions),
        "cancellations": int(f.get("cancellations", 0)), "late_cancellations": int(f.get("late_cancellations", 0)),
        "orders": orders, "gmv": format_money(gmv),
        "gmv_per_booked_hour": format_money(round(gmv * 3600 / booked)) if booked else None,
        "capacity_load": util.ratio(orders, capacity) if capacity else None,
        "turned_away": turned,
    }


def _week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def utilization(session: so.Session, user, q: Query) -> dict:
    """The utilization report of DESIGN.md §4 grouped by `q.group_by`:
    {"rows": [...], "total": {...}}; rows by tenant or anchor have no bookable time.

    Without a tenant filter everything but tenant and anchor rows comes from
    the room-day rollup (one row per room and day); a tenant filter takes that
    tenant's sessions from the booking-day rollup, against the rooms' time."""
    require(user, "reports.read")
    prepare(session, q.first, q.last)
    by_tenant = q.tenant_id is not None
    tenant_where = [B.c.tenant_id == q.tenant_id] if by_tenant else []
    m_fields = ("bookable", "prime_bookable") if by_tenant else MINUTE_FIELDS + COUNT_FIELDS
    g = q.group_by
    rows: list[dict] = []
    total_m = total_f = None
    if g == "hour":
        rows = _hour_rows(session, q, tenant_where)
    elif g in ("tenant", "anchor"):
        if g == "tenant":
            stmt = sa.select(T.c.tenant_id.label("k"), *[_sum(T.c[f]).label(f) for f in FACT_FIELDS]).where(
                T.c.day >= q.first, T.c.day <= q.last, *([T.c.zone == q.zone] if q.zone else []),
                *([T.c.kind == q.kind] if q.kind else []),
                *([T.c.tenant_id == q.tenant_id] if by_tenant else [])).group_by(T.c.tenant_id)
            facts = {r.k: {f: r._mapping[f] for f in FACT_FIELDS} for r in session.execute(stmt)}
        else:
            facts = _aggregate(session, q, B, FACT_FIELDS, group=Assignment.anchor_id, where=tenant_where,
                               join_anchor=True)
        turned = _turned(session, q, TurnedAway.tenant_id) if g == "tenant" else {}
        model = Tenant if g == "tenant" else Anchor
        names = dict(session.execute(sa.select(model.id, model.name).where(model.id.in_(list(facts)))).all())
        for key, f in facts.items():
            rows.append(_row(key, names.get(key, ""), None, f, turned.get(key, 0) if g == "tenant" else None))
        rows.sort(key=lambda r: (-int(r["gmv"].replace(".", "")), -(r["booked_minutes"] or 0), r["key"]))
        if g == "tenant" and not by_tenant:
            total_f = _add_up(facts.values())  # every session has one tenant
    else:
        mins = _aggregate(session, q, A, m_fields, group=_group_col(q, A))
        facts = _aggregate(session, q, B, FACT_FIELDS, group=_group_col(q, B), where=tenant_where) \
            if by_tenant else mins
        t_group = {"room": TurnedAway.room_id, "zone": TurnedAway.zone, "kind": TurnedAway.kind,
                   "day": TurnedAway.day, "week": TurnedAway.day}[g]
        turned = _turned(session, q, t_group)
        if g == "week":
            rows = _week_rows(q, mins, facts, turned)
        else:
            for lookup, key, label in _keys(session, q):
                rows.append(_row(key, label, mins.get(lookup), facts.get(lookup), turned.get(lookup, 0)))
        # These groups split the selection into parts, so the total is their sum.
        total_m, total_f = _add_up(mins.values()), _add_up(facts.values())
    if total_m is None:
        total_m = _aggregate(session, q, A, m_fields)[None]
    if total_f is None:
        total_f = _aggregate(session, q, B, FACT_FIELDS, where=tenant_where)[None] if by_tenant else total_m
    total = _row(None, "", {f: total_m.get(f, 0) for f in MINUTE_FIELDS if f in m_fields}, total_f,
                 _turned(session, q, None)[None])
    return {"group_by": g, "from": q.first.isoformat(), "to": q.last.isoformat(), "rows": rows, "total": total}


def _keys(session: so.Session, q: Query) -> list[tuple[Any, Any, str]]:
    """(lookup, key, label) of every key a grouping has in the selection, so idle
    rooms and days show as 0. A room's key is its code."""
    rooms = sa.select(Room).order_by(Room.code)
    if q.zone:
        rooms = rooms.where(Room.zone == q.zone)
    if q.kind:
        rooms = rooms.where(Room.kind == q.kind)
    if q.group_by == "room":
        return [(r.id, r.code, r.name) for r in session.scalars(rooms)]
    if q.group_by in ("zone", "kind"):
        values = sorted({getattr(r, q.group_by) for r in session.scalars(rooms)})
        return [(v, v, v) for v in values]
    return [(d, d.isoformat(), d.isoformat()) for d in util.days_of(q.first, q.last)]


def _week_rows(q: Query, mins: dict, facts: dict, turned: dict) -> list[dict]:
    weeks: dict[str, tuple[dict, dict, int]] = {}
    for day in util.days_of(q.first, q.last):
        k = _week_key(day)
        m, f, t = weeks.setdefault(k, ({}, {}, 0))
        for src, dst in ((mins.get(day, {}), m), (facts.get(day, {}), f)):
            for name, value in src.items():
                dst[name] = dst.get(name, 0) + (value or 0)
        weeks[k] = (m, f, t + turned.get(day, 0))
    return [_row(k, k, m or None, f or None, t) for k, (m, f, t) in weeks.items()]


def _hour_rows(session: so.Session, q: Query, tenant_where) -> list[dict]:
    a_cols = [f"bookable_h{h:02d}" for h in HOURS]
    b_cols = [f"booked_h{h:02d}" for h in HOURS]
    bookable = _aggregate(session, q, A, a_cols + ([] if tenant_where else b_cols))[None]
    # Counts by the hour sessions start (from the booking-day rollup's start rows).
    booked = bookable if not tenant_where else _aggregate(session, q, B, b_cols, where=tenant_where)[None]
    if tenant_where:
        facts = _aggregate(session, q, B, COUNT_FIELDS, group=B.c.start_hour,
                           where=[B.c.starts_here == 1, *tenant_where])
    else:
        stmt = sa.select(H.c.hour, *[_sum(H.c[f]).label(f) for f in COUNT_FIELDS]).where(
            H.c.day >= q.first, H.c.day <= q.last, *([H.c.zone == q.zone] if q.zone else []),
            *([H.c.kind == q.kind] if q.kind else [])).group_by(H.c.hour)
        facts = {r.hour: {f: r._mapping[f] for f in COUNT_FIELDS} for r in session.execute(stmt)}
    turned = _turned(session, q, TurnedAway.hour)
    rows = []
    for h in HOURS:
        m = {"bookable": bookable[f"bookable_h{h:02d}"], "booked": booked[f"booked_h{h:02d}"],
             "prime_bookable": None, "prime_booked": None, "used": None}
        row = _row(h, f"{h:02d}:00", m, facts.get(h), turned.get(h, 0))
        rows.append(row)
    return rows


def heatmap(session: so.Session, user, q: Query) -> dict:
    """Utilization per weekday (0 = Monday) × park-local hour of day: booked ÷ bookable."""
    require(user, "reports.read")
    prepare(session, q.first, q.last)
    a_cols = [f"bookable_h{h:02d}" for h in HOURS]
    b_cols = [f"booked_h{h:02d}" for h in HOURS]
    tenant_where = [B.c.tenant_id == q.tenant_id] if q.tenant_id is not None else []
    bookable = _aggregate(session, q, A, a_cols + ([] if tenant_where else b_cols), group=A.c.weekday)
    booked = bookable if not tenant_where else _aggregate(session, q, B, b_cols, group=B.c.weekday, where=tenant_where)
    cells = []
    for wd in range(7):
        for h in HOURS:
            whole = (bookable.get(wd) or {}).get(f"bookable_h{h:02d}", 0)
            part = (booked.get(wd) or {}).get(f"booked_h{h:02d}", 0)
            cells.append({"weekday": wd, "hour": h, "utilization": util.ratio(part, whole)})
    return {"cells": cells}


# ---------------------------------------------------------------------------
# From scratch: one day of the whole park (the managers' morning summary)


def scratch_totals(session: so.Session, first: date, last: date, *, room_ids: list[int] | None = None) -> dict:
    """The park's figures over [first, last] computed directly from bookings,
    blackouts and orders (no rollups). Reads only; cost grows with the range."""
    ids = room_ids if room_ids is not None else list(session.scalars(sa.select(Room.id)))
    days = set(util.days_of(first, last))
    room_rows, booking_rows = compute_rows(session, {rid: days for rid in ids})
    out = {"bookable": sum(r["bookable"] for r in room_rows), "booked": sum(r["booked"] for r in room_rows),
           "prime_bookable": sum(r["prime_bookable"] for r in room_rows),
           "prime_booked": sum(r["prime_booked"] for r in room_rows), "used": sum(r["used"] for r in room_rows)}
    for name in ("sessions", "no_shows", "cancellations", "late_cancellations", "orders", "gmv_fen"):
        out[name] = sum(r[name] for r in booking_rows)
    out["rooms"] = room_rows
    out["bookings_rows"] = booking_rows
    return out


def day_figures(session: so.Session, day: date) -> dict:
    """One park-local day over the whole park, computed from scratch:
    bookable_minutes, booked_minutes, utilization (None when nothing was
    bookable), bookings (confirmed, live, ended, no-show sessions starting that
    day), no_shows, cancellations, orders and gmv_fen of those sessions."""
    t = scratch_totals(session, day, day)
    return {
        "bookable_minutes": t["bookable"] // 60, "booked_minutes": t["booked"] // 60,
        "utilization": util.ratio(t["booked"], t["bookable"]),
        "bookings": t["sessions"], "no_shows": t["no_shows"], "cancellations": t["cancellations"],
        "orders": t["orders"], "gmv_fen": t["gmv_fen"],
    }


# ---------------------------------------------------------------------------
# Turned-away demand


def record_turned_away(session: so.Session, user, room: Room, windows: list[Interval],
                       tenant_id: int | None = None) -> None:
    """Remember that `user` wanted `room` over `windows` and was refused.

    The refusal rolls back whatever the request did, so this ends the
    session's transaction first and writes in a short one of its own; a retry
    of the same window by the same user only counts another attempt (upsert
    on the unique key, safe under concurrency). A failure here never hides
    the 409 it accompanies."""
    if user is None or getattr(user, "id", None) is None or not windows:
        return
    tz, now = park_tz(), clock.now()
    user_id, room_id, zone, kind = user.id, room.id, room.zone, room.kind
    session.rollback()
    seen, values = set(), []
    for w in windows:
        start, end = to_utc(w.start), to_utc(w.end)
        if (start, end) in seen or end <= start:
            continue
        seen.add((start, end))
        local = start.astimezone(tz)
        values.append({"user_id": user_id, "room_id": room_id, "tenant_id": tenant_id, "zone": zone, "kind": kind,
                       "starts_at": start, "ends_at": end, "day": local.date(), "weekday": local.weekday(),
                       "hour": local.hour, "minutes": int((end - start).total_seconds() // 60),
                       "attempts": 1, "first_at": now, "last_at": now})
    if not values:
        return
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(TurnedAway).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id", "starts_at", "ends_at"],
        set_={"attempts": TurnedAway.attempts + 1, "last_at": stmt.excluded.last_at})
    try:
        session.execute(stmt)
        session.commit()
    except sa.exc.SQLAlchemyError:
        session.rollback()
        current_app.logger.exception("could not record turned-away demand")


# ---------------------------------------------------------------------------
# Exports


def columns() -> list[tuple[str, Any]]:
    """(field, heading) of an export, in order."""
    return [
        ("key", _l("Key")), ("label", _l("Name")), ("bookable_minutes", _l("Bookable minutes")),
        ("booked_minutes", _l("Booked minutes")), ("utilization", _l("Utilization")),
        ("prime_bookable_minutes", _l("Prime bookable minutes")), ("prime_booked_minutes", _l("Prime booked minutes")),
        ("prime_utilization", _l("Prime-time utilization")), ("used_minutes", _l("Used minutes")),
        ("bookings", _l("Bookings")), ("no_shows", _l("No-shows")), ("no_show_rate", _l("No-show rate")),
        ("cancellations", _l("Cancellations")), ("late_cancellations", _l("Late cancellations")),
        ("orders", _l("Orders")), ("gmv", _l("GMV (CNY)")), ("gmv_per_booked_hour", _l("GMV per booked hour")),
        ("capacity_load", _l("Capacity load")), ("turned_away", _l("Turned away")),
    ]


def _cells(report: dict) -> list[list[Any]]:
    cols = columns()
    out = [[str(heading) for _, heading in cols]]
    for row in report["rows"] + [{**report["total"], "key": str(_l("Total"))}]:
        line = []
        for name, _ in cols:
            value = row.get(name)
            if isinstance(value, (date, datetime)):
                value = value.isoformat()
            elif name in ("gmv", "gmv_per_booked_hour") and value is not None:
                value = float(value)
            elif isinstance(value, float):
                value = round(value, 4)
            line.append(safe_cell(value))
        out.append(line)
    return out


def to_csv(report: dict) -> bytes:
    """UTF-8 with a BOM, so that Excel reads Chinese correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for line in _cells(report):
        writer.writerow(["" if v is None else v for v in line])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook()
    ws = wb.active
    ws.title = report.get("group_by", "report")[:31]
    for line in _cells(report):
        # Control characters (which a zone or a name may hold) cannot be stored in XLSX: drop them, never a 500.
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in line])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_name(report: dict, fmt: str) -> str:
    return f"utilization_{report['group_by']}_{report['from']}_{report['to']}.{fmt}"
