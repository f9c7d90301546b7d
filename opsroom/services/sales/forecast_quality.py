"""How good the forecast is, and where capacity will run short (the managers'
forecast page, docs/forecast.md).

- **Quality**: the backtest of `opsroom.domain.forecast_backtest` over the
  sessions that ended in the window: each forecast from what had ended before
  it started, scored (WAPE, share inside the range) against the tenant's last
  session and the tenant's mean; then forecast against actual per tenant and per
  room.
- **Capacity planning**: the booked sessions of the coming days whose p90 peak
  exceeds their room's hourly capacity, and the tenants who regularly sold more
  in a clock hour than their room can take.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.domain import forecast as fc
from opsroom.domain.forecast_backtest import Backtest, backtest
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.models import Assignment, Booking, Room, Tenant
from opsroom.services.permissions import require
from opsroom.services.sales.forecast import SESSION_STATUSES, summaries
from opsroom.settings import settings_of

# The quality page scores the sessions of the last SCORED_DAYS (at most the latest
# SCORED_LIMIT of them), each forecast from the sessions of the QUALITY_HISTORY_DAYS
# before the window, a tenant's latest KNOWN_PER_TENANT of them: a bounded backtest,
# so the page answers in seconds even at 200 rooms (docs/forecast.md).
SCORED_DAYS = 28
SCORED_LIMIT = 500
QUALITY_HISTORY_DAYS = 14
KNOWN_PER_TENANT = 120
# The capacity plan looks this many days ahead.
PLAN_DAYS = 7
# At most this many booked sessions (the soonest) are checked, each tenant, anchors, kind,
# weekday and start hour forecast once.
PLAN_LIMIT = 1500
# A tenant "regularly" outsells its room: at least this many sessions over the
# room's hourly capacity in the window, and at least this share of its sessions.
OUTSELL_MIN_SESSIONS = 3
OUTSELL_MIN_SHARE = 0.25


@dataclass(frozen=True)
class GroupQuality:
    key: int
    label: str
    sessions: int
    actual: float          # mean orders per hour
    forecast: float        # mean p50 orders per hour
    wape: float | None
    inside: float | None   # share with low ≤ actual ≤ p90


@dataclass(frozen=True)
class OverCapacity:
    booking_id: int
    starts_at: datetime
    ends_at: datetime
    room_code: str
    tenant_name: str
    peak_p90: float
    capacity: int
    peak_hour: int | None
    basis: str


@dataclass(frozen=True)
class Outseller:
    tenant_id: int
    tenant_name: str
    sessions: int
    over: int              # sessions whose peak clock hour sold more than the room's hourly capacity
    share: float
    rooms: str             # the rooms it outsold, by code


@dataclass(frozen=True)
class ForecastReport:
    backtest: Backtest | None
    per_tenant: list[GroupQuality]
    per_room: list[GroupQuality]
    over_capacity: list[OverCapacity]
    outsellers: list[Outseller]
    since: datetime
    until: datetime


def _group(rows, key_of, label_of) -> list[GroupQuality]:
    groups: dict[int, list] = defaultdict(list)
    for r in rows:
        groups[key_of(r)].append(r)
    out = []
    for key, members in groups.items():
        actual = sum(r.session.orders_per_hour for r in members)
        error = sum(abs(r.session.orders_per_hour - r.forecast.orders_per_hour.p50) for r in members)
        inside = sum(r.forecast.orders_per_hour.low <= r.session.orders_per_hour <= r.forecast.orders_per_hour.p90
                     for r in members)
        n = len(members)
        out.append(GroupQuality(key, label_of(key), n, actual / n,
                                sum(r.forecast.orders_per_hour.p50 for r in members) / n,
                                error / actual if actual else None, inside / n))
    return sorted(out, key=lambda g: (-g.sessions, g.label))


def forecast_report(session: so.Session, actor, *, scored_days: int = SCORED_DAYS,
                    plan_days: int = PLAN_DAYS) -> ForecastReport:
    """The managers' forecast page: quality over the last `scored_days`, and the
    capacity plan of the next `plan_days`."""
    require(actor, "reports.read")
    tz = settings_of(session).tz
    now = clock.now()
    since = now - timedelta(days=scored_days)
    read_from = since - timedelta(days=QUALITY_HISTORY_DAYS)
    rows = session.execute(
        sa.select(Booking.id, Booking.tenant_id, Booking.starts_at, Booking.ends_at, Room.kind, Booking.room_id)
        .join(Room, Room.id == Booking.room_id)
        .where(Booking.status.in_(SESSION_STATUSES), Booking.ends_at < now, Booking.starts_at >= read_from)
    ).all()
    past = summaries(session, [r[:5] for r in rows], tz, around=now)
    room_of = {r[0]: r[5] for r in rows}
    rooms = {r.id: r for r in session.scalars(sa.select(Room))}
    tenants = dict(session.execute(sa.select(Tenant.id, Tenant.name)).all())
    booking_of = {id(s): bid for bid, s in past.items()}

    recent = sorted((p.starts_at for p in past.values() if p.starts_at >= since), reverse=True)
    score_from = recent[SCORED_LIMIT - 1] if len(recent) >= SCORED_LIMIT else since
    result = (backtest(past.values(), tz, score_from=score_from, max_known_per_tenant=KNOWN_PER_TENANT)
              if past else None)
    scored = list(result.rows) if result else []
    per_tenant = _group(scored, lambda r: r.session.tenant_id, lambda k: tenants.get(k, str(k)))
    per_room = _group(scored, lambda r: room_of[booking_of[id(r.session)]],
                      lambda k: rooms[k].code if k in rooms else str(k))

    # Tenants who outsell their room, over the scored window.
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    outsold: dict[int, set[str]] = defaultdict(set)
    for bid, s in past.items():
        if s.starts_at < since:
            continue
        room = rooms.get(room_of[bid])
        counts[s.tenant_id][0] += 1
        if room is not None and s.peak_hour_orders > room.order_capacity_per_hour:
            counts[s.tenant_id][1] += 1
            outsold[s.tenant_id].add(room.code)
    outsellers = sorted(
        (Outseller(tid, tenants.get(tid, str(tid)), n, over, over / n, ", ".join(sorted(outsold[tid])))
         for tid, (n, over) in counts.items() if over >= OUTSELL_MIN_SESSIONS and over / n >= OUTSELL_MIN_SHARE),
        key=lambda o: (-o.share, -o.over, o.tenant_name))

    return ForecastReport(result, per_tenant, per_room, _over_capacity(session, past, rooms, tenants, now, plan_days, tz),
                          outsellers, since, now)


def _over_capacity(session, past: dict[int, fc.PastSession], rooms, tenants, now, plan_days, tz) -> list[OverCapacity]:
    """Booked sessions of the next `plan_days` whose p90 peak exceeds the room's capacity.
    Each is forecast from the tenant's known sessions plus the latest of its room's
    kind and of the park (what the service reads for one forecast)."""
    upcoming = session.execute(
        sa.select(Booking.id, Booking.tenant_id, Booking.room_id, Booking.starts_at, Booking.ends_at)
        .where(Booking.status.in_(ACTIVE_STATUSES), Booking.starts_at >= now,
               Booking.starts_at < now + timedelta(days=plan_days))
        .order_by(Booking.starts_at, Booking.id).limit(PLAN_LIMIT)
    ).all()
    if not upcoming:
        return []
    known = sorted(past.values(), key=fc.recency_key)
    depth = 2 * fc.MAX_SESSIONS
    own: dict[int, list[fc.PastSession]] = defaultdict(list)
    of_kind: dict[str, list[fc.PastSession]] = defaultdict(list)
    for s in known:
        own[s.tenant_id].append(s)
        of_kind[s.room_kind].append(s)
    latest = known[-depth:]
    assigned: dict[int, set[int]] = defaultdict(set)
    ids = [u[0] for u in upcoming]
    for chunk in range(0, len(ids), 5000):
        for bid, aid in session.execute(sa.select(Assignment.booking_id, Assignment.anchor_id)
                                        .where(Assignment.booking_id.in_(ids[chunk:chunk + 5000]))):
            assigned[bid].add(aid)
    out = []
    # Sessions of one tenant with the same anchors and kind starting in the same hour of the
    # same weekday get the same figures (every known session ended before all of them; only
    # the expected peak hour can differ with the length): forecast each once.
    memo: dict[tuple, fc.Forecast] = {}
    for bid, tid, room_id, starts, ends in upcoming:
        room = rooms.get(room_id)
        if room is None:
            continue
        kind = room.kind or ""
        mine = frozenset(assigned.get(bid, ()))
        local = starts.astimezone(tz)
        key = (tid, mine, kind, local.weekday(), local.hour)
        f = memo.get(key)
        if f is None:
            history = own.get(tid, [])[-KNOWN_PER_TENANT:]
            history = history + [s for s in of_kind.get(kind, [])[-depth:] if s.tenant_id != tid] + [
                s for s in latest if s.tenant_id != tid and s.room_kind != kind]
            f = memo[key] = fc.forecast(fc.ForecastQuery(tid, mine, kind, starts, ends, tz), history)
        if not fc.fits(f.peak_hour_orders.p90, room.order_capacity_per_hour):
            out.append(OverCapacity(bid, starts, ends, room.code, tenants.get(tid, str(tid)),
                                    f.peak_hour_orders.p90, room.order_capacity_per_hour, f.peak_hour, f.basis))
    return out
