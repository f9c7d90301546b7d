"""The forecast in the browser: a coordinator picks a tenant who outsells the
room on the booking form, sees the warning and switches to the bigger free room
with one click; a manager reads the forecast page with its chart drawn."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser import forget_login, log_in
from tests.services.sales.test_forecast_service import session_

TZ = ZoneInfo("Asia/Shanghai")


def at(day, hh):
    return datetime(2026, 11, 20, hh, tzinfo=TZ) + timedelta(days=day)


def test_the_booking_form_warns_and_switches_to_a_better_room_then_managers_read_the_page(page, make):
    tenant = make.tenant(name="鞍山岫玉工坊")
    history_room = make.room(code="H001", kind="服装", order_capacity_per_hour=100)
    for d in range(6):   # 150 orders in the first hour of each evening: a peak of 150
        session_(make, make.session, history_room, tenant, at(-1 - d, 20), [150, 0])
    small = make.room(code="A101", name="小间", kind="服装", order_capacity_per_hour=80)
    big = make.room(code="A301", name="大间", kind="服装", order_capacity_per_hour=400)
    coordinator = make.user("coordinator")
    manager = make.user("manager")

    log_in(page, coordinator.email, next=f"/bookings/new?room_id={small.id}&start=2026-11-21T20:00%2B08:00")
    panel = page.locator(".forecast-panel")
    page.get_by_label("Tenant", exact=True).select_option(str(tenant.id))
    warning = panel.locator(".forecast-warning")
    expect(warning).to_be_visible()
    expect(panel.locator(".forecast-capacity")).to_contain_text("80")
    switch = panel.get_by_role("button", name=re.compile("A301"))
    switch.click()
    expect(page.get_by_label("Room", exact=True)).to_have_value(str(big.id))
    expect(warning).to_have_count(0)
    expect(panel.locator(".forecast-capacity")).to_contain_text("400")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page).to_have_url(re.compile(r"/bookings/\d+$"))

    forget_login(page)
    log_in(page, manager.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Forecast", exact=True).click()
    expect(page).to_have_url(re.compile(r"/forecast/$"))
    chart = page.locator("#forecast-tenants-chart canvas").first
    expect(chart).to_be_visible()
    expect(page.locator("table.forecast-outsellers")).to_contain_text("鞍山岫玉工坊")
