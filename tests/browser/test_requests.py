"""A tenant on a phone asks for time and a coordinator at a desk decides:
request → approve, request → reject, and waitlist → offer → accept (the time
freed by a cancellation is offered at once and shows on the tenant's home)."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from opsroom.models import User
from opsroom.services.bookings import lifecycle
from tests.browser import log_in, page_width

TZ = ZoneInfo("Asia/Shanghai")


def ask(page, *, day: str, start: str, end: str, minutes: str, room: str) -> str:
    """From the tenant's home, fill the request form; returns the new request's heading."""
    page.get_by_role("link", name="My home").tap()
    page.get_by_role("link", name="Ask for time").first.tap()
    page.get_by_label("Room", exact=True).select_option(label=room)
    page.get_by_label("Date", exact=True).fill(day)
    page.get_by_label("From", exact=True).fill(start)
    page.get_by_label("Until", exact=True).fill(end)
    page.get_by_label("Duration (minutes)").fill(minutes)
    page.get_by_role("button", name="Send request").tap()
    heading = page.get_by_role("heading", level=1, name=re.compile(r"^Request #\d+"))
    expect(heading).to_be_visible()
    return re.match(r"Request #\d+", heading.inner_text()).group(0)


def test_request_approve_reject_and_waitlist_offer_accept(phone_page, browser, live_server, make):
    room = make.room(code="B201", name="服装直播间")
    tenant = make.tenant(name="西柳服装")
    rival = make.tenant(name="梓涵服饰")
    tenant_user = make.user("tenant", tenant_id=tenant.id, name="刘海燕")
    coordinator = make.user("coordinator", name="陈晓峰")
    blocker = make.booking(room, rival, starts_at=datetime(2026, 11, 23, 19, tzinfo=TZ),
                           ends_at=datetime(2026, 11, 23, 23, tzinfo=TZ), title="梓涵专场")
    blocker_id = blocker.id
    phone = phone_page
    desk = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    desk.set_default_timeout(10_000)
    staff = desk.new_page()
    try:
        log_in(phone, tenant_user.email)
        expect(phone.get_by_role("heading", name="西柳服装", level=1)).to_be_visible()
        log_in(staff, coordinator.email)

        # 1. request → approve (the first fit)
        first = ask(phone, day="2026-11-21", start="19:00", end="23:00", minutes="120", room="B201 服装直播间")
        expect(phone.get_by_role("heading", name="What fits now")).to_be_visible()
        staff.get_by_role("link", name="Requests", exact=True).click()
        staff.get_by_role("link", name=first, exact=True).click()
        staff.get_by_role("button", name="Approve", exact=True).click()
        expect(staff.get_by_text(f"{first} approved.")).to_be_visible()
        phone.get_by_role("link", name="My home").tap()
        week = phone.get_by_role("region", name="My week")
        expect(week).to_contain_text("B201")

        # 2. request → reject, with a reason
        second = ask(phone, day="2026-11-22", start="19:00", end="23:00", minutes="120", room="B201 服装直播间")
        staff.get_by_role("link", name="Requests", exact=True).click()
        staff.get_by_role("link", name=second, exact=True).click()
        staff.get_by_label("Reason", exact=True).fill("当晚设备检修")
        staff.get_by_role("button", name="Reject", exact=True).click()
        expect(staff.get_by_text(f"{second} rejected.")).to_be_visible()
        phone.reload()
        expect(phone.get_by_role("heading", level=1)).to_contain_text("rejected")
        expect(phone.get_by_text("当晚设备检修")).to_be_visible()

        # 3. waitlist → offer → accept
        third = ask(phone, day="2026-11-23", start="19:00", end="23:00", minutes="240", room="B201 服装直播间")
        expect(phone.get_by_text("Nothing fits now.")).to_be_visible()
        phone.get_by_role("button", name="Wait for freed time").tap()
        expect(phone.get_by_text(f"{third} is on the waitlist.")).to_be_visible()
        with live_server.session() as session:  # the rival cancels at the desk
            lifecycle.cancel_booking(session, session.get(User, coordinator.id), blocker_id, reason="商家取消")
        phone.get_by_role("link", name="My home").tap()
        offers = phone.get_by_role("region", name="Offers to accept")
        expect(offers).to_contain_text("B201")
        offers.get_by_role("button", name=f"Accept offer {third.removeprefix('Request ')}").tap()
        expect(phone.get_by_text(f"The offered slot is yours: request {third.removeprefix('Request ')} approved."))\
            .to_be_visible()
        phone.get_by_role("link", name="My home").tap()
        expect(phone.get_by_role("region", name="Offers to accept")).to_have_count(0)
        expect(phone.get_by_role("region", name="My week")).to_contain_text("11/23")

        width = page_width(phone)
        assert width <= phone.viewport_size["width"], f"the page is {width}px wide"
    finally:
        desk.close()
