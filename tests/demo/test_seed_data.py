"""The demo park (`opsroom.demo`) keeps every rule the app itself enforces."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from opsroom import clock
from opsroom.demo.data import DEMO_PASSWORD, DEMO_USERS, XILIU
from opsroom.demo.park import load_demo
from opsroom.domain.booking_rules import check_shape
from opsroom.domain.intervals import Interval
from opsroom.models import Blackout, Booking, Order, Product, Room, Series, Tenant, User
from opsroom.domain.statuses import ACTIVE_STATUSES, ROLES
from tests.conftest import NOW, app_on

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Moments of the park's day the invariants are checked at (besides the fixtures' NOW).
INSTANTS = [
    datetime(2026, 11, 20, 20, 10, tzinfo=SHANGHAI),  # Friday prime time: many rooms live
    datetime(2026, 11, 23, 1, 40, tzinfo=SHANGHAI),  # Monday night: sessions crossing midnight
    datetime(2026, 3, 1, 9, 5, tzinfo=SHANGHAI),  # a Sunday morning in another season
]


def _tz(app) -> ZoneInfo:
    return ZoneInfo(app.config["TIMEZONE"])


def _count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def _bookings(session) -> list[Booking]:
    return list(session.scalars(sa.select(Booking).order_by(Booking.room_id, Booking.starts_at, Booking.id)))


# The park's rules do not depend on how many orders there are, nor on how far back
# the bookings go: most tests load a twentieth of the demo's orders and a week of
# history, which keeps them fast; the range's and the orders' own tests load all.
SMALL = 0.05
WEEK = 7


@pytest.fixture(scope="module")
def demo_park(engine, database_url):
    """The small demo park, loaded once per engine for this module in a transaction
    that is rolled back at its end; returns the connection holding it and the summary."""
    connection = engine.connect()
    outer = connection.begin()
    app = app_on(connection, engine, database_url)
    with clock.frozen(NOW), app.app_context():
        session = app.extensions["opsroom.sessionmaker"]()
        summary = load_demo(session, wipe=True, order_scale=SMALL, history_days=WEEK)
        session.close()
    yield connection, summary
    outer.rollback()
    connection.close()


@pytest.fixture
def app(engine, database_url, demo_park):
    """This module's app runs on the demo park's connection, in a savepoint rolled
    back after each test: a test that reloads the demo (or changes it) leaves the
    loaded park as it found it."""
    connection, _summary = demo_park
    test = connection.begin_nested()
    app = app_on(connection, engine, database_url)
    with app.app_context():
        yield app
    test.rollback()


@pytest.fixture
def demo(demo_park, app, db_session):
    """The demo park (a twentieth of its orders, a week of history) and its summary."""
    return demo_park[1]


# ---------------------------------------------------------------------------
# Invariants, shared by the tests at the fixtures' NOW and at other instants


def assert_no_overlap(session) -> None:
    by_room: dict[int, list[Booking]] = defaultdict(list)
    for b in _bookings(session):
        if b.status in ACTIVE_STATUSES:
            by_room[b.room_id].append(b)
    for room_id, rows in by_room.items():
        for i, a in enumerate(rows):
            assert a.occupied_until >= a.ends_at > a.starts_at
            for b in rows[i + 1:]:
                clash = a.starts_at < b.occupied_until and b.starts_at < a.occupied_until
                assert not clash, f"room {room_id}: bookings {a.id} and {b.id} overlap"


def assert_shapes(app, session) -> None:
    tz, granularity = _tz(app), app.config["BOOKING_GRANULARITY_MINUTES"]
    blackouts: dict[int, list[Interval]] = defaultdict(list)
    for x in session.scalars(sa.select(Blackout)):
        blackouts[x.room_id].append(Interval(x.starts_at, x.ends_at))
    for b in _bookings(session):
        room = b.room
        # A no-show's ends_at is its release time, shorter than a booking may be.
        shortest = None if b.status == "no_show" else room.min_minutes
        breaches = check_shape(
            b.starts_at, b.ends_at, open_time=room.open_time, close_time=room.close_time, tz=tz,
            granularity_minutes=granularity, min_minutes=shortest, max_minutes=room.max_minutes,
        )
        assert breaches == [], f"booking {b.id} in {room.code}: {breaches}"
        if b.status == "no_show":
            assert b.occupied_until == b.ends_at
        else:
            assert b.occupied_until == b.ends_at + timedelta(minutes=room.changeover_minutes)
        if b.status in ACTIVE_STATUSES:
            assert room.active
            span = Interval(b.starts_at, b.occupied_until)
            assert not any(span.overlaps(x) for x in blackouts[room.id]), f"booking {b.id} meets a blackout"


def assert_tenants_allowed(session) -> None:
    for b in _bookings(session):
        if b.status not in ("cancelled", "ended"):
            assert b.tenant.status == "active", f"booking {b.id} ({b.status}) of a {b.tenant.status} tenant"


def assert_statuses_fit_clock(session) -> None:
    now = clock.now()
    coordinator = session.scalar(sa.select(User).where(User.role == "coordinator"))
    for b in _bookings(session):
        assert b.created_by_id == coordinator.id
        assert b.created_at <= now
        if b.status == "ended":
            assert b.ends_at <= now and b.checked_in_at is not None and b.checked_in_at < b.starts_at
        elif b.status == "no_show":
            assert b.ends_at <= now and b.checked_in_at is None
            assert b.ends_at - b.starts_at == timedelta(minutes=15)
        elif b.status == "live":
            assert b.starts_at <= now < b.ends_at and b.checked_in_at is not None
        elif b.status == "confirmed":
            assert b.starts_at > now and b.checked_in_at is None
        elif b.status == "hold":
            assert b.starts_at > now and b.hold_expires_at is not None
            assert now < b.hold_expires_at <= b.starts_at
        else:
            assert b.status == "cancelled"
            assert b.cancel_reason and b.cancelled_at is not None
            assert b.created_at <= b.cancelled_at <= now
        if b.status != "hold":
            assert b.hold_expires_at is None


def assert_all_invariants(app, session) -> None:
    assert_no_overlap(session)
    assert_shapes(app, session)
    assert_tenants_allowed(session)
    assert_statuses_fit_clock(session)


# ---------------------------------------------------------------------------
# Tests


def test_summary_names_what_was_loaded(demo, db_session):
    counts = {
        "rooms": _count(db_session, Room),
        "tenants": _count(db_session, Tenant),
        "bookings": _count(db_session, Booking),
        "users": _count(db_session, User),
    }
    assert "\n" not in demo
    for label, n in counts.items():
        assert f"{n} {label}" in demo


def test_every_role_has_a_demo_user_with_the_demo_password(demo, db_session):
    users = {u.email: u for u in db_session.scalars(sa.select(User))}
    assert {role for _, role, _ in DEMO_USERS} == set(ROLES)
    for email, role, name in DEMO_USERS:
        user = users[email]
        assert (user.role, user.name) == (role, name)
        assert user.password_hash.startswith("scrypt:")
        assert check_password_hash(user.password_hash, DEMO_PASSWORD)
        assert (user.tenant_id is not None) == (role == "tenant")
    # The tenants' accounts have requests: the coordinators' queue has something to
    # decide, the waitlist something to offer.
    from opsroom.models import BookingRequest

    requests = db_session.scalars(sa.select(BookingRequest)).all()
    assert {"pending", "waiting"} <= {r.status for r in requests}
    assert {r.created_by_id for r in requests} <= {u.id for u in users.values() if u.role == "tenant"}


def test_rooms_span_the_zones_of_the_park(demo, db_session):
    rooms = list(db_session.scalars(sa.select(Room)))
    assert len(rooms) >= 25
    assert len({r.zone for r in rooms}) >= 5
    assert len({r.code for r in rooms}) == len(rooms)
    assert sum(not r.active for r in rooms) == 1
    assert sum(r.open_time == r.close_time for r in rooms) >= 2  # 24 h rooms
    assert any(r.close_time < r.open_time for r in rooms)  # open past midnight
    for r in rooms:
        assert 20 <= r.area_m2 <= 180
        assert r.equipment and all(isinstance(e, str) for e in r.equipment)
        assert r.changeover_minutes in (15, 30)
        # Orders an hour a crew can pack: a few hundred, up to a thousand in the big apparel rooms.
        assert 100 <= r.order_capacity_per_hour <= 1000
    caps = sorted(r.order_capacity_per_hour for r in rooms)
    assert caps[len(caps) // 2] <= 300 and max(caps) >= 3 * caps[len(caps) // 2]


def test_tenants_include_a_suspended_and_a_blacklisted_one(demo, db_session):
    tenants = list(db_session.scalars(sa.select(Tenant)))
    statuses = Counter(t.status for t in tenants)
    assert statuses["suspended"] >= 1 and statuses["blacklisted"] >= 1
    assert statuses["active"] >= 6
    for t in tenants:
        assert len(t.credit_code) == 18 and t.credit_code.startswith("9")
        assert t.contact


def test_active_bookings_of_a_room_never_overlap(demo, db_session):
    assert_no_overlap(db_session)


def test_bookings_lie_inside_open_hours_and_outside_blackouts(demo, app, db_session):
    assert _count(db_session, Blackout) >= 2
    assert_shapes(app, db_session)


def test_only_ended_or_cancelled_bookings_belong_to_inactive_tenants(demo, db_session):
    assert_tenants_allowed(db_session)


def test_statuses_fit_the_clock(demo, db_session):
    assert_statuses_fit_clock(db_session)
    statuses = Counter(b.status for b in _bookings(db_session))
    assert {"ended", "no_show", "cancelled", "confirmed", "hold"} <= set(statuses)
    past = statuses["ended"] + statuses["no_show"]
    assert 0 < statuses["no_show"] <= 0.15 * past


def test_bookings_from_the_first_of_last_month_to_two_weeks_ahead(app, db_session):
    """Bookings began on the 1st of this month, so "last month" reports were empty."""
    from datetime import date

    load_demo(db_session, wipe=True, order_scale=SMALL)
    tz = _tz(app)
    today = clock.now().astimezone(tz).date()  # 2026-11-20
    days = Counter()
    for b in _bookings(db_session):
        if b.series_id is None:
            days[b.starts_at.astimezone(tz).date()] += 1
    assert min(days) == date(2026, 10, 1)
    # A session may start just after midnight in a room open past it.
    assert today + timedelta(days=14) <= max(days) <= today + timedelta(days=15)
    assert all(days[date(2026, 10, 1) + timedelta(days=i)] >= 25 for i in range(50 + 14))
    sold = db_session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        Order.ordered_at < datetime(2026, 11, 1, tzinfo=SHANGHAI)))
    assert sold > 100  # last month's reports have orders too


def test_one_weekly_series_shares_room_tenant_and_time(demo, app, db_session):
    tz = _tz(app)
    series = list(db_session.scalars(sa.select(Series)))
    assert len(series) == 1
    rule = series[0].rule
    assert rule["freq"] == "weekly"
    rows = [b for b in _bookings(db_session) if b.series_id == series[0].id]
    assert 3 <= len(rows) <= rule["count"]
    assert len({(b.room_id, b.tenant_id, b.title) for b in rows}) == 1
    assert len({b.starts_at.astimezone(tz).time() for b in rows}) == 1
    assert {b.starts_at.astimezone(tz).weekday() for b in rows} <= set(rule["weekdays"])


def test_loading_twice_with_wipe_gives_the_same_park(app, db_session):
    def snapshot():
        return {
            "counts": {m.__name__: _count(db_session, m) for m in (User, Tenant, Room, Blackout, Series, Booking, Order)},
            "orders": db_session.execute(sa.select(Order.external_id, Order.amount_fen, Order.status, Order.ordered_at)
                                         .order_by(Order.external_id)).all(),
            "bookings": [
                (b.room.code, b.tenant.name, b.title, b.starts_at, b.ends_at, b.status)
                for b in _bookings(db_session)
            ],
        }

    first_summary = load_demo(db_session, wipe=True, order_scale=SMALL, history_days=WEEK)
    first = snapshot()
    second_summary = load_demo(db_session, wipe=True, order_scale=SMALL, history_days=WEEK)
    second = snapshot()
    assert first_summary == second_summary
    assert first == second


@pytest.mark.parametrize("instant", INSTANTS, ids=lambda d: d.strftime("%Y%m%d-%H%M"))
def test_invariants_hold_at_any_time_of_day(app, db_session, instant):
    clock.set_now(instant)  # the autouse clock fixture unfreezes afterwards
    load_demo(db_session, wipe=True, order_scale=SMALL, history_days=WEEK)
    assert_all_invariants(app, db_session)
    if instant.hour == 20:
        assert any(b.status == "live" for b in _bookings(db_session))


# ---------------------------------------------------------------------------
# Orders


def test_realistic_orders_and_capacity_alerts(app, db_session):
    """Orders of the sessions that took place or are live: refunds, cancellations and
    unattributed ones; amounts from the products' prices; the evening sells most; so does the
    apparel maker. Sessions live now sell 10 %–130 % of their room's capacity in the last hour,
    so the screen shows capacity alerts (loads stayed under 12 %). Friday 20:10."""
    from opsroom.services.sales import screen

    clock.set_now(INSTANTS[0])
    summary = load_demo(db_session, wipe=True, history_days=WEEK)
    orders = db_session.scalars(sa.select(Order).options(sa.orm.joinedload(Order.booking))).all()
    assert len(orders) >= 5000 and f"{len(orders)} orders" in summary
    by_status = Counter(o.status for o in orders)
    assert by_status["refunded"] > 100 and by_status["cancelled"] > 50 and by_status["paid"] > 0.8 * len(orders)
    assert all(o.refund_fen == (o.amount_fen if o.status == "refunded" else 0) for o in orders)
    unattributed = [o for o in orders if o.booking_id is None]
    assert 0.01 * len(orders) < len(unattributed) < 0.1 * len(orders)
    assert len({(o.platform, o.external_id) for o in orders}) == len(orders)
    prices = {p.id: p.price_fen for p in db_session.scalars(sa.select(Product))}
    assert all(o.amount_fen == prices[o.product_id] * o.quantity for o in orders if o.product_id)
    attributed = [o for o in orders if o.booking]
    assert all(o.booking.status in ("ended", "live") for o in attributed)
    assert all(o.booking.starts_at <= o.ordered_at < o.booking.ends_at and o.ordered_at <= INSTANTS[0]
               for o in attributed)
    by_hour = Counter(o.ordered_at.astimezone(SHANGHAI).hour for o in orders)
    assert max(by_hour, key=by_hour.get) in (19, 20, 21, 22)
    orders_by_tenant = Counter(o.booking.tenant.name for o in attributed)
    assert orders_by_tenant.most_common(1)[0][0] == XILIU
    admin = db_session.scalar(sa.select(User).where(User.role == "admin"))
    with app.test_request_context():
        snap = screen.snapshot(db_session, admin)
    assert snap["totals"]["live_rooms"] >= 5 and snap["totals"]["alerts"] >= 1
    assert all(r["orders"] > 0 for r in snap["live"] if r["elapsed_minutes"] >= 30)
    loads = [r["live_load"] for r in snap["live"] if r["elapsed_minutes"] >= 60]
    assert min(loads) < 0.35 and max(loads) > 1.0, loads
    assert snap["rankings"]["rooms"] and snap["rankings"]["anchors"]


@pytest.mark.parametrize("hour", [10, 21])
def test_the_demo_day_shows_a_capacity_alert_on_the_screen_and_the_board(app, db_session, hour):
    """Done when: the demo's screen shows at least one capacity alert during the day (frozen clock);
    the board flags the same session."""
    from datetime import date

    from opsroom.services.bookings import board
    from opsroom.services.sales import screen

    clock.set_now(datetime(2026, 11, 20, hour, 5, tzinfo=SHANGHAI))
    load_demo(db_session, wipe=True, order_scale=1.0, history_days=1)
    admin = db_session.scalar(sa.select(User).where(User.role == "admin"))
    with app.test_request_context():
        snap = screen.snapshot(db_session, admin)
    alerts = {r["booking_id"] for r in snap["live"] if r["alert"]}
    assert snap["totals"]["alerts"] == len(alerts) >= 1
    lanes = board.day(db_session, admin, date(2026, 11, 20))
    assert alerts <= {booking_id for lane in lanes for booking_id in lane.alerts}


def test_demo_live_feeds_the_live_sessions_through_ingestion(app, db_session):
    """`demo-live --count 2` adds orders to the sessions live now (and only to them), and stops."""
    clock.set_now(INSTANTS[0])
    load_demo(db_session, wipe=True, order_scale=SMALL, history_days=WEEK)
    before = _count(db_session, Order)
    last_id = db_session.scalar(sa.select(sa.func.max(Order.id)))
    result = app.test_cli_runner().invoke(args=["demo-live", "--interval", "0", "--count", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.count("round ") == 2
    new = db_session.scalars(sa.select(Order).where(Order.id > last_id)).all()
    assert len(new) == _count(db_session, Order) - before > 0
    assert all(o.booking.status == "live" and o.booking.starts_at <= o.ordered_at <= INSTANTS[0] for o in new)
    assert all(o.batch_id is not None for o in new)  # through ingestion, which records its batch



def test_prime_time_demand_was_turned_away(demo, db_session):
    """The turned-away chart was always zero on the demo. Some prime-time sessions'
    slots were wanted by another tenant, once per user and window."""
    from opsroom.models import TurnedAway

    rows = list(db_session.scalars(sa.select(TurnedAway)))
    assert len(rows) >= 20
    assert {r.hour for r in rows} <= set(range(18, 23))
    assert len({(r.user_id, r.starts_at, r.ends_at) for r in rows}) == len(rows)
    by_id = {b.id: b for b in _bookings(db_session)}
    assert all(r.tenant_id not in {b.tenant_id for b in by_id.values() if b.room_id == r.room_id
                                   and b.starts_at == r.starts_at} for r in rows)
