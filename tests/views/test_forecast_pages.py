"""The forecast's pages: the booking form's panel (warning and better rooms when the
p90 peak exceeds the room) and the managers' page of quality and capacity planning."""
from __future__ import annotations

from datetime import timedelta

from tests.conftest import at
from tests.services.sales.test_forecast_service import session_


def _history(make, db_session, tenant, n=6, per_first_hour=150):
    """`n` ended prime-time sessions of `tenant` in small 服装 rooms, each selling
    `per_first_hour` orders in its first hour."""
    room = make.room(kind="服装", order_capacity_per_hour=100, code=f"H{tenant.id:03d}")
    for d in range(n):
        session_(make, db_session, room, tenant, at(-1 - d, 20), [per_first_hour, 0])
    return room


def test_the_booking_form_includes_the_panel_and_the_panel_warns_with_a_better_room(client, auth, make, db_session):
    tenant = make.tenant()
    small = _history(make, db_session, tenant)
    big = make.room(kind="服装", order_capacity_per_hour=400, code="BIG1")
    auth.login(make.user("coordinator").email)
    page = client.get(f"/bookings/new?room_id={small.id}&tenant_id={tenant.id}").get_data(as_text=True)
    assert 'class="forecast-panel"' in page and "js/forecast.js" in page

    r = client.get(f"/forecast/panel?tenant_id={tenant.id}&room_id={small.id}&day=2026-11-21&start=20:00&end=22:00")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'data-fits="false"' in html and "forecast-warning" in html
    assert f'data-room-id="{big.id}"' in html and "BIG1" in html

    fits = client.get(f"/forecast/panel?tenant_id={tenant.id}&room_id={big.id}&day=2026-11-21&start=20:00&end=22:00")
    assert 'data-fits="true"' in fits.get_data(as_text=True)
    assert "forecast-warning" not in fits.get_data(as_text=True)


def test_the_panel_waits_for_a_complete_form(client, auth, make):
    room, tenant = make.room(), make.tenant()
    auth.login(make.user("coordinator").email)
    for q in (f"room_id={room.id}&day=2026-11-21&start=20:00&end=22:00",
              f"tenant_id={tenant.id}&room_id={room.id}&day=bad&start=20:00&end=22:00",
              f"tenant_id={tenant.id}&room_id=999999&day=2026-11-21&start=20:00&end=22:00"):
        assert client.get("/forecast/panel?" + q).status_code == 422, q
    # An end before the start is the next day, as on the booking form.
    assert client.get(f"/forecast/panel?tenant_id={tenant.id}&room_id={room.id}&day=2026-11-21"
                      "&start=22:00&end=01:00").status_code == 200


def test_the_managers_page_shows_quality_and_capacity_planning(client, auth, make, db_session):
    tenant = make.tenant(name="岫玉工坊")
    small = _history(make, db_session, tenant)
    # An upcoming session of the same tenant in the same small room: over capacity.
    upcoming = make.booking(small, tenant, starts_at=at(2, 20), ends_at=at(2, 22))
    auth.login(make.user("manager").email)
    r = client.get("/forecast/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "岫玉工坊" in html and "forecast-tenants-chart" in html
    assert f"/bookings/{upcoming.id}" in html          # over capacity in the coming weeks
    assert "forecast-outsellers" in html               # six sessions, each over its room's 100 an hour
