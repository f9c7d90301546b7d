"""The review compares a session with the tenant's and the host's earlier
ended sessions (复盘), and names no later or other sessions."""
from __future__ import annotations

from fractions import Fraction

from opsroom.services.sales.review import comparison
from tests.conftest import at


def test_the_session_against_the_tenants_and_the_hosts_earlier_sessions(db_session, make):
    manager = make.user("manager")
    tenant, other_tenant = make.tenant(), make.tenant()
    room = make.room(order_capacity_per_hour=100)
    host = make.anchor(name="思思")
    earlier = make.booking(room, tenant, starts_at=at(-2, 19), ends_at=at(-2, 21), status="ended")
    elsewhere = make.booking(room, other_tenant, starts_at=at(-1, 19), ends_at=at(-1, 20), status="ended")
    this = make.booking(room, tenant, starts_at=at(0, 8), ends_at=at(0, 9), status="ended")
    later = make.booking(room, tenant, starts_at=at(1, 19), ends_at=at(1, 21), status="ended")
    for b in (elsewhere, this):
        make.assign(b, host)
    for _ in range(40):
        make.order(earlier, amount_fen=5000)
    make.order(earlier, status="refunded", amount_fen=5000)
    for _ in range(10):
        make.order(elsewhere, amount_fen=20000)
        make.order(later)
    for _ in range(30):
        make.order(this, amount_fen=10000)

    got = comparison(db_session, manager, this.id)
    assert (got["this"].sessions, got["this"].orders_per_hour, got["this"].avg_order_fen) == (1, 30, 10000)
    assert got["this"].load == Fraction(30, 100)
    tenant_fig = got["tenant"]  # the earlier session only: not the other tenant's, not the later one
    assert (tenant_fig.sessions, tenant_fig.orders_per_hour, tenant_fig.avg_order_fen) == (1, Fraction(41, 2), 5000)
    assert tenant_fig.refund_rate == Fraction(1, 41)
    host_fig = got["host"]  # the host's earlier session, of another tenant
    assert (got["host_name"], host_fig.sessions, host_fig.orders_per_hour, host_fig.avg_order_fen) == (
        "思思", 1, 10, 20000)
