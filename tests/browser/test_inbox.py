"""An anchor on a phone sees the unread count in the header, opens the inbox,
marks a notice read, and the count drops; then marks all read."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from opsroom.services.operations import reminders
from tests.browser import log_in, page_width

TZ = ZoneInfo("Asia/Shanghai")


def test_anchor_reads_notices_and_the_count_drops(phone_page, make):
    page = phone_page
    user = make.user("anchor", name="李梨花")
    me = make.anchor(name="李梨花", user_id=user.id)
    for start, title in ((datetime(2026, 11, 20, 10, 15, tzinfo=TZ), "南果梨专场"),
                         (datetime(2026, 11, 20, 11, 0, tzinfo=TZ), "岫玉手镯专场")):
        booking = make.booking(make.room(), starts_at=start, ends_at=start + timedelta(minutes=30), title=title)
        make.assign(booking, me)
    assert reminders.remind_anchors(make.session) == 2

    log_in(page, user.email)
    inbox_link = page.get_by_role("link", name=re.compile(r"^Notifications"))
    expect(inbox_link).to_have_accessible_name(re.compile(r"Notifications\s+2\s+unread"))
    inbox_link.tap()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    notices = page.get_by_role("list", name="Notifications").get_by_role("article")
    expect(notices).to_have_count(2)
    expect(notices.first).to_contain_text("岫玉手镯专场")  # newest first: the same instant, the later id

    page.get_by_role("button", name=re.compile(r"^Mark read: ")).first.tap()
    expect(page.get_by_role("link", name=re.compile(r"^Notifications"))).to_have_accessible_name(
        re.compile(r"Notifications\s+1\s+unread"))
    expect(page.get_by_role("button", name=re.compile(r"^Mark read: "))).to_have_count(1)

    page.get_by_role("button", name="Mark all read").tap()
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Mark read"))).to_have_count(0)

    width = page_width(page)
    assert width <= page.viewport_size["width"], f"the page is {width}px wide"
