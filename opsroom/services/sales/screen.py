"""The hall's big screen (大屏): rooms live now, today's rankings, park totals,
and the read-only screen tokens a hall PC opens it with.

A snapshot is a handful of queries whatever the number of rooms: the live
bookings, their anchors, their orders (one grouped query), today's sold orders
per booking (summed from `sales_quarters`) and the rooms and anchors of those
bookings.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.db import intent, is_postgres
from opsroom.domain import hours, metrics
from opsroom.domain.money import format_money
from opsroom.domain.names import display_short_name
from opsroom.settings import settings_of
from opsroom.models import SOLD, Booking, Order, Room, ScreenToken, Tenant, sales_quarters
from opsroom.services.permissions import require
from opsroom.services.sales import stats
from opsroom.services.sales.forecast import stored_expected_loads
from opsroom.services.errors import ValidationFailed, found
from opsroom.services.transaction import transactional

TOKEN_PREFIX = "scr_"
# Roles whose orders count for an anchor in the ranking: on camera, not the controller.
RANKED_ROLES = ("host", "assistant")
# How often a token's "last used" is written (a screen polls every few seconds).
LAST_USED_EVERY = timedelta(minutes=1)


class _Room(NamedTuple):
    code: str
    order_capacity_per_hour: int


class _LiveBooking(NamedTuple):
    id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    checked_in_at: datetime | None
    title: str
    room: _Room
    tenant: str
    tenant_short: str | None


@dataclass(frozen=True)
class ScreenViewer:
    """The principal behind a screen token: it may read the screen and nothing else."""

    token_id: int
    label: str
    role: str = "screen"
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False
    locale: str | None = None
    id: None = None

    @property
    def name(self) -> str:
        return self.label


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transactional
def create_token(session: so.Session, user, label: str = "") -> str:
    """A new screen token (only its SHA-256 is stored); returns the token.
    `user` is the admin creating it, or None from the command line."""
    if user is not None:
        require(user, "screen.admin")
    label = (label or "").strip()
    if len(label) > 100 or "\x00" in label:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "label", "message": _l("At most %(n)s characters.", n=100)}])
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ScreenToken(token_hash=_hash(token), label=label, created_by_id=user.id if user else None))
    session.flush()
    return token


def list_tokens(session: so.Session, user) -> list[ScreenToken]:
    require(user, "screen.admin")
    return list(session.scalars(sa.select(ScreenToken).order_by(ScreenToken.revoked_at.is_not(None),
                                                                ScreenToken.created_at.desc(), ScreenToken.id.desc())))


@transactional
def revoke_token(session: so.Session, user, token_id: int) -> ScreenToken:
    """Revoke a screen token at once: the next poll of that screen is refused."""
    require(user, "screen.admin")
    row = found(session.get(ScreenToken, token_id), _l("No such token."))
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    return row


def viewer_for_token(session: so.Session, token: str | None) -> ScreenViewer | None:
    """The screen behind an unrevoked token, or None. Notes when it was last used
    (at most once a minute, in its own short write, never failing the read)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(sa.select(ScreenToken).where(ScreenToken.token_hash == _hash(token),
                                                      ScreenToken.revoked_at.is_(None)))
    if row is None:
        return None
    viewer = ScreenViewer(row.id, row.label)
    now = clock.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        session.commit()  # end the read transaction; the write gets its own
        try:
            with intent(True):
                session.execute(sa.update(ScreenToken).where(ScreenToken.id == row.id).values(last_used_at=now))
                session.commit()
        except sa.exc.OperationalError:  # a busy database: the note can wait for the next poll
            session.rollback()
    return viewer


# ---------------------------------------------------------------------------
# The snapshot


def _today(tz) -> tuple[datetime, datetime]:
    window = hours.local_day(clock.now().astimezone(tz).date(), tz)
    return window.start, window.end


def _money(fen: int) -> str:
    return format_money(int(fen or 0))


def _ranked(rows: list[dict[str, Any]], size: int, key: str) -> list[dict[str, Any]]:
    rows.sort(key=lambda r: (-r["_gmv"], -r["orders"], str(r[key])))
    return [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows[:size]]


# How far back the scheduler folds the PostgreSQL change rows of `sales_quarters`
# (today and yesterday in any time zone; nothing older is read by the screen).
COMPACT_QUARTERS = 2 * 96 + 56


@transactional
def compact_quarters(session: so.Session, now: datetime | None = None) -> int:
    """Fold the recent change rows PostgreSQL's triggers appended to
    `sales_quarters` into one row per session and quarter (a job of the
    scheduler), so the screen sums a day of a few thousand rows however small
    the imports were. One statement: the rows it deletes are exactly those it
    sums back, and imports meanwhile only append rows, which it leaves for the
    next run. SQLite keeps one row per pair already. → rows folded."""
    if not is_postgres(session):
        return 0
    since = int((now or clock.now()).timestamp()) // 900 - COMPACT_QUARTERS
    folded = session.execute(sa.text("""
        WITH twice AS (
          SELECT booking_id, quarter FROM sales_quarters WHERE quarter >= :since
          GROUP BY booking_id, quarter HAVING count(*) > 1),
        gone AS (
          DELETE FROM sales_quarters s USING twice
          WHERE s.booking_id = twice.booking_id AND s.quarter = twice.quarter AND s.quarter >= :since
          RETURNING s.booking_id, s.quarter, s.orders, s.gmv_fen),
        back AS (
          INSERT INTO sales_quarters (booking_id, quarter, orders, gmv_fen)
          SELECT booking_id, quarter, sum(orders), sum(gmv_fen) FROM gone GROUP BY booking_id, quarter
          HAVING sum(orders) <> 0 OR sum(gmv_fen) <> 0)
        SELECT count(*) FROM gone"""), {"since": since}).scalar_one()
    return folded


# The last snapshot computed by this process: (expires, data) per database and settings.
_SNAPSHOTS: dict[tuple, tuple[float, dict[str, Any]]] = {}


def snapshot(session: so.Session, viewer) -> dict[str, Any]:
    """What the big screen shows now (docs/api.md, `GET /screen`). Staff or a screen token.

    The figures are the same for every viewer, and hall screens poll them every few
    seconds: a process computes them at most once per SCREEN_CACHE_SECONDS (the day's
    pass over every sold order is the costly part) and answers the polls in between
    with that snapshot ("at" says when it was taken). Callers must not modify it."""
    require(viewer, "screen.read")
    settings = settings_of(session)
    ttl = settings.screen_cache_seconds
    if ttl <= 0:
        return _compute(session)
    # One snapshot per database and settings in this process.
    key = (str(session.get_bind().engine.url), settings)
    hit = _SNAPSHOTS.get(key)
    tick = time.monotonic()
    if hit is not None and tick < hit[0]:
        return hit[1]
    data = _compute(session)
    _SNAPSHOTS[key] = (tick + ttl, data)
    return data


def _compute(session: so.Session) -> dict[str, Any]:
    """The snapshot itself.

    Today's sold orders per booking come from `sales_quarters` (kept by the
    orders' triggers): that gives the rankings, the totals and most of each
    live room's figures. A live session's
    orders outside today (it began before midnight) come from its own index
    range, and its live load from the orders of the last window only."""
    now = clock.now()
    settings = settings_of(session)
    size, tz = settings.screen_ranking_size, settings.tz
    start, end = _today(tz)
    # Plain rows, not mapped objects: 200 live rooms cost no ORM bookkeeping.
    live = [_LiveBooking(bid, s_at, e_at, status, checked, title, _Room(code, cap), tenant, short)
            for bid, s_at, e_at, status, checked, title, code, cap, tenant, short in session.execute(
                sa.select(Booking.id, Booking.starts_at, Booking.ends_at, Booking.status, Booking.checked_in_at,
                          Booking.title, Room.code, Room.order_capacity_per_hour, Tenant.name, Tenant.short_name)
                .join(Room, Room.id == Booking.room_id).join(Tenant, Tenant.id == Booking.tenant_id)
                .where(stats.live_now_clause(now)).order_by(Room.code, Booking.id))]
    live_ids = [b.id for b in live]

    # Today's sold orders per session, from the quarter-hour sums the orders'
    # triggers keep (a few thousand rows, not every order of the day).
    sq = sales_quarters.c
    orders_sum, gmv_sum = sa.func.sum(sq.orders), sa.func.sum(sq.gmv_fen)
    per_booking = [(bid, int(n), int(g or 0)) for bid, n, g in session.execute(
        sa.select(sq.booking_id, orders_sum, gmv_sum)
        .where(sq.quarter >= int(start.timestamp()) // 900, sq.quarter < int(end.timestamp()) // 900)
        .group_by(sq.booking_id).having(orders_sum > 0)
    )]
    sold = {bid: [n, g] for bid, n, g in per_booking if bid}  # 0: orders of no session
    total_orders = sum(n for _, n, _ in per_booking)
    total_gmv = sum(g for _, _, g in per_booking)

    live_sold = {bid: list(sold.get(bid, (0, 0))) for bid in live_ids}
    if live_ids:
        # Two index ranges per session (before today, after today), not a filter over all its orders.
        outside = sa.union_all(*[
            sa.select(Order.booking_id, Order.amount_fen).where(Order.booking_id.in_(live_ids), SOLD, bound)
            for bound in (Order.ordered_at < start, Order.ordered_at >= end)]).subquery()
        for bid, n, g in session.execute(
            sa.select(outside.c.booking_id, sa.func.count(), sa.func.sum(outside.c.amount_fen))
            .group_by(outside.c.booking_id)
        ):
            live_sold[bid][0] += n
            live_sold[bid][1] += int(g or 0)
    loads_now = stats.live_loads(session, list(live), now)
    live_anchors = stats.anchors_of(session, live_ids)
    expected = stored_expected_loads(session, live_ids)
    live_rows = []
    for b in live:
        n, gmv = live_sold[b.id]
        load_now, alert = loads_now[b.id]
        cap = metrics.capacity(b.room.order_capacity_per_hour, metrics.minutes_between(b.starts_at, b.ends_at))
        live_rows.append({
            "booking_id": b.id, "room_code": b.room.code, "tenant": b.tenant,
            "tenant_short": display_short_name(b.tenant, b.tenant_short), "title": b.title,
            "anchors": [name for _, name in live_anchors.get(b.id, [])],
            "starts_at": b.starts_at.astimezone(tz).isoformat(), "ends_at": b.ends_at.astimezone(tz).isoformat(),
            "elapsed_minutes": int((now - b.starts_at).total_seconds() // 60),
            "orders": n, "gmv": _money(gmv), "capacity_per_hour": b.room.order_capacity_per_hour,
            "load": metrics.as_float(metrics.ratio(n, cap)), "live_load": metrics.as_float(load_now), "alert": alert,
            "expected_load": round(expected[b.id].load, 2) if b.id in expected and expected[b.id].load is not None
            else None,
        })

    rooms: dict[str, dict[str, Any]] = {}
    anchors: dict[int, dict[str, Any]] = {}
    if sold:
        codes = dict(session.execute(
            sa.select(Booking.id, Room.code).join(Room, Room.id == Booking.room_id).where(Booking.id.in_(list(sold)))
        ).all())
        for bid, (n, gmv) in sold.items():
            row = rooms.setdefault(codes[bid], {"room_code": codes[bid], "orders": 0, "gmv": "", "_gmv": 0})
            row["orders"] += n
            row["_gmv"] += gmv
        for bid, people in stats.anchors_of(session, list(sold), RANKED_ROLES).items():
            n, gmv = sold[bid]
            for aid, name in dict(people).items():
                row = anchors.setdefault(aid, {"anchor_id": aid, "name": name, "orders": 0, "gmv": "", "_gmv": 0})
                row["orders"] += n
                row["_gmv"] += gmv
    for row in [*rooms.values(), *anchors.values()]:
        row["gmv"] = _money(row["_gmv"])
    return {
        "at": now.astimezone(tz).isoformat(),
        "day": start.astimezone(tz).date().isoformat(),
        "live": live_rows,
        "rankings": {"rooms": _ranked(list(rooms.values()), size, "room_code"),
                     "anchors": _ranked(list(anchors.values()), size, "name")},
        "totals": {"orders": total_orders, "gmv": _money(total_gmv), "live_rooms": len(live_rows),
                   "alerts": sum(1 for r in live_rows if r["alert"])},
        "alert_threshold": settings.capacity_alert_percent / 100,
    }
