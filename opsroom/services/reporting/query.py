"""Reading a report: validate the asked range and grouping, then aggregate the rollups in SQL
(utilization, used and prime time, sales, turned-away demand, the heatmap, day totals)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.domain import utilization as util
from opsroom.domain.money import format_money
from opsroom.models import (
    Anchor, Assignment, Room, Tenant, TurnedAway,
)
from opsroom.services.permissions import require
from opsroom.services.errors import ValidationFailed
from opsroom.services.reporting.refresh import prepare
from opsroom.services.reporting.rollups import (
    COUNT_FIELDS, FACT_FIELDS, HOURS, MINUTE_FIELDS, YEARS, compute_rows, settings, sum_of,
)
from opsroom.models import report_booking_days, report_room_days, report_start_hours, report_tenant_days

A, B, H, T = report_room_days, report_booking_days, report_start_hours, report_tenant_days


GROUPS = ("room", "zone", "kind", "day", "week", "hour", "tenant", "anchor")


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
        elif (last - first).days + 1 > settings(session)["max_days"]:
            errors.append({"field": "to", "message": _l("A report covers at most %(n)s days.", n=settings(session)["max_days"])})
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
    cols = [sum_of(table.c[f]).label(f) for f in fields]
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


def as_minutes(seconds) -> float | int | None:
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
        "bookable_minutes": as_minutes(bookable), "booked_minutes": as_minutes(booked),
        "utilization": util.ratio(booked, bookable) if bookable is not None else None,
        "prime_bookable_minutes": as_minutes(prime_bookable), "prime_booked_minutes": as_minutes(prime_booked),
        "prime_utilization": util.ratio(prime_booked, prime_bookable) if prime_bookable is not None else None,
        "used_minutes": as_minutes(used),
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


def own_query(user, q: Query) -> Query:
    """`q` as `user` may ask it: a tenant's account always asks for its own tenant
    (its bookings, its sales, the rooms' hours; never another tenant's figures)."""
    require(user, "reports.own")
    if user.role == "tenant":
        return replace(q, tenant_id=user.tenant_id)
    return q


def utilization(session: so.Session, user, q: Query) -> dict:
    """The utilization report of docs/domain.md grouped by `q.group_by`:
    {"rows": [...], "total": {...}}; rows by tenant or anchor have no bookable time.

    Without a tenant filter everything but tenant and anchor rows comes from
    the room-day rollup (one row per room and day); a tenant filter takes that
    tenant's sessions from the booking-day rollup, against the rooms' time.
    A tenant's account gets its own tenant's report whatever `q` names."""
    q = own_query(user, q)
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
            stmt = sa.select(T.c.tenant_id.label("k"), *[sum_of(T.c[f]).label(f) for f in FACT_FIELDS]).where(
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
        stmt = sa.select(H.c.hour, *[sum_of(H.c[f]).label(f) for f in COUNT_FIELDS]).where(
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
    """Utilization per weekday (0 = Monday) × park-local hour of day: booked ÷ bookable,
    with each cell's `open_share` (its bookable time ÷ the busiest cell's) and `few_open`
    when that share is under `FEW_OPEN_SHARE`: a night hour with two 24-hour rooms open
    is marked rather than shown as the park's busiest hour. A tenant's account: its own."""
    q = own_query(user, q)
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
            cells.append({"weekday": wd, "hour": h, "utilization": util.ratio(part, whole), "_bookable": whole})
    for cell, share in zip(cells, util.open_shares([c.pop("_bookable") for c in cells])):
        cell["open_share"] = share
        cell["few_open"] = share is not None and 0 < share < util.FEW_OPEN_SHARE
    return {"cells": cells, "few_open_share": util.FEW_OPEN_SHARE}


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
