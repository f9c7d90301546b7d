"""The builders of the demo park: one small builder per kind of object, each
taking the shared `Demo` context and drawing from its dice in a fixed order:
users, tenants, rooms, blackouts, series, bookings, anchors, products, and
who hosts and what is sold in each session (people and goods).
opsroom/demo/park.py calls them in that order, then the orders
(opsroom/demo/orders.py); the facts they build from are in opsroom/demo/data.py.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy.orm as so

from opsroom.demo.data import (
    ANCHORS, BLACKOUTS, CANCEL_REASONS, CANCELLED_SHARE, DEMO_PASSWORD, DEMO_REQUESTS, DEMO_USER_TENANTS, DEMO_USERS,
    DURATIONS, GRANULARITY, HOLD_EXPIRES_IN, HOLD_SHARE, INACTIVE_CANCEL_REASON, LAST_DAY, MIN_MINUTES,
    NO_SHOW_SHARE, SERIES_FIRST_DAY, PRODUCTS, ROOMS, SERIES, SESSIONS_PER_DAY, TENANTS, ZONE_ORDER, TenantRow,
    first_day_offset,
)
from opsroom.domain import recurrence
from opsroom.domain.intervals import Interval
from opsroom.models import (
    Anchor, Assignment, Blackout, Booking, BookingRequest, LineupItem, Product, Room, Series, Tenant, User, Zone,
)
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.services.park.users import create_user
from opsroom.settings import settings_of

UTC = timezone.utc


# ---------------------------------------------------------------------------
# Helpers


@dataclass
class Demo:
    """What the builders share: the session, the dice, the park's clock and what was built."""

    session: so.Session
    rng: random.Random
    tz: ZoneInfo
    now: datetime
    today: date
    users: dict[str, User] = field(default_factory=dict)  # by role (staff, anchor), by email (tenants' accounts)
    rooms: dict[str, Room] = field(default_factory=dict)  # by code
    tenants: dict[str, Tenant] = field(default_factory=dict)  # by name
    blackouts: list[Blackout] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)
    products: dict[str, list[Product]] = field(default_factory=dict)  # by tenant name
    # Occupied ranges [starts_at, occupied_until) already given out, per room code.
    taken: dict[str, list[Interval]] = field(default_factory=dict)
    # Orders: the share of the full demo volume to load, and the ids given out.
    order_scale: float = 1.0
    order_ids: set[str] = field(default_factory=set)
    # Days of history before today (None: from the 1st of the previous month). Tests of
    # rules that do not depend on the range load less.
    history_days: int | None = None

    @property
    def coordinator_id(self) -> int | None:
        user = self.users.get("coordinator")
        return user.id if user else None

    @property
    def first_day(self) -> int:
        """The first day of bookings, as an offset from today: the 1st of the previous month."""
        return -self.history_days if self.history_days is not None else first_day_offset(self.today)

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def at(self, day: date, hhmm: str | time) -> datetime:
        """A park-local wall-clock time on `day`, as an aware UTC instant."""
        wall = hhmm if isinstance(hhmm, time) else time.fromisoformat(hhmm)
        return datetime.combine(day, wall, tzinfo=self.tz).astimezone(UTC)

    def opening(self, room: Room, day: date) -> Interval:
        """The room's opening that starts on local `day` (may run past midnight)."""
        close_day = day if room.close_time > room.open_time else day + timedelta(days=1)
        return Interval(self.at(day, room.open_time), self.at(close_day, room.close_time))


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code(rng: random.Random, prefix: str, region: str) -> str:
    """A well-formed 18-character 统一社会信用代码 (GB 32100-2015), check digits included."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    org_sum = sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS))
    org_check = (11 - org_sum % 11) % 11
    org = body + ("X" if org_check == 10 else str(org_check))
    first17 = prefix + region + org
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS))
    return first17 + _CREDIT_CHARS[(31 - total % 31) % 31]


def _overlaps_any(candidate: Interval, intervals: list[Interval]) -> bool:
    # Plain comparisons of aware UTC instants (Interval.overlaps converts each side
    # first): a room has a few hundred bookings over the demo's weeks.
    start, end = candidate.start, candidate.end
    return any(start < other.end and other.start < end for other in intervals)


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


# ---------------------------------------------------------------------------
# Builders, called in this order by load_demo (opsroom/demo/park.py).


def build_users(demo: Demo) -> None:
    for email, role, name in DEMO_USERS:
        if email not in DEMO_USER_TENANTS:
            demo.users[role] = create_user(demo.session, email=email, role=role, password=DEMO_PASSWORD, name=name)


def build_requests(demo: Demo) -> None:
    """A few requests of the tenants' accounts: pending ones in the coordinators'
    queue, and one on the waitlist."""
    for email, code, kind, offset, start, end, minutes, note, waiting in DEMO_REQUESTS:
        user = demo.users[email]
        demo.session.add(BookingRequest(
            tenant_id=user.tenant_id, status="waiting" if waiting else "pending",
            room_id=demo.rooms[code].id if code else None, room_kind=None if code else kind,
            date=demo.day(offset), window_start=time.fromisoformat(start), window_end=time.fromisoformat(end),
            minutes=minutes, anchors=[], note=note, created_by_id=user.id,
            created_at=demo.now - timedelta(hours=2 * (offset + 1))))
    demo.session.flush()


def build_tenant_users(demo: Demo) -> None:
    """Tenants' accounts (商家账号), once their tenants exist."""
    for email, role, name in DEMO_USERS:
        if email in DEMO_USER_TENANTS:
            demo.users[email] = create_user(demo.session, email=email, role=role, password=DEMO_PASSWORD, name=name,
                                            tenant_id=demo.tenants[DEMO_USER_TENANTS[email]].id)


def build_tenants(demo: Demo) -> None:
    for row in TENANTS:
        tenant = Tenant(
            name=row.name,
            contact=row.contact,
            credit_code=credit_code(demo.rng, row.credit_prefix, row.region),
            status=row.status,
            short_name=row.short_name,
            created_at=demo.now - timedelta(days=row.joined_days_ago),
        )
        demo.session.add(tenant)
        demo.tenants[row.name] = tenant
    demo.session.flush()


def build_rooms(demo: Demo) -> None:
    for position, zone in enumerate(ZONE_ORDER, start=1):
        demo.session.add(Zone(name=zone, sort_order=position * 10))
    for row in ROOMS:
        room = Room(
            code=row.code,
            name=row.name,
            zone=row.zone,
            kind=row.kind,
            area_m2=float(row.area_m2),
            equipment=list(row.equipment),
            open_time=time.fromisoformat(row.open_time),
            close_time=time.fromisoformat(row.close_time),
            changeover_minutes=row.changeover_minutes,
            min_minutes=MIN_MINUTES,
            max_minutes=row.max_minutes,
            order_capacity_per_hour=row.order_capacity_per_hour,
            active=row.active,
        )
        demo.session.add(room)
        demo.rooms[row.code] = room
        demo.taken[row.code] = []
    demo.session.flush()


def build_blackouts(demo: Demo) -> None:
    for code, first, start, last, end, reason in BLACKOUTS:
        starts_at = demo.at(demo.day(first), start)
        blackout = Blackout(
            room_id=demo.rooms[code].id,
            starts_at=starts_at,
            ends_at=demo.at(demo.day(last), end),
            reason=reason,
            created_at=min(demo.now, starts_at) - timedelta(days=3),
        )
        demo.session.add(blackout)
        demo.blackouts.append(blackout)
    demo.session.flush()


def _blocked(demo: Demo, room: Room) -> list[Interval]:
    return [Interval(b.starts_at, b.ends_at) for b in demo.blackouts if b.room_id == room.id]


def _dice(rng: random.Random) -> tuple[float, int, int, int, float]:
    """The draws one booking's status needs, always all of them, so that the
    stream stays the same whichever status the clock picks."""
    return rng.random(), rng.randint(3, 15), rng.randint(6, 240), rng.randrange(len(CANCEL_REASONS)), rng.random()


def _new_booking(demo: Demo, room: Room, tenant: Tenant, title: str, starts_at: datetime, ends_at: datetime, *,
                 series: Series | None = None, allow_hold: bool = True) -> Booking:
    """One booking with a status that fits the clock (past, running or to come)."""
    roll, early, created_hours, reason_i, frac = _dice(demo.rng)
    now = demo.now
    booking = Booking(
        room=room, tenant=tenant, title=title, starts_at=starts_at, ends_at=ends_at,
        occupied_until=ends_at + _minutes(room.changeover_minutes), status="confirmed",
        series=series, created_by_id=demo.coordinator_id,
    )
    latest = min(now, starts_at)
    booking.created_at = (series.created_at if series is not None else latest - timedelta(hours=created_hours))

    def cancel(reason: str) -> None:
        booking.status = "cancelled"
        booking.cancel_reason = reason
        booking.cancelled_at = booking.created_at + (latest - booking.created_at) * (0.3 + 0.6 * frac)

    inactive = tenant.status != "active"
    if ends_at <= now:  # past
        if not inactive and roll < NO_SHOW_SHARE:
            grace = settings_of(demo.session).no_show_grace_minutes
            booking.status = "no_show"
            booking.ends_at = booking.occupied_until = min(ends_at, starts_at + _minutes(grace))
        elif roll < NO_SHOW_SHARE + CANCELLED_SHARE:
            cancel(CANCEL_REASONS[reason_i])
        else:
            booking.status = "ended"
            booking.checked_in_at = starts_at - _minutes(early)
    elif inactive:  # running or future, but the tenant may no longer stream here
        cancel(INACTIVE_CANCEL_REASON[tenant.status])
    elif starts_at <= now:  # running now
        booking.status = "live"
        booking.checked_in_at = starts_at - _minutes(early)
    elif roll < CANCELLED_SHARE:
        cancel(CANCEL_REASONS[reason_i])
    elif allow_hold and roll < CANCELLED_SHARE + HOLD_SHARE and starts_at >= now + timedelta(hours=1):
        booking.status = "hold"
        booking.hold_expires_at = now + HOLD_EXPIRES_IN
        booking.created_at = now - _minutes(15)
    demo.session.add(booking)
    demo.bookings.append(booking)
    demo.taken[room.code].append(Interval(starts_at, booking.occupied_until))
    return booking


def build_series(demo: Demo) -> None:
    """Weekly sessions booked together; they are placed before the ad-hoc ones."""
    for code, tenant_name, title, start, minutes, weekdays, count in SERIES:
        room, tenant = demo.rooms[code], demo.tenants[tenant_name]
        first_day = demo.day(SERIES_FIRST_DAY)
        while first_day.weekday() not in weekdays:
            first_day += timedelta(days=1)
        first_start = demo.at(first_day, start)
        occurrences = recurrence.expand(
            first_start, first_start + _minutes(minutes), freq="weekly", tz=demo.tz,
            weekdays=list(weekdays), count=count,
        )
        series = Series(
            rule={"freq": "weekly", "interval": 1, "weekdays": list(weekdays), "count": count},
            created_at=min(demo.now, first_start) - timedelta(days=2),
            created_by_id=demo.coordinator_id,
        )
        demo.session.add(series)
        demo.series.append(series)
        blocked = _blocked(demo, room)
        for occ in occurrences:
            span = Interval(occ.start, occ.end + _minutes(room.changeover_minutes))
            if _overlaps_any(span, blocked) or _overlaps_any(span, demo.taken[code]):
                _dice(demo.rng)
                continue
            _new_booking(demo, room, tenant, title, occ.start, occ.end, series=series, allow_hold=False)
    demo.session.flush()


def _day_plan(demo: Demo, room: Room, window: Interval) -> list[tuple[int, int]]:
    """2–4 sessions laid out in `window`: (offset, duration) in minutes from its start.

    Durations come from the room kind's usual lengths; the free time left over
    is spread over the gaps before, between and after them, on the 15-minute grid.
    Draws the same number of dice whatever fits.
    """
    rng = demo.rng
    wanted = rng.choice(SESSIONS_PER_DAY)
    durations = [
        min(max(rng.choice(DURATIONS[room.kind]), room.min_minutes), room.max_minutes) for _ in range(4)
    ]
    weights = [rng.random() + 0.25 for _ in range(5)]
    total = int(window.minutes) // GRANULARITY * GRANULARITY
    n = wanted
    while n and sum(durations[:n]) + (n - 1) * room.changeover_minutes > total:
        n -= 1
    if not n:
        return []
    slack_units = (total - sum(durations[:n]) - (n - 1) * room.changeover_minutes) // GRANULARITY
    weights = weights[: n + 1]
    gaps = [int(slack_units * w / sum(weights)) for w in weights]
    plan, cursor = [], 0
    for i in range(n):
        cursor += gaps[i] * GRANULARITY
        plan.append((cursor, durations[i]))
        cursor += durations[i] + room.changeover_minutes
    return plan


def _pick_tenant(demo: Demo, kind: str) -> TenantRow:
    candidates = [row for row in TENANTS if kind in row.kinds]
    return demo.rng.choices(candidates, weights=[row.kinds[kind] for row in candidates])[0]


def build_bookings(demo: Demo) -> None:
    """Sessions per active room from the 1st of the previous month to two weeks ahead: 2–4 a day inside its open hours,
    clear of blackouts, of the series and of each other's changeover."""
    for code, room in demo.rooms.items():
        if not room.active:
            continue
        blocked = _blocked(demo, room)
        for offset in range(demo.first_day, LAST_DAY + 1):
            opening = demo.opening(room, demo.day(offset))
            # A 24 h room's last session may still occupy the start of the next day.
            carried = [t.end for t in demo.taken[code] if t.start < opening.start]
            start = max([opening.start, *carried])
            late = (start - opening.start).total_seconds() / 60
            start = opening.start + _minutes(-(-int(late) // GRANULARITY) * GRANULARITY)
            if start >= opening.end:
                continue
            for begin, minutes in _day_plan(demo, room, Interval(start, opening.end)):
                row = _pick_tenant(demo, room.kind)
                title = demo.rng.choice(row.titles)
                starts_at = start + _minutes(begin)
                ends_at = starts_at + _minutes(minutes)
                span = Interval(starts_at, ends_at + _minutes(room.changeover_minutes))
                if _overlaps_any(span, blocked) or _overlaps_any(span, demo.taken[code]):
                    _dice(demo.rng)  # keep the stream in step
                    continue
                _new_booking(demo, room, demo.tenants[row.name], title, starts_at, ends_at)
        demo.session.flush()


# ---------------------------------------------------------------------------
# People and goods (人、货): anchors, catalogues, who hosts which session, what is sold.


def build_anchors(demo: Demo) -> None:
    """Anchors of the tenants and of the park's own MCN; the demo anchor user is one of them."""
    demo.anchors = []
    for name, tenant, account, verified, minutes, rest, role in ANCHORS:
        user = demo.users.get(role) if role else None
        anchor = Anchor(name=name, tenant_id=demo.tenants[tenant].id if tenant else None,
                        user_id=user.id if user else None, verified=verified, max_minutes_per_day=minutes,
                        min_rest_minutes=rest, platform_accounts={"douyin": account})
        demo.session.add(anchor)
        demo.anchors.append(anchor)
    demo.session.flush()


def build_products(demo: Demo) -> None:
    demo.products = {}
    for tenant, sku, name, category, price, stock, certs in PRODUCTS:
        product = Product(tenant_id=demo.tenants[tenant].id, sku=sku, name=name, category=category,
                          price_fen=price, stock=stock, certifications=list(certs))
        demo.session.add(product)
        demo.products.setdefault(tenant, []).append(product)
    demo.session.flush()


NEAR = timedelta(days=2)


def _minutes_per_local_day(iv: Interval, tz: ZoneInfo) -> dict[date, float]:
    """Minutes of `iv` on each park-local day it touches."""
    from opsroom.domain.hours import local_day

    out, day = {}, iv.start.astimezone(tz).date()
    while True:
        window = local_day(day, tz)
        if window.start >= iv.end:
            return out
        part = min(iv.end, window.end) - max(iv.start, window.start)
        if part.total_seconds() > 0:
            out[day] = part.total_seconds() / 60
        day += timedelta(days=1)


def build_people_and_goods(demo: Demo) -> None:
    """A host (and sometimes an assistant) for every session that can have one,
    keeping each anchor's rules: never two places at once, the daily limit per
    park-local day and the rest between sessions; and a lineup of the tenant's
    products. The demo anchor (林小雨) is offered first, so the phone page has sessions."""
    from opsroom.domain import anchor_rules

    by_id = {t.id: name for name, t in demo.tenants.items()}
    worked: dict[int, list[Interval]] = {a.id: [] for a in demo.anchors}
    day_minutes: dict[tuple[int, date], float] = {}  # (anchor, local day) → minutes booked that day
    assignments: list[dict] = []
    lineup: list[dict] = []
    for booking in sorted(demo.bookings, key=lambda b: b.starts_at):
        if booking.status == "cancelled":
            continue
        candidates = [a for a in demo.anchors if a.tenant_id in (booking.tenant_id, None)]
        candidates.sort(key=lambda a: (a.user_id is None, a.tenant_id is None, demo.rng.random()))
        session_iv = Interval(booking.starts_at, booking.ends_at)
        per_day = _minutes_per_local_day(session_iv, demo.tz)
        chosen = []
        wanted = 2 if demo.rng.random() < 0.35 else 1  # drawn once: a host, sometimes an assistant
        for anchor in candidates:
            role = "host" if not chosen else "assistant"
            # A day already too full fails the daily limit anyway: skip the full check.
            if any(day_minutes.get((anchor.id, d), 0) + m > anchor.max_minutes_per_day for d, m in per_day.items()):
                continue
            profile = anchor_rules.AnchorProfile(anchor.verified, anchor.max_minutes_per_day, anchor.min_rest_minutes)
            # Only sessions within two days can clash, share a local day or be too close for rest:
            # the same answer as with the whole week, for a fraction of the work.
            near = _recent(worked[anchor.id], session_iv.start - NEAR)
            if anchor_rules.clashes(session_iv, near) or anchor_rules.breaches(
                    session_iv, near, profile=profile, role=role, tz=demo.tz):
                continue
            chosen.append((anchor, role))
            worked[anchor.id].append(session_iv)
            for d, m in per_day.items():
                day_minutes[(anchor.id, d)] = day_minutes.get((anchor.id, d), 0) + m
            if len(chosen) == wanted:
                break
        for anchor, role in chosen:
            assignments.append({"booking_id": booking.id, "anchor_id": anchor.id, "role": role,
                                "starts_at": booking.starts_at, "ends_at": booking.ends_at,
                                "active": booking.status in ACTIVE_STATUSES})
        products = demo.products.get(by_id[booking.tenant_id], [])
        for position, product in enumerate(demo.rng.sample(products, k=min(len(products), 3)), start=1):
            lineup.append({"booking_id": booking.id, "product_id": product.id, "position": position})
    # In bulk, through Core (the ORM's bulk path costs more per row): thousands of rows no later builder needs as objects.
    if assignments:
        demo.session.connection().execute(Assignment.__table__.insert(), assignments)
    if lineup:
        demo.session.connection().execute(LineupItem.__table__.insert(), lineup)
    demo.session.flush()


def _recent(worked: list[Interval], since: datetime) -> list[Interval]:
    """The sessions of `worked` (in start order) that end after `since`: the tail of the list.
    A session lasts at most a day, so the walk back stops a day before `since`."""
    out = []
    for w in reversed(worked):
        if w.start < since - timedelta(days=1):
            break
        if w.end > since:
            out.append(w)
    out.reverse()
    return out


# ---------------------------------------------------------------------------
# Turned-away demand (被拒需求): prime-time sessions other tenants wanted too.

TURNED_AWAY_SHARE = 0.3  # of the sessions starting in prime time
PRIME_START_HOURS = range(18, 23)


def build_turned_away(demo: Demo) -> None:
    """A coordinator tried to book some prime-time sessions' slots for another tenant and was
    refused (the room was taken): the reports' turned-away chart then shows the evening's demand.
    Drawn after everything else, so the other builders' dice are unchanged."""
    from opsroom.models import TurnedAway

    user_id = demo.coordinator_id
    if user_id is None:
        return
    rows, windows = [], set()
    for b in sorted(demo.bookings, key=lambda b: (b.starts_at, b.id)):
        local = b.starts_at.astimezone(demo.tz)
        wanted = demo.rng.random() < TURNED_AWAY_SHARE
        if b.status == "cancelled" or local.hour not in PRIME_START_HOURS or not wanted:
            continue
        if (b.starts_at, b.ends_at) in windows:  # one row per user and window
            continue
        windows.add((b.starts_at, b.ends_at))
        others = [t for t in demo.tenants.values() if t.status == "active" and t.id != b.tenant_id]
        tenant = others[demo.rng.randrange(len(others))]
        at = min(demo.now, b.starts_at) - timedelta(hours=demo.rng.randint(2, 72))
        rows.append({"user_id": user_id, "room_id": b.room_id, "tenant_id": tenant.id, "zone": b.room.zone,
                     "kind": b.room.kind, "starts_at": b.starts_at, "ends_at": b.ends_at, "day": local.date(),
                     "weekday": local.weekday(), "hour": local.hour,
                     "minutes": int((b.ends_at - b.starts_at).total_seconds() // 60),
                     "attempts": 1 + demo.rng.randrange(3), "first_at": at, "last_at": at})
    if rows:
        demo.session.connection().execute(TurnedAway.__table__.insert(), rows)
    demo.session.flush()
