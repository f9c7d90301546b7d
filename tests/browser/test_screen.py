"""The hall's big screen, opened with a screen token on a PC nobody logs into:
a new order's GMV appears without a reload."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import configure
from playwright.sync_api import expect

from opsroom.services.sales import screen
from tests.browser import HTML_LANG, t


@pytest.fixture
def hall(make, live_server):
    """A session live now (checked in; the scheduler has not ticked) and a screen token."""
    from tests.browser.conftest import PARK_NOW

    room = make.room(code="A101", order_capacity_per_hour=600)
    tenant = make.tenant(name="海城市西柳服装有限公司")
    booking = make.booking(room, tenant, starts_at=PARK_NOW - timedelta(minutes=30),
                           ends_at=PARK_NOW + timedelta(hours=2), status="confirmed",
                           checked_in_at=PARK_NOW - timedelta(minutes=40), title="羽绒服专场")
    make.assign(booking, make.anchor(name="海燕姐"))
    make.order(booking, ordered_at=PARK_NOW - timedelta(minutes=20), amount_fen=39900)
    token = screen.create_token(make.session, None, "一楼大厅")
    make.session.commit()
    previous = live_server.app.config["SCREEN_POLL_SECONDS"]
    configure(live_server.app, SCREEN_POLL_SECONDS=1)
    yield {"booking": booking, "token": token}
    configure(live_server.app, SCREEN_POLL_SECONDS=previous)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_screen_shows_a_new_orders_gmv_without_a_reload(open_page, make, hall, live_server, lang):
    """The hall's screen in either language (?lang=, zh_CN by default): an order arrives, its GMV shows."""
    from tests.browser.conftest import PARK_NOW

    page = open_page(lang)
    page.goto(f"/screen?token={hall['token']}" + ("&lang=en" if lang == "en" else ""))
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.get_by_role("heading", name=t(live_server.app, lang, "Live now"), level=2)).to_be_visible()
    expect(page.get_by_role("region", name=t(live_server.app, lang, "Park totals today"))).to_contain_text(
        t(live_server.app, lang, "GMV today"))
    row = page.get_by_role("row", name="A101")
    expect(row).to_contain_text("海城市西柳服装有限公司")
    expect(row).to_contain_text("海燕姐")
    expect(row).to_contain_text("¥399.00")
    gmv_today = page.locator('[data-total="gmv"]')
    expect(gmv_today).to_have_text("¥399.00")
    page.evaluate("window.notReloaded = true")

    make.order(hall["booking"], ordered_at=PARK_NOW - timedelta(minutes=1), amount_fen=129990)

    expect(row).to_contain_text("¥1,698.90")
    expect(gmv_today).to_have_text("¥1,698.90")
    expect(page.locator('[data-total="orders"]')).to_have_text("2")
    assert page.evaluate("window.notReloaded === true")
    # The chart of today's room ranking was drawn by ECharts (a canvas), under the strict CSP.
    expect(page.locator('[data-field="room-chart"] canvas')).to_have_count(1)


def test_a_revoked_screen_says_so_instead_of_freezing_silently(page, make, hall, live_server):
    page.goto(f"/screen?token={hall['token']}")
    expect(page.get_by_role("row", name="A101")).to_be_visible()
    with live_server.session() as session:
        from opsroom.models import ScreenToken, User

        admin = make.user("admin")
        row = session.query(ScreenToken).one()
        screen.revoke_token(session, session.get(User, admin.id), row.id)
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile(r"\S"), timeout=5000)
    expect(page.get_by_role("row", name="A101")).to_contain_text("¥399.00")  # the last figures stay


def test_the_screen_keeps_its_figures_while_the_server_is_away_and_catches_up_after(page, make, hall):
    """The data requests fail (a restart): the screen says it is reconnecting and keeps the last
    figures; when the server answers again it clears the notice and shows what was sold meanwhile."""
    from tests.browser.conftest import PARK_NOW

    page.goto(f"/screen?token={hall['token']}")
    gmv_today = page.locator('[data-total="gmv"]')
    expect(gmv_today).to_have_text("¥399.00")
    page.route("**/api/v1/screen", lambda route: route.abort("connectionrefused"))
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile(r"\S"))
    make.order(hall["booking"], ordered_at=PARK_NOW - timedelta(minutes=2), amount_fen=10000)
    expect(gmv_today).to_have_text("¥399.00")
    page.unroute("**/api/v1/screen")
    expect(gmv_today).to_have_text("¥499.00", timeout=15_000)
    expect(status).to_have_text("")
