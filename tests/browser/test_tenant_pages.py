"""A tenant's account on a phone, on what is its own: it adds and edits a product
(no tenant to choose), puts it in its session's lineup, reads its board (a rival's
session only as a busy block) and its orders of a range of days."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser import log_in

TZ = ZoneInfo("Asia/Shanghai")


def test_a_tenant_manages_a_product_and_reads_its_own_pages(phone_page, live_server, make):
    room, room2 = make.room(code="B201", name="服装直播间"), make.room(code="B202", name="食品直播间")
    tenant, rival = make.tenant(name="西柳服装"), make.tenant(name="梓涵服饰")
    user = make.user("tenant", tenant_id=tenant.id)
    mine = make.booking(room, tenant, starts_at=datetime(2026, 11, 21, 19, tzinfo=TZ), title="羽绒服专场")
    make.booking(room2, rival, starts_at=datetime(2026, 11, 21, 19, tzinfo=TZ), title="梓涵专场")
    past = make.booking(room, tenant, starts_at=datetime(2026, 11, 19, 19, tzinfo=TZ), status="ended")
    make.order(past, external_id="DY-88001", amount_fen=12900, product_name="羽绒马甲")
    page = phone_page
    log_in(page, user.email)

    # A product of its own: no tenant to choose.
    page.get_by_role("link", name="My products").tap()
    expect(page).to_have_url(re.compile(r"/products/$"))  # (a tap does not wait for the page it opens)
    page.get_by_role("link", name="New product").tap()
    expect(page).to_have_url(re.compile(r"/products/new"))
    expect(page.get_by_label("SKU", exact=True)).to_be_visible()
    expect(page.get_by_label("Tenant", exact=True)).to_have_count(0)
    page.get_by_label("SKU", exact=True).fill("XL-001")
    page.get_by_label("Name", exact=True).fill("羽绒服")
    page.get_by_label("Price (yuan)").fill("399.00")
    page.get_by_role("button", name="Save").tap()
    expect(page.get_by_text("Product XL-001 created.")).to_be_visible()
    page.get_by_role("link", name="Edit XL-001").tap()
    page.get_by_label("Name", exact=True).fill("长款羽绒服")
    page.get_by_role("button", name="Save").tap()
    expect(page.get_by_role("cell", name="长款羽绒服")).to_be_visible()

    # Into its session's lineup, from the board: its own block links to its page, the rival's is busy time.
    page.get_by_role("link", name="My home").tap()
    page.get_by_role("link", name="The board").tap()
    page.get_by_label("Date").fill("2026-11-21")
    page.get_by_role("button", name="Show").tap()
    expect(page.locator(".booking.busy")).to_have_count(1)
    expect(page.locator(".booking.busy")).to_contain_text("Busy")
    expect(page.locator("main")).not_to_contain_text("梓涵")
    page.locator(f'a.booking[href$="/bookings/{mine.id}"]').tap()
    page.get_by_label("Product", exact=True).select_option(label="XL-001 · 长款羽绒服")
    page.get_by_role("button", name="Add to the lineup").tap()
    expect(page.get_by_text("Product added to the lineup.")).to_be_visible()
    expect(page.locator("ol.lineup")).to_contain_text("长款羽绒服")

    # Its orders of a range of days.
    page.get_by_role("link", name="My home").tap()
    page.get_by_role("link", name="My orders").tap()
    page.get_by_label("First day").fill("2026-11-18")
    page.get_by_label("Last day").fill("2026-11-20")
    page.get_by_role("button", name="Show").tap()
    expect(page.get_by_role("cell", name="DY-88001")).to_be_visible()
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
