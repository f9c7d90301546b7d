"""Session stats (GET /bookings/{id}/stats, services.stats): exact figures against
hand-computed cases, live load and capacity alerts, access by role and owner."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from opsroom.services.sales import stats
from tests.conftest import at, configure


@pytest.fixture
def session_with_orders(make):
    """Yesterday 19:30–21:30 in a room taking 600 orders an hour, with a lineup of two products."""
    room = make.room(order_capacity_per_hour=600)
    tenant = make.tenant()
    booking = make.booking(room, tenant, starts_at=at(-1, 19, 30), ends_at=at(-1, 21, 30), status="ended")
    p1 = make.product(tenant, sku="XL-001", price_fen=10000)
    p2 = make.product(tenant, sku="XL-002", price_fen=5000)
    from opsroom.models import LineupItem

    make.session.add_all([LineupItem(booking_id=booking.id, product_id=p1.id, position=1),
                          LineupItem(booking_id=booking.id, product_id=p2.id, position=2, planned_quantity=10)])
    make.session.commit()
    o = make.order
    o(booking, ordered_at=at(-1, 19, 30), amount_fen=10000, product_id=p1.id, sku="XL-001")  # step 0, 19h
    o(booking, ordered_at=at(-1, 19, 34).replace(second=59), amount_fen=5000, sku="XL-002")  # step 0, by SKU
    o(booking, ordered_at=at(-1, 19, 35), amount_fen=8000, status="refunded")  # step 1, refunded in full
    o(booking, ordered_at=at(-1, 20, 0), amount_fen=12990, product_id=p1.id, sku="XL-001")  # step 6, 20h
    o(booking, ordered_at=at(-1, 20, 10), amount_fen=3000, quantity=2, sku="UNKNOWN")  # step 8
    o(booking, ordered_at=at(-1, 20, 30), amount_fen=990)  # step 12
    o(booking, ordered_at=at(-1, 20, 59).replace(second=59), amount_fen=1000)  # step 17, still 20h
    o(booking, ordered_at=at(-1, 21, 29).replace(second=59), amount_fen=2000)  # step 23, the last of the session
    o(booking, ordered_at=at(-1, 21, 40), amount_fen=4000)  # step 26: the attribution grace after the end
    o(booking, ordered_at=at(-1, 20, 5), amount_fen=50000, status="cancelled", product_id=p1.id)  # counts nowhere
    return booking


def test_stats_match_the_hand_computed_session(api, session_with_orders):
    """9 sold orders (a cancelled one excluded), GMV incl. the refunded order, net = GMV − refunds,
    average rounded to the fen, capacity 600/h × 2 h, and the peak in the park-local 20:00 hour."""
    r = api("coordinator").get(f"/bookings/{session_with_orders.id}/stats")
    assert r.status_code == 200, r.json
    s = r.json
    assert (s["orders"], s["gmv"], s["refunds"], s["net_gmv"], s["refunded_orders"]) == (9, "469.80", "80.00", "389.80", 1)
    assert s["avg_order_value"] == "52.20"
    assert s["orders_per_hour"] == 4.5
    assert (s["capacity"], s["load"]) == (1200, 0.0075)
    assert s["peak_hour"] == "2026-11-19T20:00:00+08:00" and s["peak_hour_orders"] == 4
    assert s["buyers"] is None  # no order names its buyer
    assert s["live"] is False and s["live_load"] is None and s["alert"] is False
    steps = s["per_5min"]
    assert len(steps) == 27 and steps[0]["starts_at"] == "2026-11-19T19:30:00+08:00"
    assert {i: x["orders"] for i, x in enumerate(steps) if x["orders"]} == {0: 2, 1: 1, 6: 1, 8: 1, 12: 1, 17: 1, 23: 1, 26: 1}
    assert s["capacity_per_5min"] == 50 and s["outside_chart"] == 0


def test_per_product_matches_by_product_then_by_sku_of_the_lineup(api, session_with_orders):
    s = api("manager").get(f"/bookings/{session_with_orders.id}/stats").json
    first, second = s["per_product"]
    assert (first["sku"], first["orders"], first["quantity"], first["gmv"]) == ("XL-001", 2, 2, "229.90")
    assert (second["sku"], second["orders"], second["gmv"], second["planned_quantity"]) == ("XL-002", 1, "50.00", 10)
    assert (s["other_products"]["orders"], s["other_products"]["gmv"], s["other_products"]["refunds"]) == (6, "189.90", "80.00")


def test_capacity_zero_gives_null_load_and_an_empty_session_gives_nulls(api, make):
    room = make.room(order_capacity_per_hour=0)
    booking = make.booking(room, starts_at=at(-1, 10), ends_at=at(-1, 12), status="ended")
    empty = api("admin").get(f"/bookings/{booking.id}/stats").json
    assert (empty["orders"], empty["gmv"], empty["avg_order_value"], empty["capacity"], empty["load"]) == (0, "0.00", None, 0, None)
    assert empty["peak_hour"] is None and empty["peak_hour_orders"] == 0 and len(empty["per_5min"]) == 24
    make.order(booking, amount_fen=100)
    assert api("admin").get(f"/bookings/{booking.id}/stats").json["load"] is None


def test_buyers_are_counted_when_every_order_names_one(api, make):
    booking = make.booking(starts_at=at(-1, 10), status="ended")
    for buyer in ("b1", "b2", "b1"):
        make.order(booking, buyer=buyer)
    assert api("coordinator").get(f"/bookings/{booking.id}/stats").json["buyers"] == 2


@pytest.fixture
def live_session(make):
    """Checked in at 09:25 for 09:30–12:00, still "confirmed" (the scheduler has not ticked);
    now is 10:00, the room takes 10 orders an hour: the live window [09:30, 10:00) holds 5."""
    room = make.room(order_capacity_per_hour=10)
    booking = make.booking(room, starts_at=at(0, 9, 30), ends_at=at(0, 12), status="confirmed",
                           checked_in_at=at(0, 9, 25))
    for minute in (31, 40, 50, 59):
        make.order(booking, ordered_at=at(0, 9, minute))
    return booking


def test_live_load_counts_the_elapsed_time_and_alerts_strictly_over_the_threshold(app, api, make, live_session):
    """4 orders against a capacity of 5 for the 30 elapsed minutes: 80 %, no alert at 90 %;
    a fifth order makes it 100 %; a lower threshold alerts at once."""
    client = api("coordinator")
    s = client.get(f"/bookings/{live_session.id}/stats").json
    assert (s["live"], s["live_load"], s["alert"], s["alert_threshold"]) == (True, 0.8, False, 0.9)
    configure(app, CAPACITY_ALERT_PERCENT=70)
    assert client.get(f"/bookings/{live_session.id}/stats").json["alert"] is True
    configure(app, CAPACITY_ALERT_PERCENT=90)
    make.order(live_session, ordered_at=at(0, 9, 59))
    s = client.get(f"/bookings/{live_session.id}/stats").json
    assert (s["live_load"], s["alert"]) == (1.0, True)


def test_live_load_looks_at_the_last_window_only(app, api, make):
    """Two hours into a session the live load counts only the last hour's orders."""
    room = make.room(order_capacity_per_hour=4)
    booking = make.booking(room, starts_at=at(0, 8), ends_at=at(0, 11), status="live", checked_in_at=at(0, 7, 50))
    for minute in (0, 10, 20, 30, 40):  # 08:xx, outside [09:00, 10:00)
        make.order(booking, ordered_at=at(0, 8, minute))
    make.order(booking, ordered_at=at(0, 9, 30))
    s = api("admin").get(f"/bookings/{booking.id}/stats").json
    assert (s["orders"], s["live_load"], s["alert"]) == (6, 0.25, False)


@contextmanager
def count_queries(engine):
    statements = []

    def before(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def test_loads_of_many_bookings_in_one_query(app, db_session, make, session_with_orders):
    """The batch used by the managers' summary: orders ÷ capacity per booking, None without capacity."""
    no_capacity = make.booking(make.room(order_capacity_per_hour=0), starts_at=at(-1, 10), status="ended")
    untouched = make.booking(make.room(order_capacity_per_hour=100), starts_at=at(-2, 10), status="ended")
    with count_queries(app.extensions["opsroom.engine"]) as queries:
        result = stats.loads(db_session, [session_with_orders, no_capacity.id, untouched])
    assert result == {session_with_orders.id: 0.0075, no_capacity.id: None, untouched.id: 0.0}
    assert len(queries) == 1
    assert stats.loads(db_session, []) == {}


@pytest.mark.parametrize("role,status", [("admin", 200), ("manager", 200), ("coordinator", 200), ("anchor", 403)])
def test_staff_read_any_session_and_an_anchor_not_another_ones(api, session_with_orders, role, status):
    r = api(role).get(f"/bookings/{session_with_orders.id}/stats")
    assert r.status_code == status
    if status == 403:
        assert r.json["error"]["code"] == "forbidden"


def test_an_anchor_reads_the_stats_of_their_own_session(api, make, db_session, session_with_orders):
    from opsroom.services.park import users

    user = make.user("anchor")
    make.assign(session_with_orders, make.anchor(user_id=user.id))
    token = users.create_token(db_session, user, "t")
    db_session.commit()
    from tests.conftest import Api

    r = Api(api("admin").client, token).get(f"/bookings/{session_with_orders.id}/stats")
    assert r.status_code == 200 and r.json["orders"] == 9


def test_stats_need_a_token_and_an_existing_booking(api, client):
    assert client.get("/api/v1/bookings/1/stats").status_code == 401
    r = api("admin").get("/api/v1/bookings/999999/stats".removeprefix("/api/v1"))
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    assert api("admin").get("/bookings/99999999999999/stats").status_code == 404


def test_a_session_off_the_minute_grid_still_gets_exact_five_minute_steps(api, make):
    """Steps count from the session's own start, to the second, when it does not start on a whole minute."""
    booking = make.booking(starts_at=at(-1, 19, 30).replace(second=30), ends_at=at(-1, 20, 0).replace(second=30),
                           status="ended")
    make.order(booking, ordered_at=at(-1, 19, 35).replace(second=20))  # 4:50 in: step 0
    make.order(booking, ordered_at=at(-1, 19, 35).replace(second=40))  # 5:10 in: step 1
    make.order(booking, ordered_at=at(-1, 20, 0).replace(second=10))  # 29:40 in: step 5, the clock's 20:00 hour
    s = api("admin").get(f"/bookings/{booking.id}/stats").json
    assert [x["orders"] for x in s["per_5min"]] == [1, 1, 0, 0, 0, 1]
    assert (s["peak_hour"], s["peak_hour_orders"]) == ("2026-11-19T19:00:00+08:00", 2)
