"""Query discipline: the number of SQL statements behind each main page and
each API list does not grow with the rooms, bookings, anchors, products, orders or
notifications it shows. Each page is read with N objects of every kind, then with 3N;
the statement counts (SQLAlchemy's before_cursor_execute) must be equal."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from opsroom.models import LineupItem, Notification
from tests.conftest import Auth, at

N = 2


class Counter:
    def __init__(self, engine):
        self.engine, self.n, self.statements = engine, 0, []

    def __call__(self, conn, cursor, statement, *args):
        self.n += 1
        self.statements.append(statement)

    def count(self, fn) -> int:
        sa.event.listen(self.engine, "before_cursor_execute", self)
        try:
            self.n, self.statements = 0, []
            response = fn()
        finally:
            sa.event.remove(self.engine, "before_cursor_execute", self)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return self.n


@pytest.fixture
def world(make, db_session):
    """grow(k): k more rooms, each with a session live now (anchor, 2 lineup products, 3 orders),
    one later today, and one on day i + 1 (the anchor user's), and a notification for the
    coordinator and the anchor user each."""
    tenant = make.tenant()
    coordinator = make.user("coordinator")
    anchor_user = make.user("anchor")
    me = make.anchor(user_id=anchor_user.id, max_minutes_per_day=1440, min_rest_minutes=0)
    state = {"k": 0, "first_booking": None, "first_room": None}

    def grow(k: int) -> None:
        for _ in range(k):
            i = state["k"]
            state["k"] += 1
            room = make.room()
            live = make.booking(room, tenant, starts_at=at(0, 9), ends_at=at(0, 11), status="live")
            later = make.booking(room, tenant, starts_at=at(0, 14), ends_at=at(0, 16))
            tomorrow = make.booking(room, tenant, starts_at=at(1 + i, 14), ends_at=at(1 + i, 16))
            state["first_booking"] = state["first_booking"] or live
            state["first_room"] = state["first_room"] or room
            make.assign(live, make.anchor())
            make.assign(later, make.anchor())
            make.assign(tomorrow, me)
            for pos in range(2):
                product = make.product(tenant)
                db_session.add(LineupItem(booking_id=state["first_booking"].id, product_id=product.id,
                                          position=10 * i + pos))
                make.assign(state["first_booking"], make.anchor(), role="assistant") if pos else None
            for m in range(3):
                make.order(live, ordered_at=at(0, 9, 10 + m))
            for user in (coordinator, anchor_user):
                db_session.add(Notification(user_id=user.id, kind="reminder", key=f"qc-{user.id}-{i}",
                                            booking_id=later.id, title="提醒"))
            db_session.commit()

    return {"grow": grow, "state": state, "coordinator": coordinator, "anchor_user": anchor_user, "anchor": me}


def _measure(app, world, grow_by, reads):
    counter = Counter(app.extensions["opsroom.engine"])
    world["grow"](N)
    for read in reads.values():  # warm caches (first-use queries) before counting
        counter.count(read)
    first = {name: counter.count(read) for name, read in reads.items()}
    world["grow"](grow_by)
    second, repeated = {}, {}
    for name, read in reads.items():
        # read once before counting: the reports fold the new sessions into their rollups on the first read
        # after a change (work proportional to the change, not to what the page shows)
        counter.count(read)
        second[name] = counter.count(read)
        repeated[name] = max(counter.statements, key=counter.statements.count)[:300]
    grew = {name: (first[name], second[name], repeated[name]) for name in reads if second[name] != first[name]}
    assert not grew, f"statement counts grew from {N} to {N + grow_by} objects: {grew}"
    return first


def test_staff_pages_do_not_grow_with_what_they_show(app, client, auth, world, make):
    manager = make.user("manager")
    today = at(0, 0).date()
    state = world["state"]
    auth.login(world["coordinator"].email)
    reads = {
        "board day": lambda: client.get(f"/board/?date={today}"),
        "board week": lambda: client.get(f"/board/rooms/{state['first_room'].id}?week={today}"),
        "booking page": lambda: client.get(f"/bookings/{state['first_booking'].id}"),
        "orders page": lambda: client.get("/orders/"),
        "inbox": lambda: client.get("/notifications/"),
    }
    _measure(app, world, 2 * N, reads)
    manager_client = app.test_client()
    Auth(manager_client).login(manager.email)
    _measure(app, world, 2 * N, {
        "reports page": lambda: manager_client.get(f"/reports/?first={today - timedelta(days=3)}&last={today + timedelta(days=3)}"),
        "screen": lambda: manager_client.get("/screen/data"),
    })


def test_anchor_schedule_does_not_grow_with_sessions(app, client, auth, world):
    auth.login(world["anchor_user"].email)
    _measure(app, world, 2 * N, {"anchor schedule": lambda: client.get("/me/schedule")})


def test_api_lists_do_not_grow_with_what_they_list(app, world, api):
    admin = api("admin")
    day = at(0, 0).date()
    reads = {
        "rooms": lambda: admin.get("/rooms"),
        "bookings": lambda: admin.get(f"/bookings?from={day}&to={day + timedelta(days=10)}"),
        "anchors": lambda: admin.get("/anchors"),
        "products": lambda: admin.get("/products"),
        "orders": lambda: admin.get("/orders"),
        "screen": lambda: admin.get("/screen"),
        "reports": lambda: admin.get(f"/reports/utilization?from={day}&to={day + timedelta(days=3)}&group_by=room"),
        "anchor schedule": lambda: admin.get(
            f"/anchors/{world['anchor'].id}/schedule?from={day}&to={day + timedelta(days=10)}"),
        "booking stats": lambda: admin.get(f"/bookings/{world['state']['first_booking'].id}/stats"),
    }
    _measure(app, world, 2 * N, reads)


def test_notifications_api_does_not_grow(app, world, client):
    from opsroom.services.park import users
    from tests.conftest import Api

    world["grow"](0)
    token = users.create_token(app.extensions["opsroom.sessionmaker"](), world["coordinator"], "qc")
    session = app.extensions["opsroom.sessionmaker"]()
    session.commit()
    coordinator = Api(client, token)
    _measure(app, world, 2 * N, {"notifications": lambda: coordinator.get("/notifications")})


def test_api_authentication_is_one_statement(app, world, client):
    """Every API request authenticates with one statement (token, user and linked anchor
    profile together): GET /me of a user with no anchor profile sends exactly one, and an
    anchor's /me one more, for the profile it shows."""
    from opsroom.services.park import users
    from tests.conftest import Api

    world["grow"](1)
    session = app.extensions["opsroom.sessionmaker"]()
    tokens = {who: users.create_token(session, world[who], "qc") for who in ("coordinator", "anchor_user")}
    session.commit()
    session.close()
    counter = Counter(app.extensions["opsroom.engine"])

    def queries(read) -> list[str]:  # the test's own savepoints aside
        counter.count(read)
        return [s for s in counter.statements if not s.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]

    coordinator, anchor = Api(client, tokens["coordinator"]), Api(client, tokens["anchor_user"])
    assert len(queries(lambda: coordinator.get("/me"))) == 1
    assert anchor.get("/me").get_json()["anchor"]["id"] == world["anchor"].id
    assert len(queries(lambda: anchor.get("/me"))) == 2
