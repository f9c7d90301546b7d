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
    expect(row).to_contain_text("西柳服装")  # the short name, the full one in the cell's title
    expect(row.get_by_title("海城市西柳服装有限公司")).to_have_text("西柳服装")
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


# Every panel of the screen and what must stay inside it (at 1920×1080 the
# ranking panel cut after six anchors and the live table's last row was cut).
_OVERFLOWS = """() => {
  const out = [];
  const vw = window.innerWidth, vh = window.innerHeight;
  const name = (e) => e.tagName.toLowerCase() + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\\s+/).join(".") : "")
    + (e.textContent ? " «" + e.textContent.trim().slice(0, 30) + "»" : "");
  for (const panel of document.querySelectorAll(".scr-head, .kpi, .scr-live, .scr-rank")) {
    const p = panel.getBoundingClientRect();
    if (p.left < -0.5 || p.top < -0.5 || p.right > vw + 0.5 || p.bottom > vh + 0.5) out.push("panel " + name(panel) + " leaves the window");
    for (const child of panel.querySelectorAll("*")) {
      if (child.closest(".vh")) continue;  // visually hidden text for screen readers
      const c = child.getBoundingClientRect();
      if (!c.width || !c.height) continue;  // not drawn
      if (c.left < p.left - 0.5 || c.right > p.right + 0.5 || c.top < p.top - 0.5 || c.bottom > p.bottom + 0.5)
        out.push(name(child) + " overflows " + name(panel).split(" ")[0]);
    }
  }
  return out;
}"""


@pytest.fixture
def busy_hall(make):
    """Fourteen rooms live, more than a page holds, with long tenant names and twelve hosts selling."""
    from tests.browser.conftest import PARK_NOW

    tenant = make.tenant(name="岫岩满族自治县玉德坊玉器有限公司鞍山分公司第二直播基地")
    short = make.tenant(name="海城市西柳服装有限公司", short_name="西柳服装")
    for i in range(14):
        room = make.room(code=f"A1{i:02d}", order_capacity_per_hour=40)
        booking = make.booking(room, short if i % 2 else tenant, starts_at=PARK_NOW - timedelta(minutes=30),
                               ends_at=PARK_NOW + timedelta(hours=2), checked_in_at=PARK_NOW - timedelta(minutes=31),
                               title="羽绒服专场")
        make.assign(booking, make.anchor(name=f"主播{i:02d}号·超长的主播名字用来测试截断"))
        for k in range(1 + i % 4):
            make.order(booking, ordered_at=PARK_NOW - timedelta(minutes=5 + k), amount_fen=123456789 + i)
    token = screen.create_token(make.session, None, "一楼大厅")
    make.session.commit()
    return token


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768), (3840, 2160)], ids=["1080p", "768p", "4k"])
def test_the_screen_fits_its_window_with_all_ten_ranked_rows(browser, live_server, busy_hall, size):
    """At each size no element spills out of its panel, no panel out of the window; all
    ten ranked anchors are shown, the live table's rows are whole, every column is headed."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  viewport={"width": size[0], "height": size[1]})
    try:
        page = context.new_page()
        page.goto(f"/screen?token={busy_hall}")
        expect(page.locator('[data-field="room-chart"] canvas')).to_have_count(1)
        expect(page.locator('[data-field="anchors"] tr')).to_have_count(10)
        expect(page.locator('[data-field="rooms"] tr')).to_have_count(10)
        assert page.evaluate(_OVERFLOWS) == []
        live_rows = page.locator('[data-field="live"] tr')
        assert 5 <= live_rows.count() < 14  # as many as fit, then pages
        expect(page.locator('[data-field="page"]')).not_to_be_empty()
        anchors = page.locator('table[data-list="anchors"]')
        assert anchors.locator("thead th").all_inner_texts() == ["名次", "主播", "成交额", "订单"]
        # The tenant column shows the short name (简称, else shortened), the full name on hover.
        first = page.get_by_role("row", name=re.compile("^A100"))
        expect(first.locator("td").first).to_have_text("玉德坊玉器…")
        expect(first.locator("td").first).to_have_attribute("title", "岫岩满族自治县玉德坊玉器有限公司鞍山分公司第二直播基地")
    finally:
        context.close()
