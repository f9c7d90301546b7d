"""`sales_quarters` (migration 0007), what the big screen sums for today, must
always equal a count of the orders themselves: whatever inserts, re-imports
(the upsert), status changes, re-attributions, moves in time and deletes
happened, on both engines, and for orders that were there before the
migration."""
from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom.migrate import upgrade
from opsroom.models import Order, sales_quarters, User
from opsroom.domain.statuses import SOLD_STATUSES
from tests.conftest import at
from opsroom.services.sales.ingestion import ingest_rows


def from_orders(session) -> dict[tuple[int, int], tuple[int, int]]:
    """(session, quarter) → (sold orders, GMV), counted from the orders."""
    out: dict[tuple[int, int], list[int]] = {}
    for booking_id, ordered_at, amount in session.execute(
            sa.select(Order.booking_id, Order.ordered_at, Order.amount_fen).where(Order.status.in_(SOLD_STATUSES))):
        acc = out.setdefault((booking_id or 0, int(ordered_at.timestamp()) // 900), [0, 0])
        acc[0] += 1
        acc[1] += amount
    return {k: tuple(v) for k, v in out.items()}


def from_quarters(session) -> dict[tuple[int, int], tuple[int, int]]:
    sq = sales_quarters.c
    rows = session.execute(sa.select(sq.booking_id, sq.quarter, sa.func.sum(sq.orders), sa.func.sum(sq.gmv_fen))
                           .group_by(sq.booking_id, sq.quarter)).all()
    return {(b, q): (int(n), int(g)) for b, q, n, g in rows if n or g}


def test_quarter_sums_follow_every_kind_of_change(make, db_session):
    rng = random.Random(20261203)
    tenant = make.tenant()
    bookings = [make.booking(make.room(), tenant, starts_at=at(0, 8 + 3 * i), ends_at=at(0, 10 + 3 * i))
                for i in range(3)]
    user = make.user("coordinator")
    db_session.commit()

    def instant():
        # Quarter-hour edges on purpose: the first and the last microsecond of a quarter.
        base = at(0, rng.randrange(6, 20), rng.choice((0, 14, 15, 29, 44, 45, 59)))
        return base + rng.choice((timedelta(0), timedelta(seconds=59, microseconds=999_999)))

    made = []
    for _ in range(60):  # row by row, as the factories write
        made.append(make.order(rng.choice([*bookings, None]), ordered_at=instant(),
                               amount_fen=rng.randrange(100, 100_000),
                               status=rng.choice(("paid", "paid", "refunded", "cancelled"))))
    db_session.commit()
    assert from_quarters(db_session) == from_orders(db_session)

    # The import's upsert: new orders, and known ones again with new figures or status.
    def row(ext, booking):
        status = rng.choice(("paid", "refunded", "cancelled"))
        amount = rng.randrange(100, 100_000)
        return {"platform": "douyin", "external_id": ext, "booking_id": booking.id if booking else None,
                "ordered_at": booking.starts_at + timedelta(minutes=rng.randrange(0, 110)) if booking else instant(),
                "status": status, "amount_fen": amount, "refund_fen": amount if status == "refunded" else 0,
                "quantity": 1}
    rows = [row(f"IMP{i}", rng.choice([*bookings, None])) for i in range(40)]
    rows += [row(o.external_id, rng.choice(bookings)) for o in rng.sample(made, 20)]
    result = ingest_rows(db_session, user, rows)
    assert result["errors"] == [], result
    assert from_quarters(db_session) == from_orders(db_session)

    # Edits by hand: status, amount, session, time; and deletes.
    db_session.expire_all()
    stored = db_session.scalars(sa.select(Order).order_by(Order.id)).all()
    for order in rng.sample(stored, 30):
        change = rng.choice(("status", "amount", "booking", "time"))
        if change == "status":
            order.status = rng.choice(("paid", "refunded", "cancelled"))
            order.refund_fen = order.amount_fen if order.status == "refunded" else 0
        elif change == "amount":
            order.amount_fen = rng.randrange(100, 100_000)
            order.refund_fen = order.amount_fen if order.status == "refunded" else 0
        elif change == "booking":
            order.booking_id = rng.choice([b.id for b in bookings] + [None])
        else:
            order.ordered_at = instant()
    db_session.commit()
    assert from_quarters(db_session) == from_orders(db_session)

    db_session.execute(sa.delete(Order).where(Order.id.in_([o.id for o in rng.sample(stored, 15)])))
    # One statement over many rows (PostgreSQL's statement-level triggers see them together).
    db_session.execute(sa.update(Order).where(Order.status == "cancelled").values(status="paid"))
    db_session.commit()
    assert from_quarters(db_session) == from_orders(db_session)
    assert from_orders(db_session)  # the check compared something


def test_the_screens_day_is_exact_at_midnight(api, make, db_session):
    """Orders in the first and the last quarter of today count; a microsecond
    outside does not (park days start and end on quarter hours)."""
    tenant = make.tenant()
    booking = make.booking(make.room(), tenant, starts_at=at(0, 9), ends_at=at(0, 11))
    midnight, next_midnight = at(0, 0), at(1, 0)
    for when, amount in ((midnight, 1), (next_midnight - timedelta(microseconds=1), 10),
                         (midnight - timedelta(microseconds=1), 100), (next_midnight, 1000)):
        make.order(booking, ordered_at=when, amount_fen=amount)
    make.order(None, ordered_at=midnight + timedelta(minutes=7), amount_fen=5)
    db_session.commit()
    data = api("manager").get("/screen").json
    assert data["totals"]["orders"] == 3 and data["totals"]["gmv"] == "0.16"
    assert [(r["orders"], r["gmv"]) for r in data["rankings"]["rooms"]] == [(2, "0.11")]


def test_orders_from_before_the_migration_are_summed(database_url):
    """Upgrading a park that already has orders fills the table from them (a
    database of its own, taken down to 0006 and up again by the migrations)."""
    from alembic import command

    from opsroom.db import make_engine
    from opsroom.migrate import alembic_config
    from tests.support.factories import Factory
    from tests.support.live import backend_url, provision_database

    url, remove = provision_database(backend_url("sqlite" if database_url.startswith("sqlite") else "postgres"))
    engine = make_engine(url)
    try:
        # The rows are made with today's models, then the schema is taken down
        # to 0006 (which drops the sums and keeps the orders) and up again.
        with so.Session(engine) as session:
            make = Factory(session)
            booking = make.booking(make.room(), make.tenant(), starts_at=at(0, 9), ends_at=at(0, 11))
            for minute, status in ((5, "paid"), (10, "refunded"), (12, "cancelled")):
                make.order(booking, ordered_at=at(0, 9, minute), amount_fen=1000, status=status)
            make.order(None, ordered_at=at(0, 9, 1), amount_fen=7)
            session.commit()
            expected = from_orders(session)
            booking_id = booking.id
        with engine.begin() as conn:
            cfg = alembic_config(str(engine.url))
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006")
            assert not sa.inspect(conn).has_table("sales_quarters")
        upgrade(engine)
        with so.Session(engine) as session:
            assert from_quarters(session) == expected == {
                (booking_id, int(at(0, 9).timestamp()) // 900): (2, 2000),
                (0, int(at(0, 9).timestamp()) // 900): (1, 7)}
    finally:
        engine.dispose()
        remove()


def _order_row(ext: str, booking, minute: int, status: str = "paid", amount: int = 1000) -> dict:
    return {"platform": "douyin", "external_id": ext, "booking_id": booking.id if booking else None,
            "ordered_at": at(0, 9, minute), "status": status, "amount_fen": amount,
            "refund_fen": amount if status == "refunded" else 0, "quantity": 1}


def test_the_scheduler_folds_small_imports_into_one_row_per_session_and_quarter(make, db_session):
    """PostgreSQL's triggers append a row per import and session-quarter (an
    order at a time: a row each); the `sales_quarters` job folds them, and the
    sums stay those of the orders. SQLite keeps one row per pair all along."""
    from opsroom.services.operations.scheduler import JOBS
    from opsroom.services.sales import screen

    tenant = make.tenant()
    booking = make.booking(make.room(), tenant, starts_at=at(0, 9), ends_at=at(0, 11))
    user = make.user("coordinator")
    db_session.commit()
    for i in range(12):  # one order an import, four quarters
        ingest_rows(db_session, user, [_order_row(f"ONE{i}", booking, 5 * i)])
    ingest_rows(db_session, user, [_order_row("ONE0", booking, 0, status="cancelled")])
    count = sa.select(sa.func.count()).select_from(sales_quarters)
    postgres = db_session.get_bind().dialect.name == "postgresql"
    assert db_session.scalar(count) == (13 if postgres else 4)
    folded = screen.compact_quarters(db_session)
    assert folded == (13 if postgres else 0)
    assert db_session.scalar(count) == 4
    assert from_quarters(db_session) == from_orders(db_session)
    assert sum(n for n, _ in from_quarters(db_session).values()) == 11
    assert screen.compact_quarters(db_session) == 0  # nothing left to fold
    assert "sales_quarters" in JOBS


def test_folding_while_imports_run_loses_nothing(committed_app):
    """Real concurrent clients: four import orders one at a time while another
    folds again and again; afterwards the sums are exactly the orders'."""
    import threading

    from opsroom.db import intent
    from opsroom.services.park import users
    from opsroom.services.sales import screen
    from tests.support.factories import Factory

    with committed_app.app_context(), intent(write=True):
        session = committed_app.extensions["opsroom.sessionmaker"]()
        make = Factory(session)
        booking = make.booking(make.room(), make.tenant(), starts_at=at(0, 9), ends_at=at(0, 11))
        user = users.create_user(session, email="fold@test.example", role="coordinator", password="fold-password-1")
        session.commit()
        user_id = user.id
        session.close()
    done = threading.Event()
    errors: list[BaseException] = []

    def work(fn):
        try:
            with committed_app.app_context(), intent(write=True):
                session = committed_app.extensions["opsroom.sessionmaker"]()
                try:
                    fn(session)
                finally:
                    session.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    def importer(n):
        def run(session):
            who = session.get(User, user_id)
            for i in range(40):
                ingest_rows(session, who, [_order_row(f"C{n}-{i}", booking, (n * 40 + i) % 60,
                                                                     status=("paid", "refunded")[i % 2])])
                if i % 5 == 4:  # and a change of one already in
                    ingest_rows(session, who, [_order_row(f"C{n}-{i - 2}", booking, 0,
                                                                         status="cancelled")])
        return run

    def folder(session):
        while not done.wait(0.002):  # (a no-op on SQLite: do not hog the interpreter)
            screen.compact_quarters(session)

    threads = [threading.Thread(target=work, args=(importer(n),)) for n in range(4)]
    fold = threading.Thread(target=work, args=(folder,))
    fold.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    fold.join(timeout=60)
    assert not errors, errors
    with committed_app.app_context():
        session = committed_app.extensions["opsroom.sessionmaker"]()
        screen.compact_quarters(session)
        assert from_quarters(session) == from_orders(session)
        assert sum(n for n, _ in from_orders(session).values()) == 4 * (40 - 8)
        session.close()
