"""Loading the demo park: `flask --app wsgi seed-demo [--force]` calls
`load_demo(get_session(), wipe=force)` inside an app context.

Everything is drawn from `random.Random(SEED)` in a fixed order, so two loads at
the same "now" give the same park. Only "today" (from `opsroom.clock.now()`, in
the park timezone) moves the weeks of bookings and decides which sessions are
past, live or still to come.
"""
from __future__ import annotations

import random

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import Base
from opsroom.demo.builders import (
    Demo, build_anchors, build_blackouts, build_bookings, build_people_and_goods, build_products, build_rooms,
    build_requests, build_series, build_tenant_users, build_tenants, build_turned_away, build_users,
)
from opsroom.demo.data import DEMO_PASSWORD, PARK_NAME, SEED
from opsroom.demo.orders import build_orders
from opsroom.settings import settings_of
from opsroom.models import Anchor, Blackout, Booking, Order, Product, Room, Series, Tenant, User


def wipe_all(session: so.Session) -> None:
    """Delete every row of every table, children first."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    session.flush()


BUILDERS = (build_users, build_tenants, build_tenant_users, build_rooms, build_blackouts, build_series, build_bookings,
            build_anchors, build_products, build_people_and_goods, build_orders, build_turned_away, build_requests)


def _count(session: so.Session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def load_demo(session: so.Session, *, wipe: bool = False, order_scale: float = 1.0,
              history_days: int | None = None) -> str:
    """Build the demo park in `session` and commit; returns a one-line summary.

    With `wipe`, every row of every table is deleted first. The park's timezone
    comes from the session's settings; "now" comes from `opsroom.clock`.
    Bookings run from the 1st of the previous month (or `history_days` before
    today) to two weeks ahead.
    """
    if wipe:
        wipe_all(session)
    tz = settings_of(session).tz
    now = clock.now()
    demo = Demo(session=session, rng=random.Random(SEED), tz=tz, now=now, today=now.astimezone(tz).date(),
                order_scale=order_scale, history_days=history_days)
    for builder in BUILDERS:
        builder(demo)
    session.commit()
    return (
        f"demo park {PARK_NAME}: {_count(session, Room)} rooms, {_count(session, Tenant)} tenants, "
        f"{_count(session, Booking)} bookings, {_count(session, Anchor)} anchors, "
        f"{_count(session, Product)} products, {_count(session, Order)} orders, {_count(session, User)} users "
        f"({_count(session, Blackout)} blackouts, {_count(session, Series)} series; "
        f"password for *@park.demo: {DEMO_PASSWORD})"
    )
