"""The forecast at booking on a real database (services/sales/forecast.py): the
history it loads (ended sessions of the window, sold orders per clock hour), the
fallback order of the bases, the arithmetic on a hand-built history, the room's
fit and the better rooms."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from opsroom.models import Order
from opsroom.services.errors import Forbidden, NotFound, ValidationFailed
from opsroom.services.sales.forecast import forecast_for, forecast_json
from tests.conftest import at

_ids = itertools.count(1)


def sold(db_session, booking, per_hour: list[int], status: str = "paid") -> None:
    """`per_hour[i]` orders in the booking's i-th hour (all at its 10th minute)."""
    rows = []
    for i, n in enumerate(per_hour):
        when = booking.starts_at + timedelta(hours=i, minutes=10)
        rows += [Order(platform="douyin", external_id=f"F{next(_ids):010d}", booking_id=booking.id,
                       attributed_by="booking", quantity=1, amount_fen=100, refund_fen=0, status=status,
                       ordered_at=when) for _ in range(n)]
    db_session.add_all(rows)
    db_session.commit()


def session_(make, db_session, room, tenant, starts_at, per_hour, *, anchors=(), status="ended", hours=2):
    b = make.booking(room, tenant, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours), status=status)
    for a in anchors:
        make.assign(b, a)
    sold(db_session, b, per_hour)
    return b


@pytest.fixture
def staff(make):
    return make.user("coordinator")


def test_arithmetic_of_a_hand_built_history_and_the_better_rooms(make, db_session, staff):
    # Five sessions of one tenant, all ending at the same instant on the query's weekday
    # (so equal weights), in five rooms; their first hour sold 20, 40, 60, 80, 100, the second none.
    tenant = make.tenant()
    rooms = [make.room(kind="服装", order_capacity_per_hour=60) for _ in range(5)]
    for room, n in zip(rooms, (20, 40, 60, 80, 100)):
        session_(make, db_session, room, tenant, at(-6, 20), [n, 0])
    # Cancelled orders are not sales: they change nothing.
    sold(db_session, make.booking(rooms[0], tenant, starts_at=at(-13, 8), status="cancelled"), [500])
    small = make.room(kind="服装", order_capacity_per_hour=80)
    big = make.room(kind="服装", order_capacity_per_hour=200)
    bigger_busy = make.room(kind="服装", order_capacity_per_hour=150)
    make.booking(bigger_busy, make.tenant(), starts_at=at(1, 21))
    make.room(kind="服装", order_capacity_per_hour=90)          # too small for the p90 peak
    make.room(kind="食品", order_capacity_per_hour=500)         # another kind
    make.room(kind="服装", order_capacity_per_hour=500, active=False)
    just = make.room(kind="服装", order_capacity_per_hour=100)  # exactly the p90 peak: enough

    result = forecast_for(db_session, staff, tenant.id, small.id, at(1, 20), at(1, 22))
    out = forecast_json(result)
    # Rates 10..50 per hour; Hazen positions 0.1 … 0.9: median 30, p90 the largest.
    assert out["orders_per_hour"] == {"p50": 30.0, "p90": 50.0}
    assert out["peak_hour_orders"] == {"p50": 60.0, "p90": 100.0}
    assert out["peak_hour"] == 20
    assert (out["basis"], out["sessions"]) == ("tenant", 5)
    assert out["capacity_per_hour"] == 80 and out["fits"] is False
    assert [r["room_id"] for r in out["better_rooms"]] == [just.id, big.id]
    assert out["better_rooms"][0] == {"room_id": just.id, "code": just.code, "order_capacity_per_hour": 100}

    fitting = forecast_json(forecast_for(db_session, staff, tenant.id, big.id, at(1, 20), at(1, 22)))
    assert fitting["fits"] is True and fitting["better_rooms"] == []
    # A room without a capacity set has nothing to exceed.
    unset = make.room(kind="服装", order_capacity_per_hour=0)
    assert forecast_json(forecast_for(db_session, staff, tenant.id, unset.id, at(1, 20), at(1, 22)))["fits"] is True


def test_fallback_order_tenant_anchors_then_tenant_then_room_kind_then_park(make, db_session, staff):
    tenant, other = make.tenant(), make.tenant()
    host, stranger = make.anchor(), make.anchor()
    room = make.room(kind="服装")
    food = make.room(kind="食品")
    # The tenant: five prime-time sessions with the host (30/h), five mornings without (10/h).
    for d in range(5):
        session_(make, db_session, room, tenant, at(-1 - d, 20), [60, 0], anchors=[host])
        session_(make, db_session, room, tenant, at(-1 - d, 9), [20, 0])

    def ask(tenant_id, room_id, starts, anchors=()):
        return forecast_json(forecast_for(db_session, staff, tenant_id, room_id, starts, starts + timedelta(hours=2),
                                          anchors))

    prime = ask(tenant.id, room.id, at(1, 20), [host.id])
    assert (prime["basis"], prime["sessions"], prime["orders_per_hour"]["p50"]) == ("tenant_anchors", 5, 30.0)
    # The same anchor in the morning bucket: not enough such sessions → the tenant's ten.
    assert ask(tenant.id, room.id, at(1, 9), [host.id])["basis"] == "tenant"
    assert ask(tenant.id, room.id, at(1, 20), [stranger.id])["basis"] == "tenant"
    assert ask(tenant.id, room.id, at(1, 20))["sessions"] == 10
    # A tenant with no history: the room kind (all ten are 服装), then the park.
    assert (ask(other.id, room.id, at(1, 20))["basis"], ask(other.id, room.id, at(1, 20))["sessions"]) == ("room_kind", 10)
    assert ask(other.id, food.id, at(1, 20))["basis"] == "park"


def test_only_ended_sessions_of_the_window_before_the_start_count(make, db_session, staff):
    tenant = make.tenant()
    room = make.room()
    for d in range(4):
        session_(make, db_session, room, tenant, at(-1 - d, 20), [10, 0])
    # Not history: older than the window, a no-show, a cancelled one, one not yet ended.
    session_(make, db_session, room, tenant, at(-200, 20), [10, 0])
    session_(make, db_session, room, tenant, at(-8, 20), [10, 0], status="no_show")
    session_(make, db_session, room, tenant, at(-9, 20), [10, 0], status="cancelled")
    session_(make, db_session, room, tenant, at(0, 12), [10, 0], status="confirmed")
    out = forecast_json(forecast_for(db_session, staff, tenant.id, room.id, at(1, 20), at(1, 22)))
    # Four sessions are fewer than a basis needs: the room kind's (the same four) then the park's.
    assert (out["basis"], out["sessions"]) == ("park", 4)


def test_bad_input_and_roles(make, db_session, staff):
    room, tenant = make.room(), make.tenant()
    with pytest.raises(ValidationFailed):
        forecast_for(db_session, staff, tenant.id, room.id, at(1, 20), at(1, 20))
    with pytest.raises(ValidationFailed):
        forecast_for(db_session, staff, tenant.id, room.id, at(1, 20), at(3, 20))
    with pytest.raises(NotFound):
        forecast_for(db_session, staff, tenant.id, 10**6, at(1, 20), at(1, 22))
    with pytest.raises(NotFound):
        forecast_for(db_session, staff, 10**6, room.id, at(1, 20), at(1, 22))
    with pytest.raises(Forbidden):
        forecast_for(db_session, make.user("anchor"), tenant.id, room.id, at(1, 20), at(1, 22))
    empty = forecast_json(forecast_for(db_session, staff, tenant.id, room.id, at(1, 20), at(1, 22)))
    assert (empty["sessions"], empty["orders_per_hour"], empty["fits"]) == (0, {"p50": 0.0, "p90": 0.0}, True)


def test_the_sweep_stores_forecasts_and_the_board_shows_expected_load(make, db_session, staff, client, auth):
    from opsroom.services.sales.forecast import expected_loads, refresh_forecasts

    tenant = make.tenant()
    room = make.room(kind="服装", order_capacity_per_hour=50)
    for d in range(5):
        session_(make, db_session, room, tenant, at(-1 - d, 20), [60, 0])   # 30 an hour, peak 60
    soon = make.booking(room, tenant, starts_at=at(0, 20), ends_at=at(0, 22))
    far = make.booking(room, tenant, starts_at=at(5, 20), ends_at=at(5, 22))   # beyond the sweep's reach
    assert expected_loads(db_session, staff, [soon.id, far.id]) == {}
    assert refresh_forecasts(db_session) == {"forecast": 1}
    assert refresh_forecasts(db_session) == {"forecast": 0}    # fresh rows are kept
    loads = expected_loads(db_session, staff, [soon.id, far.id])
    assert set(loads) == {soon.id}
    assert (loads[soon.id].orders_per_hour, loads[soon.id].load, loads[soon.id].over) == (30.0, 0.6, True)
    assert expected_loads(db_session, make.user("anchor"), [soon.id]) == {}

    auth.login(staff.email)
    board = client.get("/board/?date=2026-11-20").get_data(as_text=True)
    assert 'data-expected-load="0.60" data-expected-over' in board

    # Moved: the stored forecast no longer holds for it, until the next sweep.
    soon.starts_at, soon.ends_at = at(0, 19), at(0, 21)
    soon.occupied_until = at(0, 21, 30)
    db_session.commit()
    assert expected_loads(db_session, staff, [soon.id]) == {}
    assert refresh_forecasts(db_session) == {"forecast": 1}
    assert soon.id in expected_loads(db_session, staff, [soon.id])
