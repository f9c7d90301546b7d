"""Keeping the rollups in step: what changed (`report_dirty`), recomputed in short
transactions before a report reads (`prepare`) and ahead of time by the scheduler
(`refresh_job`). Each step commits on its own: SQLite has one write lock, and a
report must not hold it for the whole refresh."""
from __future__ import annotations

import time as time_module
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import intent, is_postgres
from opsroom.domain import utilization as util
from opsroom.domain.hours import local_days
from opsroom.settings import settings_of
from opsroom.models import (
    report_days, report_dirty, Room,
)
from opsroom.services.reporting.rollups import (
    local_date, lock_refresh, settings, update_sales, write_day_summaries, write_rollups,
)


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


def keep_window(session: so.Session) -> Span:
    """The days the scheduler keeps computed (REPORT_KEEP_DAYS_BACK/AHEAD of today)."""
    s = settings_of(session)
    today = local_date(clock.now(), s.tz)
    return today - timedelta(days=s.report_keep_days_back), today + timedelta(days=s.report_keep_days_ahead)


def _mark_of(room_id: int, span: Span, tz, checkin_before: timedelta) -> dict:
    """A `report_dirty` row that expands (in `refresh_step`) to exactly these days of the room."""
    return {"room_id": room_id, "booking_id": None,
            "starts_at": local_days(span[0], span[0], tz).start + checkin_before,
            "ends_at": local_days(span[1], span[1], tz).end}


_MARK_COLUMNS = (report_dirty.c.room_id, report_dirty.c.booking_id, report_dirty.c.starts_at, report_dirty.c.ends_at)


def _marks(session: so.Session, rows) -> tuple[dict[int, list[Span]], set[int]]:
    """Change marks as each room's changed days (merged spans) and the bookings whose sales changed."""
    tz, cfg = settings_of(session).tz, settings(session)
    spans: dict[int, list[Span]] = defaultdict(list)
    sales: set[int] = set()
    for d in rows:
        if d.room_id is None:
            if d.booking_id is not None:
                sales.add(d.booking_id)
        elif d.starts_at is None:  # the whole room: new, or its hours or capacity changed
            spans[d.room_id].append(_ALL)
        else:
            lo = local_date(d.starts_at - cfg["checkin_before"], tz)
            hi = local_date(max(d.ends_at, d.starts_at + timedelta(microseconds=1)) - timedelta(microseconds=1), tz)
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
    lock_refresh(session)
    tz, cfg = settings_of(session).tz, settings(session)
    keep = keep_window(session)
    asked: Span | None = (first, last) if first and last else None
    zone = asked or keep
    spans, sales = _marks(session, session.execute(sa.delete(report_dirty).returning(*_MARK_COLUMNS)).all())
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
        write_rollups(session, targets)
    if fill:
        session.execute(report_days.insert(), [{"day": d} for d in fill])
    touched = set().union(*targets.values()) if targets else set()
    chosen = sorted(sales)[:BOOKINGS_PER_TRANSACTION]
    if chosen:
        touched |= update_sales(session, set(chosen))
    if touched:
        write_day_summaries(session, touched)
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
    spans, sales = _marks(session, session.execute(sa.select(*_MARK_COLUMNS)).all())
    keep = keep_window(session)
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
    the write lock for long; what is left waits for the next run."""
    window = keep_window(session)
    written = 0
    for _ in range(steps):
        began = time_module.monotonic()
        progress = refresh_step(session)
        session.commit()
        written += progress.written
        if not progress.left:
            break
        _pause(session, began)
    today = local_date(clock.now(), settings_of(session).tz)
    covered = set(session.scalars(sa.select(report_days.c.day).where(report_days.c.day >= window[0])))
    missing = sorted((d for d in util.days_of(*window) if d not in covered),
                     key=lambda d: abs((d - today).days))[:days_per_run]
    for day in missing:
        began = time_module.monotonic()
        written += refresh_step(session, day, day).written
        session.commit()
        _pause(session, began)
    return {"room_days": written}
