"""Managers' reports: the rollups and how they are computed.

Definitions (docs/domain.md, Utilization) live in domain/utilization.py. This module keeps two
rollups in step and aggregates them in SQL:

- `report_room_days`: each room's figures per park-local day (and per hour of day);
- `report_booking_days`: each booking's share of them per day, with its counts
  and sales on the day it starts (for tenants, anchors and the tenant filter).

Database triggers (migration 0004) write every change of bookings, blackouts,
orders and room hours to `report_dirty`; before a report reads, `prepare`
recomputes what is dirty within its days and any of its days not yet covered,
so a report always equals a computation from scratch
(tests/services/reporting/test_reports_rollups.py proves it). It does so in short transactions of
at most ROOM_DAYS_PER_TRANSACTION room-days (SQLite has one write lock), and
leaves changes elsewhere to the scheduler (`refresh_job`), which keeps the
configured window computed ahead of time, so a report usually only reads
(tests/services/reporting/test_reports_bounded.py).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom.db import is_postgres
from opsroom.domain import utilization as util
from opsroom.domain.booking_rules import LONGEST_OCCUPANCY
from opsroom.domain.hours import local_days
from opsroom.domain.intervals import Interval, to_utc
from opsroom.settings import settings_of
from opsroom.models import (
    Blackout, Booking, Order, Room,
)
from opsroom.domain.statuses import COUNTED_STATUSES, SOLD_STATUSES
from opsroom.models import report_booking_days, report_room_days, report_start_hours, report_tenant_days


# Years a report may name: converting the far edges of the calendar to UTC overflows.
YEARS = (1900, 9000)


_LOCK_KEY = 80080008  # PostgreSQL advisory lock: one rollup refresh at a time


_CHUNK_DAYS = 31
HOURS = range(24)
MINUTE_FIELDS = ("bookable", "booked", "prime_bookable", "prime_booked", "used")
COUNT_FIELDS = ("sessions", "no_shows", "cancellations", "late_cancellations", "orders", "gmv_fen", "capacity")
FACT_FIELDS = COUNT_FIELDS + ("booked", "prime_booked", "used")

A, B, H, T = report_room_days, report_booking_days, report_start_hours, report_tenant_days


def sum_of(col):
    return sa.func.coalesce(sa.func.sum(col), 0)


def settings(session: so.Session) -> dict[str, Any]:
    """The report settings of this unit of work, in the units the rollups use."""
    s = settings_of(session)
    return {
        "prime": s.prime_hours,
        "late_notice": timedelta(hours=s.report_late_cancel_hours),
        "max_days": s.report_max_days,
        "checkin_before": timedelta(minutes=s.checkin_opens_minutes_before),
    }


def _chunks(days: list[date]) -> list[tuple[date, date]]:
    out: list[tuple[date, date]] = []
    for d in sorted(days):
        if out and (d - out[-1][0]).days < _CHUNK_DAYS:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def local_date(instant: datetime, tz) -> date:
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
    tz, cfg = settings_of(session).tz, settings(session)
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
            by_start[(b.room_id, local_date(b.starts_at, tz))].append(b)
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
                    starts_here = local_date(b.starts_at, tz) == day
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


def write_rollups(session: so.Session, targets: dict[int, set[date]]) -> None:
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


def write_day_summaries(session: so.Session, days: set[date]) -> None:
    """Recount these days' sessions by start hour, zone and kind, and each
    tenant's figures by zone and kind, from the booking-day rollup."""
    days_list = sorted(days)
    for i in range(0, len(days_list), 200):
        part = days_list[i:i + 200]
        session.execute(sa.delete(T).where(T.c.day.in_(part)))
        session.execute(T.insert().from_select(
            ["day", "tenant_id", "zone", "kind", *FACT_FIELDS],
            sa.select(B.c.day, B.c.tenant_id, Room.zone, Room.kind, *[sum_of(B.c[f]) for f in FACT_FIELDS])
            .join(Room.__table__, Room.id == B.c.room_id)
            .where(B.c.day.in_(part))
            .group_by(B.c.day, B.c.tenant_id, Room.zone, Room.kind)))
        session.execute(sa.delete(H).where(H.c.day.in_(part)))
        session.execute(H.insert().from_select(
            ["day", "hour", "zone", "kind", *COUNT_FIELDS],
            sa.select(B.c.day, B.c.start_hour, Room.zone, Room.kind, *[sum_of(B.c[f]) for f in COUNT_FIELDS])
            .join(Room.__table__, Room.id == B.c.room_id)
            .where(B.c.day.in_(part), B.c.starts_here == 1)
            .group_by(B.c.day, B.c.start_hour, Room.zone, Room.kind)))


def update_sales(session: so.Session, booking_ids: set[int]) -> set[date]:
    """Recount these bookings' orders and sales on their start days, and their
    room-days' totals: four statements per 500 bookings (the room-days named
    in one statement, not one prepared statement a pair: see `write_rollups`)."""
    ids = sorted(booking_ids)
    days: set[date] = set()
    sold = sa.and_(Order.booking_id == B.c.booking_id, Order.status.in_(SOLD_STATUSES))
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        session.execute(sa.update(B).where(B.c.booking_id.in_(part), B.c.starts_here == 1).values(
            orders=sa.select(sa.func.count()).select_from(Order).where(sold).scalar_subquery(),
            gmv_fen=sa.select(sum_of(Order.amount_fen)).where(sold).scalar_subquery()))
        # The room-day totals are the sums of their sessions' rows.
        pairs = session.execute(sa.select(B.c.room_id, B.c.day).distinct().where(
            B.c.booking_id.in_(part), B.c.starts_here == 1)).all()
        if not pairs:
            continue
        days |= {day for _, day in pairs}
        here = sa.and_(B.c.room_id == A.c.room_id, B.c.day == A.c.day)
        session.execute(sa.update(A).where(sa.tuple_(A.c.room_id, A.c.day).in_([tuple(p) for p in pairs]))
                        .values(orders=sa.select(sum_of(B.c.orders)).where(here).scalar_subquery(),
                                gmv_fen=sa.select(sum_of(B.c.gmv_fen)).where(here).scalar_subquery()))
    return days


def lock_refresh(session: so.Session) -> None:
    if is_postgres(session):
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
