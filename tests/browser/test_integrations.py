"""An admin adds a WeCom group robot on the integrations page (platform, address,
events) and presses the test button: a real local WeCom stand-in receives the
test message, and the page says it was delivered and logs it."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import log_in
from tests.support.receivers import WeComRobot


def test_admin_adds_a_robot_and_sends_a_test_message(page, make):
    admin = make.user("admin")
    with WeComRobot() as wecom:
        log_in(page, admin.email, next="/admin/integrations")
        expect(page.get_by_role("heading", name="Integrations", level=1)).to_be_visible()
        page.get_by_text("Add a robot", exact=True).click()
        form = page.get_by_role("form", name="Add a robot")
        form.get_by_label("Platform").select_option(label="WeCom group robot")
        form.get_by_label("Name").fill("运营群")
        form.get_by_label("Webhook address").fill(wecom.url)
        form.get_by_label("Booking cancelled").check()
        form.get_by_role("button", name="Add robot").click()

        expect(page.get_by_text("The robot was added.")).to_be_visible()
        row = page.get_by_role("row").filter(has_text="运营群")
        expect(row).to_contain_text("Booking cancelled")
        row.get_by_role("button", name="Send a test message").click()

        expect(page.get_by_text("Test message delivered (HTTP 200).")).to_be_visible()
        assert len(wecom.accepted) == 1
        assert "测试消息" in wecom.accepted[0].json()["markdown"]["content"]
        expect(page.locator("#deliveries").get_by_role("row").filter(has_text="Test message")).to_contain_text("sent")
