"""Every form and every action button of the HTML faces, driven in Chromium
a valid submission whose saved result is read back, and an invalid
one whose field message is shown.

FORMS names each form and action button of every template, with the browser
test that exercises it (here or in another module of tests/browser).
tests/views/test_every_form_is_listed.py (no browser, fast) parses templates/ and
fails when a template gains a form or a button FORMS does not name, or when FORMS
names a test that does not exist.

The journeys share the session's live server and browser (conftest.py); each
opens one page and logs in once.
"""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.browser import forget_login, log_in, switch_language

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)  # the park clock of tests/browser/conftest.py
ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

# "template: form <endpoint>" (a form posting to that view; "self:get"/"self:post"
# for a form without an action), "template: button <msgid>" → the test exercising it.
FORMS: dict[str, str] = {
    # base.html: on every page
    "base.html: form auth.language": "test_the_language_switch_works_without_javascript",
    "base.html: button Switch language": "test_the_language_switch_works_without_javascript",
    "base.html: form auth.logout": "test_header_badge_icon_and_logout",
    "base.html: button Log out": "test_header_badge_icon_and_logout",
    # accounts
    "auth/login.html: form auth.login": "test_a_wrong_password_is_shown_on_the_form",
    "auth/login.html: button Log in": "test_a_wrong_password_is_shown_on_the_form",
    "auth/tokens.html: form self:post": "test_tokens_create_and_revoke",
    "auth/tokens.html: button Create token": "test_tokens_create_and_revoke",
    "auth/tokens.html: form auth.revoke_token": "test_tokens_create_and_revoke",
    "auth/tokens.html: button Revoke": "test_tokens_create_and_revoke",
    "auth/password.html: form auth.change_password": "test_password_change_and_reauth",
    "auth/password.html: button Change password": "test_password_change_and_reauth",
    "auth/reauth.html: form auth.reauth": "test_password_change_and_reauth",
    "auth/reauth.html: button Continue": "test_password_change_and_reauth",
    # the board and bookings
    "board/day.html: form self:get": "test_book_an_hour_inside_a_free_run_then_an_overlap_shows_the_clash_and_the_alternatives",
    "board/day.html: button Show": "test_book_an_hour_inside_a_free_run_then_an_overlap_shows_the_clash_and_the_alternatives",
    "board/_lane.html: button Compact": "test_density_is_remembered_and_a_focused_block_shows_its_full_text",
    "board/_lane.html: button Comfortable": "test_density_is_remembered_and_a_focused_block_shows_its_full_text",
    "bookings/form.html: form self:post": "test_a_booking_is_made_changed_and_cancelled_with_a_reason",
    "bookings/form.html: button Save": "test_a_booking_is_made_changed_and_cancelled_with_a_reason",
    "bookings/form.html: button Book": "test_a_booking_is_made_changed_and_cancelled_with_a_reason",
    "bookings/show.html: form bookings.confirm": "test_check_in_only_in_its_window_and_a_hold_is_confirmed",
    "bookings/show.html: button Confirm": "test_check_in_only_in_its_window_and_a_hold_is_confirmed",
    "bookings/show.html: form bookings.checkin": "test_check_in_only_in_its_window_and_a_hold_is_confirmed",
    "bookings/show.html: button Check in": "test_check_in_only_in_its_window_and_a_hold_is_confirmed",
    "bookings/show.html: form bookings.end": "test_a_live_session_is_ended_now_not_cancelled",
    "bookings/show.html: button End now": "test_a_live_session_is_ended_now_not_cancelled",
    "bookings/show.html: form bookings.cancel": "test_a_booking_is_made_changed_and_cancelled_with_a_reason",
    "bookings/show.html: button Cancel booking": "test_a_booking_is_made_changed_and_cancelled_with_a_reason",
    "bookings/_people_goods.html: form bookings.set_anchors": "test_anchors_and_lineup_of_a_booking",
    "bookings/_people_goods.html: button Save anchors": "test_anchors_and_lineup_of_a_booking",
    "bookings/_people_goods.html: form bookings.lineup_item": "test_anchors_and_lineup_of_a_booking",
    "bookings/_people_goods.html: button Remove": "test_anchors_and_lineup_of_a_booking",
    "bookings/_people_goods.html: button Move %(name)s up": "test_anchors_and_lineup_of_a_booking",
    "bookings/_people_goods.html: button Move %(name)s down": "test_anchors_and_lineup_of_a_booking",
    "bookings/_people_goods.html: form bookings.lineup_order": "test_anchors_and_lineup_of_a_booking",
    "bookings/_people_goods.html: form bookings.lineup_add": "test_anchors_and_lineup_of_a_booking",
    "bookings/_people_goods.html: button Add to the lineup": "test_anchors_and_lineup_of_a_booking",
    "bookings/_people_goods.html: form bookings.copy_setup": "test_anchors_and_lineup_of_a_booking",
    "bookings/_people_goods.html: button Copy": "test_anchors_and_lineup_of_a_booking",
    "bookings/runsheet.html: button Print": "test_anchors_and_lineup_of_a_booking",
    "bookings/review.html: form review.add_note": "test_a_review_note_is_added",
    "bookings/review.html: button Add note": "test_a_review_note_is_added",
    "anchors/free.html: form bookings.add_anchor": "test_anchors_and_lineup_of_a_booking",
    "anchors/free.html: button Add as %(role)s": "test_anchors_and_lineup_of_a_booking",
    # park
    "rooms/index.html: form self:get": "test_log_in_switch_language_and_see_the_rooms",
    "rooms/index.html: button Filter": "test_log_in_switch_language_and_see_the_rooms",
    "rooms/form.html: form self:post": "test_room_tenant_anchor_and_product_forms",
    "rooms/form.html: button Save": "test_room_tenant_anchor_and_product_forms",
    "rooms/zones.html: form self:post": "test_zones_are_ordered_and_the_board_follows",
    "rooms/zones.html: button Save order": "test_zones_are_ordered_and_the_board_follows",
    "rooms/show.html: form rooms.add_blackout": "test_room_tenant_anchor_and_product_forms",
    "rooms/show.html: button Add blackout": "test_room_tenant_anchor_and_product_forms",
    "rooms/show.html: form rooms.delete_blackout": "test_room_tenant_anchor_and_product_forms",
    "rooms/show.html: button Remove": "test_room_tenant_anchor_and_product_forms",
    "tenants/form.html: form self:post": "test_room_tenant_anchor_and_product_forms",
    "tenants/form.html: button Save": "test_room_tenant_anchor_and_product_forms",
    "tenants/form.html: form tenants.add_account": "test_room_tenant_anchor_and_product_forms",
    "tenants/form.html: button Create the account": "test_room_tenant_anchor_and_product_forms",
    "anchors/form.html: form self:post": "test_room_tenant_anchor_and_product_forms",
    "anchors/form.html: button Save": "test_room_tenant_anchor_and_product_forms",
    "products/form.html: form self:post": "test_room_tenant_anchor_and_product_forms",
    "products/form.html: button Save": "test_room_tenant_anchor_and_product_forms",
    "products/index.html: form self:get": "test_room_tenant_anchor_and_product_forms",
    "products/index.html: button Filter": "test_room_tenant_anchor_and_product_forms",
    "products/import.html: form self:post": "test_room_tenant_anchor_and_product_forms",
    "products/import.html: button Import": "test_room_tenant_anchor_and_product_forms",
    # requests for time (the tenant's and the desk's)
    "requests/form.html: form self:post": "test_a_request_is_checked_and_withdrawn_an_offer_accepted_on_its_page_and_a_reason_required",
    "requests/form.html: button Send request": "test_a_request_is_checked_and_withdrawn_an_offer_accepted_on_its_page_and_a_reason_required",
    "requests/home.html: form requests.accept": "test_request_approve_reject_and_waitlist_offer_accept",
    "requests/home.html: button Accept offer #%(id)s": "test_request_approve_reject_and_waitlist_offer_accept",
    "requests/show.html: form requests.approve": "test_request_approve_reject_and_waitlist_offer_accept",
    "requests/show.html: button Approve": "test_request_approve_reject_and_waitlist_offer_accept",
    "requests/show.html: form requests.reject": "test_a_request_is_checked_and_withdrawn_an_offer_accepted_on_its_page_and_a_reason_required",
    "requests/show.html: button Reject": "test_a_request_is_checked_and_withdrawn_an_offer_accepted_on_its_page_and_a_reason_required",
    "requests/show.html: form requests.wait": "test_request_approve_reject_and_waitlist_offer_accept",
    "requests/show.html: button Wait for freed time": "test_request_approve_reject_and_waitlist_offer_accept",
    "requests/show.html: form requests.accept": "test_a_request_is_checked_and_withdrawn_an_offer_accepted_on_its_page_and_a_reason_required",
    "requests/show.html: button Accept the offer": "test_a_request_is_checked_and_withdrawn_an_offer_accepted_on_its_page_and_a_reason_required",
    "requests/show.html: form requests.withdraw": "test_a_request_is_checked_and_withdrawn_an_offer_accepted_on_its_page_and_a_reason_required",
    "requests/show.html: button Withdraw": "test_a_request_is_checked_and_withdrawn_an_offer_accepted_on_its_page_and_a_reason_required",
    # the anchor's own pages
    "me/_session_card.html: form me.checkin": "test_anchor_sees_todays_session_with_lineup_and_checks_in",
    "me/_session_card.html: button Check in": "test_anchor_sees_todays_session_with_lineup_and_checks_in",
    "me/schedule.html: form me.reset_feed": "test_anchor_resets_the_calendar_link",
    "me/schedule.html: button Reset the link": "test_anchor_resets_the_calendar_link",
    # notifications and operations
    "notifications/index.html: form notifications.mark_all_read": "test_anchor_reads_notices_and_the_count_drops",
    "notifications/index.html: button Mark all read": "test_anchor_reads_notices_and_the_count_drops",
    "notifications/index.html: form notifications.mark_read": "test_anchor_reads_notices_and_the_count_drops",
    "notifications/index.html: button Mark read": "test_anchor_reads_notices_and_the_count_drops",
    "notifications/index.html: form notifications.settings": "test_the_email_setting_is_saved",
    "notifications/index.html: button Save": "test_the_email_setting_is_saved",
    "admin/operations.html: form admin.retry_email": "test_operations_page_names_the_jobs_and_resends_an_email",
    "admin/operations.html: button Send again": "test_operations_page_names_the_jobs_and_resends_an_email",
    # integrations
    "admin/integrations.html: form admin.add_robot": "test_admin_adds_a_robot_and_sends_a_test_message",
    "admin/integrations.html: button Add robot": "test_admin_adds_a_robot_and_sends_a_test_message",
    "admin/integrations.html: form admin.test_robot": "test_admin_adds_a_robot_and_sends_a_test_message",
    "admin/integrations.html: button Send a test message": "test_admin_adds_a_robot_and_sends_a_test_message",
    "admin/integrations.html: form admin.delete_robot": "test_a_webhook_is_added_tested_sent_again_and_removed_with_a_robot",
    "admin/integrations.html: button Remove": "test_a_webhook_is_added_tested_sent_again_and_removed_with_a_robot",
    "admin/integrations.html: form admin.add_webhook": "test_a_webhook_is_added_tested_sent_again_and_removed_with_a_robot",
    "admin/integrations.html: button Add webhook": "test_a_webhook_is_added_tested_sent_again_and_removed_with_a_robot",
    "admin/integrations.html: form admin.test_webhook": "test_a_webhook_is_added_tested_sent_again_and_removed_with_a_robot",
    "admin/integrations.html: button Send a test event": "test_a_webhook_is_added_tested_sent_again_and_removed_with_a_robot",
    "admin/integrations.html: form admin.delete_webhook": "test_a_webhook_is_added_tested_sent_again_and_removed_with_a_robot",
    "admin/integrations.html: form admin.resend_delivery": "test_a_webhook_is_added_tested_sent_again_and_removed_with_a_robot",
    "admin/integrations.html: button Send again": "test_a_webhook_is_added_tested_sent_again_and_removed_with_a_robot",
    # sales
    "orders/import.html: form self:post": "test_upload_with_progress_then_assign_the_unattributed",
    "orders/import.html: button Import": "test_upload_with_progress_then_assign_the_unattributed",
    "orders/unattributed.html: form self:get": "test_unattributed_orders_are_paged_filtered_and_assigned_to_a_suggestion",
    "orders/unattributed.html: button Show": "test_unattributed_orders_are_paged_filtered_and_assigned_to_a_suggestion",
    "orders/unattributed.html: button To %(session)s": "test_unattributed_orders_are_paged_filtered_and_assigned_to_a_suggestion",
    "orders/unattributed.html: form self:post": "test_upload_with_progress_then_assign_the_unattributed",
    "orders/unattributed.html: button Assign": "test_upload_with_progress_then_assign_the_unattributed",
    "orders/unattributed.html: button Assign the ticked orders": "test_upload_with_progress_then_assign_the_unattributed",
    "screen/tokens.html: form self:post": "test_tokens_create_and_revoke",
    "screen/tokens.html: button Create a screen token": "test_tokens_create_and_revoke",
    "screen/tokens.html: form screen.revoke": "test_tokens_create_and_revoke",
    "screen/tokens.html: button Revoke": "test_tokens_create_and_revoke",
    # the month planner
    "plans/index.html: form plans.create": "test_a_draft_is_accepted_in_part_pinned_and_rerun_and_a_run_is_stopped",
    "plans/index.html: button Plan the month": "test_a_draft_is_accepted_in_part_pinned_and_rerun_and_a_run_is_stopped",
    "plans/show.html: form plans.accept": "test_a_draft_is_accepted_in_part_pinned_and_rerun_and_a_run_is_stopped",
    "plans/show.html: button Accept all": "test_plan_a_month_watch_it_finish_and_accept",
    "plans/show.html: button Accept selected": "test_a_draft_is_accepted_in_part_pinned_and_rerun_and_a_run_is_stopped",
    "plans/show.html: button Pin the chosen and re-run": "test_a_draft_is_accepted_in_part_pinned_and_rerun_and_a_run_is_stopped",
    "plans/show.html: form plans.cancel": "test_a_draft_is_accepted_in_part_pinned_and_rerun_and_a_run_is_stopped",
    "plans/show.html: button Stop the run": "test_a_draft_is_accepted_in_part_pinned_and_rerun_and_a_run_is_stopped",
    # reporting
    "reports/index.html: form reports.index": "test_a_manager_reads_the_reports_and_downloads_them",
    "reports/index.html: button Show": "test_a_manager_reads_the_reports_and_downloads_them",
    # forecast
    "forecast/_panel.html: button Switch to %(code)s (%(n)s orders per hour)":
        "test_the_booking_form_warns_and_switches_to_a_better_room_then_managers_read_the_page",
    "orders/list.html: form self:get": "test_a_tenant_manages_a_product_and_reads_its_own_pages",
    "orders/list.html: button Show": "test_a_tenant_manages_a_product_and_reads_its_own_pages",
}

_FORM = re.compile(r"<form\b[^>]*>", re.S)
_POST_BUTTON = re.compile(r"post_button\(\s*url_for\('([\w.]+)'[^)]*\)\s*,\s*_\(\"([^\"]+)\"\)")
_BUTTON = re.compile(r"<button\b[^>]*>(.*?)</button>", re.S)
_MSGID = re.compile(r"_\(\s*[\"']([^\"']+)[\"']")


def template_actions(text: str) -> set[str]:
    """The forms (by the view they post to) and buttons (by their label's msgid) of one template."""
    found = set()
    for tag in _FORM.findall(text):
        endpoint = re.search(r"action=\"\{\{\s*url_for\('([\w.]+)'", tag)
        method = (re.search(r'method="(\w+)"', tag) or re.search("()", "")).group(1) or "get"
        found.add(f"form {endpoint.group(1)}" if endpoint else f"form self:{method.lower()}")
    for endpoint, label in _POST_BUTTON.findall(text):
        found |= {f"form {endpoint}", f"button {label}"}
    for inner in _BUTTON.findall(text):
        labels = _MSGID.findall(inner) or [inner.strip()]  # a button may say one of several things
        found |= {f"button {label}" for label in labels}
    return found


# -- Journeys -----------------------------------------------------------------

def field_error(page: Page, label: str, within=None):
    """The error message shown under the field labelled `label` (of the form `within`, if given)."""
    return (within or page).locator(".field.has-error").filter(has=page.get_by_label(label, exact=True)).locator(".error")


def history_items(page: Page):
    return page.locator("ol.history > li")


@pytest.fixture
def booking_world(make):
    room = make.room(code="A101", name="服装一号间")
    tenants = [make.tenant(name="安吉竹语"), make.tenant(name="西柳服装")]  # the first in the list is not chosen
    coordinator = make.user("coordinator", name="陈晓峰")
    return room, tenants, coordinator


def test_a_booking_is_made_changed_and_cancelled_with_a_reason(page, make, booking_world, live_server):
    room, (first, tenant), coordinator = booking_world
    log_in(page, coordinator.email, next=f"/bookings/new?room_id={room.id}&date=2026-11-21")
    tenant_select = page.get_by_label("Tenant", exact=True)
    expect(tenant_select).to_have_value("")  # no company is chosen for the coordinator
    page.get_by_role("button", name="Book", exact=True).click()
    expect(field_error(page, "Tenant")).to_have_text("This field is required.")

    tenant_select.select_option(label=tenant.name)
    page.get_by_label("Title", exact=True).fill("秋冬新款")
    page.get_by_label("Starts", exact=True).fill("13:30")
    page.get_by_label("Ends", exact=True).fill("18:30")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Booked.")
    booking_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)  # tomorrow: not in its window

    # 改期或修改 saves. First an invalid time, shown on its field.
    page.get_by_role("link", name="Move or change").click()
    page.get_by_label("Starts", exact=True).fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(field_error(page, "Starts")).to_be_visible()
    page.get_by_label("Title", exact=True).fill("秋冬新款 第二场")
    page.get_by_label("Starts", exact=True).fill("14:00")
    page.get_by_label("Ends", exact=True).fill("19:00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Booking saved.")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("秋冬新款 第二场")
    expect(facts).to_contain_text(re.compile(r"14:00\s*–\s*19:00"))

    # Cancelling asks a reason and a confirmation.
    page.get_by_text("Cancel booking", exact=True).first.click()  # opens the section
    page.get_by_role("button", name="Cancel booking").click()
    expect(field_error(page, "Reason")).to_have_text("This field is required.")
    expect(page.get_by_text("Tick the box to confirm.")).to_be_visible()
    with live_server.session() as session:
        from opsroom.models import Booking
        assert session.get(Booking, booking_id).status == "confirmed"
    page.get_by_label("Reason", exact=True).fill("商家改期")
    page.get_by_label("Yes, I am sure").check()
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_role("status")).to_have_text("Booking cancelled.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("cancelled")

    # The history in words, in Chinese on a Chinese page, with the park's times and names.
    switch_language(page, "zh_CN")
    items = history_items(page)
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("陈晓峰 预订了 11-21 13:30–18:30")
    expect(items.nth(1)).to_contain_text("陈晓峰 将时间 13:30–18:30 改为 14:00–19:00")
    expect(items.nth(1)).to_contain_text("将标题“秋冬新款”改为“秋冬新款 第二场”")
    expect(items.nth(2)).to_contain_text("取消了预订，原因：商家改期")
    expect(page.locator("ol.history")).not_to_contain_text("starts_at")


def test_a_live_session_is_ended_now_not_cancelled(page, make, booking_world, live_server):
    room, (_, tenant), coordinator = booking_world
    live = make.booking(room, tenant, starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=2),
                        status="live", checked_in_at=NOW - timedelta(hours=1, minutes=10), title="正在直播")
    fresh = make.booking(make.room(), tenant, starts_at=NOW + timedelta(days=1))
    log_in(page, coordinator.email, next=f"/bookings/{fresh.id}")
    expect(page.locator("ol.history")).to_have_count(0)  # no numbered "no history" item
    expect(page.get_by_text("No history.")).to_be_visible()

    page.goto(f"/bookings/{live.id}")
    expect(page.get_by_role("button", name="Cancel booking")).to_have_count(0)
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)  # checked in already
    page.get_by_text("End the session now").click()
    page.get_by_role("button", name="End now").click()
    expect(field_error(page, "Reason")).to_have_text("This field is required.")
    page.get_by_label("Reason", exact=True).fill("主播身体不适")
    page.get_by_label("Yes, I am sure").check()
    page.get_by_role("button", name="End now").click()
    expect(page.get_by_role("status")).to_have_text("The session was ended.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("ended")
    expect(history_items(page).last).to_contain_text("ended the session at 10:00: 主播身体不适")
    with live_server.session() as session:
        from opsroom.models import Booking
        assert session.get(Booking, live.id).ends_at == NOW


def test_check_in_only_in_its_window_and_a_hold_is_confirmed(page, make, booking_world, live_server):
    room, (_, tenant), coordinator = booking_world
    soon = make.booking(room, tenant, starts_at=NOW + timedelta(minutes=15), title="马上开播")
    hold = make.booking(make.room(), tenant, starts_at=NOW + timedelta(days=2), status="hold",
                        hold_expires_at=NOW + timedelta(days=1))
    log_in(page, coordinator.email, next=f"/bookings/{soon.id}")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("status")).to_have_text("Checked in.")
    expect(page.locator("dl.facts")).to_contain_text("Checked in")
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)

    page.goto(f"/bookings/{hold.id}")
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text("Booking confirmed.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("confirmed")


def test_room_tenant_anchor_and_product_forms(page, make, tmp_path, live_server):
    admin = make.user("admin", name="园区管理员")
    log_in(page, admin.email, next="/rooms/new")
    # A room: an invalid submission shows the field's message, the valid one is read back.
    page.get_by_role("button", name="Save", exact=True).click()
    expect(field_error(page, "Code")).to_have_text("This field is required.")
    page.get_by_label("Code", exact=True).fill("F601")
    page.get_by_label("Name", exact=True).fill("美妆六号间")
    page.get_by_label("Opens at", exact=True).fill("09:00")
    page.get_by_label("Closes at", exact=True).fill("23:00")
    page.get_by_role("button", name="Save", exact=True).click()
    page.goto("/rooms/")
    page.get_by_role("link", name=re.compile("F601")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("F601")
    # A blackout: the end before the start is refused on its field; then added and removed.
    page.get_by_label("From", exact=True).fill("2026-11-25T10:00")
    page.get_by_role("button", name="Add blackout").click()
    expect(page.locator(".field.has-error .error").first).to_be_visible()
    page.get_by_label("From", exact=True).fill("2026-11-25T10:00")
    page.get_by_label("Until", exact=True).fill("2026-11-25T12:00")
    page.get_by_label("Reason", exact=True).fill("灯光检修")
    page.get_by_role("button", name="Add blackout").click()
    expect(page.get_by_role("cell", name="灯光检修")).to_be_visible()
    page.get_by_role("button", name="Remove", exact=True).click()
    expect(page.get_by_role("cell", name="灯光检修")).to_have_count(0)

    # A tenant.
    page.goto("/tenants/new")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(field_error(page, "Name")).to_have_text("This field is required.")
    page.get_by_label("Name", exact=True).fill("临安山核桃")
    page.get_by_role("button", name="Save", exact=True).click()
    page.goto("/tenants/")
    expect(page.get_by_role("main")).to_contain_text("临安山核桃")
    # Its account (商家账号): a bad email and a short password are refused on their fields.
    page.get_by_role("row").filter(has_text="临安山核桃").get_by_role("link", name="Edit").click()
    account = page.get_by_role("form", name="New tenant account")
    account.get_by_label("Email", exact=True).fill("no-at-sign")
    account.get_by_label("Password", exact=True).fill("short")
    account.get_by_role("button", name="Create the account").click()
    account = page.get_by_role("form", name="New tenant account")
    expect(field_error(page, "Email", account)).to_have_text("Enter a valid email address.")
    expect(field_error(page, "Password", account)).to_be_visible()
    account.get_by_label("Email", exact=True).fill("shop@linan.example")
    account.get_by_label("Name", exact=True).fill("山核桃店长")
    account.get_by_label("Password", exact=True).fill("a long enough tenant secret 7")
    account.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("status")).to_have_text("Account shop@linan.example created for 临安山核桃.")
    expect(page.get_by_role("region", name="Tenant accounts")).to_contain_text("shop@linan.example · 山核桃店长")

    # An anchor.
    page.goto("/anchors/new")
    page.get_by_label("Daily limit (minutes)", exact=True).fill("0")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(field_error(page, "Name")).to_have_text("This field is required.")
    expect(field_error(page, "Daily limit (minutes)")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("小满")
    page.get_by_label("Daily limit (minutes)", exact=True).fill("360")
    page.get_by_role("button", name="Save", exact=True).click()
    page.goto("/anchors/")
    expect(page.get_by_role("main")).to_contain_text("小满")

    # A product, then the product filter.
    page.goto("/products/new")
    page.get_by_label("Tenant", exact=True).select_option(label="临安山核桃")
    page.get_by_label("SKU", exact=True).fill("HT-001")
    page.get_by_label("Name", exact=True).fill("手剥山核桃")
    page.get_by_label("Price (yuan)", exact=True).fill("not money")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(field_error(page, "Price (yuan)")).to_be_visible()
    page.get_by_label("Price (yuan)", exact=True).fill("59.90")
    page.get_by_role("button", name="Save", exact=True).click()
    page.goto("/products/")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.get_by_role("main")).to_contain_text("手剥山核桃")

    # A catalogue import: no file is a field message; a CSV creates its rows.
    page.goto("/products/import")
    page.get_by_label("Tenant", exact=True).select_option(label="临安山核桃")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(field_error(page, "CSV file")).to_have_text("Choose a CSV file.")
    csv = tmp_path / "catalogue.csv"
    csv.write_text("sku,name,category,price,stock,certifications\nHT-002,椒盐山核桃,坚果,69.00,50,\n", encoding="utf-8")
    page.get_by_label("Tenant", exact=True).select_option(label="临安山核桃")
    page.get_by_label("CSV file", exact=True).set_input_files(str(csv))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("dl.facts")).to_contain_text("1")
    page.goto("/products/")
    expect(page.get_by_role("main")).to_contain_text("椒盐山核桃")


def test_zones_are_ordered_and_the_board_follows(page, make, live_server):
    make.room(code="A101", zone="服装区")
    make.room(code="B201", zone="美妆区")
    manager = make.user("manager")
    log_in(page, manager.email, next="/rooms/")
    page.get_by_role("link", name="Zone order").click()
    page.get_by_label("美妆区", exact=True).fill("1000")
    page.get_by_role("button", name="Save order").click()
    expect(field_error(page, "美妆区")).to_have_text("Enter a whole number from 0 to 999.")
    page.get_by_label("美妆区", exact=True).fill("1")
    page.get_by_label("服装区", exact=True).fill("2")
    page.get_by_role("button", name="Save order").click()
    expect(page.get_by_role("status")).to_have_text("Zone order saved.")
    expect(page.get_by_label("美妆区", exact=True)).to_have_value("1")
    page.goto("/board/?date=2026-11-21")
    # 美妆区 (1) before 服装区 (2): the reverse of the zones' and the codes' own order.
    expect(page.get_by_role("rowheader")).to_have_text([re.compile("B201"), re.compile("A101")])


def test_anchors_and_lineup_of_a_booking(page, make, booking_world, live_server):
    room, (_, tenant), coordinator = booking_world
    host = make.anchor(name="思思", verified=True)
    helper = make.anchor(name="阿杰", verified=True)
    coat = make.product(tenant, name="羊毛大衣", sku="COAT-1", stock=10)
    scarf = make.product(tenant, name="羊绒围巾", sku="SCARF-1", stock=0)
    from opsroom.models import Series
    series = make._save(Series(rule={"freq": "weekly"})).id
    booking = make.booking(room, tenant, starts_at=datetime(2026, 11, 23, 19, 0, tzinfo=TZ), series_id=series)
    twin = make.booking(room, tenant, starts_at=datetime(2026, 11, 25, 19, 0, tzinfo=TZ), series_id=series)
    log_in(page, coordinator.email, next=f"/bookings/{booking.id}")

    # Anchors: a host chosen and saved.
    page.get_by_label("Anchor 1", exact=True).select_option(label="思思")
    page.get_by_role("button", name="Save anchors").click()
    expect(page.locator(".flash-error, .error")).to_have_count(0)
    expect(history_items(page).last).to_contain_text("added anchor 思思 (host)")
    # The free anchors' page adds an assistant.
    page.goto(f"/bookings/{booking.id}/free-anchors")
    page.get_by_role("button", name=re.compile(r"阿杰")).first.click()
    expect(history_items(page).last).to_contain_text("阿杰")

    # Lineup: nothing chosen is a field message; a product in the lineup is not offered again.
    page.get_by_role("button", name="Add to the lineup").click()
    expect(field_error(page, "Product")).to_be_visible()
    page.get_by_label("Product", exact=True).select_option(label="COAT-1 · 羊毛大衣")
    page.get_by_role("button", name="Add to the lineup").click()
    product = page.get_by_label("Product", exact=True)
    expect(product.locator("option", has_text="羊毛大衣")).to_have_count(0)
    product.select_option(label="SCARF-1 · 羊绒围巾")
    page.get_by_role("button", name="Add to the lineup").click()
    # Out of stock without a planned quantity is said as such, not "below the plan".
    expect(page.get_by_text("羊绒围巾 is out of stock.")).to_be_visible()
    expect(page.get_by_text(re.compile("below what the lineup plans"))).to_have_count(0)
    page.get_by_role("button", name="Move 羊绒围巾 up").click()
    expect(page.get_by_role("button", name="Move 羊绒围巾 up")).to_have_count(0)  # first now
    page.get_by_role("button", name="Move 羊绒围巾 down").click()
    expect(page.get_by_role("button", name="Move 羊绒围巾 down")).to_have_count(0)  # last again
    # The drag-and-drop order form (lineup.js fills it on drop): submitted with the new order.
    with live_server.session() as session:
        from opsroom.models import LineupItem
        ids = session.scalars(sa.select(LineupItem.id).where(LineupItem.booking_id == booking.id)
                              .order_by(LineupItem.position)).all()
    page.evaluate("""(order) => { const f = document.getElementById('lineup-order-form');
        f.querySelector('input[name=order]').value = order; f.submit(); }""", ",".join(map(str, reversed(ids))))
    expect(page.get_by_role("button", name="Move 羊绒围巾 up")).to_have_count(0)  # the scarf is first now
    page.get_by_role("button", name="Remove 羊绒围巾").click()
    expect(page.get_by_role("button", name="Remove 羊绒围巾")).to_have_count(0)

    # Copy the setup to the series' other session of the week.
    page.locator("input[name=targets]").first.check()
    page.get_by_role("button", name="Copy", exact=True).click()
    page.goto(f"/bookings/{twin.id}")
    expect(history_items(page).last).to_contain_text(f"copied the anchors and lineup from booking #{booking.id}")

    # The run sheet's print button.
    page.add_init_script("window.print = () => { window.printed = true; };")
    page.goto(f"/bookings/{booking.id}/runsheet")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed") is True


def test_a_review_note_is_added(page, make, booking_world, live_server):
    """复盘 worth opening: against earlier sessions, the best and worst 15 minutes,
    the lineup's unsold products; and a note added (an empty one refused)."""
    from opsroom.models import LineupItem

    room, (_, tenant), coordinator = booking_world
    start = NOW - timedelta(days=1)
    before = make.booking(room, tenant, starts_at=start - timedelta(days=1), status="ended",
                          checked_in_at=start - timedelta(days=1))
    done = make.booking(room, tenant, starts_at=start, ends_at=start + timedelta(hours=1), status="ended",
                        checked_in_at=start - timedelta(minutes=10))
    coat = make.product(tenant, name="羊毛大衣", sku="COAT-1")
    scarf = make.product(tenant, name="羊绒围巾", sku="SCARF-1")
    make.session.add_all([LineupItem(booking_id=done.id, product_id=coat.id, position=1),
                          LineupItem(booking_id=done.id, product_id=scarf.id, position=2)])
    make.session.commit()
    for minute in (20, 21, 22, 23, 35):
        make.order(done, ordered_at=start + timedelta(minutes=minute), product_id=coat.id, sku="COAT-1")
    make.order(before)
    manager = make.user("manager", name="运营经理")
    log_in(page, manager.email, next=f"/bookings/{done.id}/review")

    compare = page.get_by_role("table", name="Against earlier sessions")
    expect(compare.get_by_role("row").nth(1)).to_contain_text("This session")
    expect(compare.get_by_role("row").nth(2)).to_contain_text("The tenant's last 1 sessions")
    quarters = page.locator(".review-quarters")
    expect(quarters).to_contain_text("Best")
    expect(quarters).to_contain_text("4 orders")  # 10:20–10:35 holds four of the five
    unsold = page.locator(".review-unsold")
    expect(unsold).to_contain_text("羊绒围巾")
    expect(unsold).not_to_contain_text("羊毛大衣")

    page.get_by_role("button", name="Add note").click()
    expect(field_error(page, "Note")).to_have_text("This field is required.")
    page.get_by_label("Note", exact=True).fill("开场十五分钟转化最好，下次提前上福袋。")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("main")).to_contain_text("开场十五分钟转化最好")


def too_long(field) -> None:
    """Type past the field's maxlength, as a script or an old browser may: the server still refuses it."""
    field.evaluate("f => f.removeAttribute('maxlength')")
    field.fill("x" * 101)


def test_tokens_create_and_revoke(page, make):
    admin = make.user("admin", name="园区管理员")
    log_in(page, admin.email, next="/account/tokens")
    too_long(page.get_by_label("Label", exact=True))
    page.get_by_role("button", name="Create token").click()
    expect(field_error(page, "Label")).to_be_visible()
    page.get_by_label("Label", exact=True).fill("对账脚本")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("cell", name="对账脚本")).to_be_visible()
    page.get_by_role("button", name="Revoke", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Token revoked.")
    expect(page.get_by_role("button", name="Revoke", exact=True)).to_have_count(0)

    page.goto("/screen/tokens")
    label = "Label (where the screen hangs)"
    too_long(page.get_by_label(label, exact=True))
    page.get_by_role("button", name="Create a screen token").click()
    expect(field_error(page, label)).to_be_visible()
    page.get_by_label(label, exact=True).fill("大厅屏")
    page.get_by_role("button", name="Create a screen token").click()
    expect(page.get_by_role("cell", name="大厅屏").first).to_be_visible()
    page.get_by_role("button", name="Revoke 大厅屏").click()
    expect(page.get_by_role("button", name="Revoke 大厅屏")).to_have_count(0)


def test_password_change_and_reauth(page, make, live_server):
    user = make.user("coordinator", name="排期小王")
    log_in(page, user.email, next="/account/password")
    page.get_by_label("Current password", exact=True).fill("wrong password")
    page.get_by_label("New password", exact=True).fill("a much longer new secret 42")
    page.get_by_label("New password again", exact=True).fill("a much longer new secret 42")
    page.get_by_role("button", name="Change password").click()
    expect(field_error(page, "Current password")).to_have_text("Wrong password.")
    page.get_by_label("Current password", exact=True).fill("correct horse battery")
    page.get_by_label("New password", exact=True).fill("a much longer new secret 42")
    page.get_by_label("New password again", exact=True).fill("a much longer new secret 42")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Password changed.")

    # The login grows old: the tokens page asks for the password again.
    with live_server.session() as session:
        from opsroom.models import LoginSession
        session.execute(sa.update(LoginSession).values(authenticated_at=NOW - timedelta(hours=2)))
        session.commit()
    page.goto("/account/tokens")
    expect(page).to_have_url(re.compile(r"/reauth"))
    page.get_by_label("Password", exact=True).fill("not it")
    page.get_by_role("button", name="Continue").click()
    expect(field_error(page, "Password")).to_be_visible()
    page.get_by_label("Password", exact=True).fill("a much longer new secret 42")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/account/tokens$"))


def test_anchor_resets_the_calendar_link(page, make):
    user = make.user("anchor", name="李梨花")
    make.anchor(name="李梨花", user_id=user.id)
    log_in(page, user.email, next="/me/schedule")
    feed = page.get_by_label("Calendar link", exact=True)
    before = feed.input_value()
    page.get_by_role("button", name="Reset the link").click()
    expect(feed).not_to_have_value(before)


def test_operations_page_names_the_jobs_and_resends_an_email(page, make, live_server):
    from opsroom.models import Notification

    admin = make.user("admin", name="园区管理员", locale="zh_CN")
    make.session.add(Notification(user_id=admin.id, kind="reminder", key="ops-1", title="开播提醒", body="",
                                  email_status="failed", email_attempts=5, email_error="550 mailbox unavailable"))
    make.session.commit()
    log_in(page, admin.email, next="/admin/operations")
    switch_language(page, "zh_CN")
    main = page.get_by_role("main")
    expect(main).to_contain_text("每日简报")  # job names translated
    expect(main).to_contain_text("预订巡检")
    page.get_by_role("button", name="重新发送").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("button", name="重新发送")).to_have_count(0)
    with live_server.session() as session:
        assert session.scalar(sa.select(Notification.email_status)) != "failed"


def test_header_badge_icon_and_logout(browser, live_server, make):
    """Defects 5 and 12: the unread count is readable on the dark header, the
    icon is served, and the English header of an admin stays on one line at 1440 px."""
    from opsroom.models import Notification

    admin = make.user("admin", name="园区管理员")
    make.session.add(Notification(user_id=admin.id, kind="reminder", key="hdr-1", title="开播提醒", body=""))
    make.session.commit()
    context = browser.new_context(base_url=live_server.url, locale="en", viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        missing = []
        page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        log_in(page, admin.email, next="/admin/operations")
        badge = page.locator(".topbar .badge-count")
        colours = badge.evaluate("""b => { const s = getComputedStyle(b);
            return [s.color, s.backgroundColor]; }""")
        assert colours[0] != colours[1], colours
        assert contrast(*colours) >= 4.5, colours
        nav = page.get_by_role("navigation", name="Main")
        heights = nav.get_by_role("link").evaluate_all("links => links.map(a => a.getBoundingClientRect().top)")
        assert len(set(heights)) == 1, f"the header wraps: link tops {sorted(set(heights))}"
        icon = page.locator("link[rel=icon]").get_attribute("href")
        assert page.request.get(icon).ok and page.request.get("/favicon.ico").ok
        assert missing == []
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/login"))
    finally:
        context.close()


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two rgb()/rgba() CSS colours."""
    def luminance(css: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_email_setting_is_saved(browser, live_server, make):
    """The setting exists only when the park sends email: a second server on the
    same database, with an SMTP host configured (nothing is sent here). A
    checkbox has no invalid value; its saved state is read back."""
    from tests.support.live import LiveServer

    user = make.user("anchor", name="李梨花")
    with LiveServer(live_server.database_url, SMTP_HOST="127.0.0.1") as mailing:
        context = browser.new_context(base_url=mailing.url, locale="en")
        try:
            page = context.new_page()
            log_in(page, user.email, next="/notifications/")
            setting = page.get_by_label("Also send my notices by email")
            expect(setting).to_be_checked()  # on by default
            setting.uncheck()
            page.get_by_role("button", name="Save", exact=True).click()
            expect(page.get_by_role("status")).to_have_text("Email of notices turned off.")
            expect(page.get_by_label("Also send my notices by email")).not_to_be_checked()
        finally:
            context.close()


def test_unattributed_orders_are_paged_filtered_and_assigned_to_a_suggestion(page, make, booking_world, live_server):
    """A page at a time, filters by platform, room code and account; each
    row suggests the sessions of its room or anchor; no "showing 500" text."""
    room, (_, tenant), coordinator = booking_world
    evening = make.booking(room, tenant, starts_at=datetime(2026, 11, 19, 19, 0, tzinfo=TZ),
                           ends_at=datetime(2026, 11, 19, 21, 0, tzinfo=TZ), status="ended", title="晚场")
    for i in range(55):  # more than one page, none naming a known room
        make.order(None, ordered_at=datetime(2026, 11, 19, 9, 0, tzinfo=TZ) + timedelta(minutes=i), room_code="ZZ")
    stray = make.order(None, ordered_at=datetime(2026, 11, 19, 21, 10, tzinfo=TZ), room_code="A101",
                       platform="kuaishou", external_id="KS-0001")
    log_in(page, coordinator.email, next="/orders/unattributed")
    summary = page.locator(".pager-summary")
    expect(summary).to_have_text("Orders 1–50 of 56 matching (56 unattributed in all).")
    page.get_by_role("link", name="Next page").click()
    expect(summary).to_have_text("Orders 51–56 of 56 matching (56 unattributed in all).")

    page.get_by_label("Platform", exact=True).select_option(label="Kuaishou")
    page.get_by_label("Room code", exact=True).fill("A101")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("checkbox")).to_have_count(1)
    row = page.get_by_role("row").filter(has_text="KS-0001")
    expect(row).to_contain_text("Kuaishou")  # the platform's name, not its code
    # Invalid: the bulk button with nothing ticked says so; nothing is assigned.
    page.get_by_role("button", name="Assign the ticked orders").click()
    expect(page.get_by_text("Tick at least one order.")).to_be_visible()
    row.get_by_role("button", name="To A101 19:00–21:00 · KS-0001").click()
    expect(page.get_by_text("1 order assigned.")).to_be_visible()
    expect(summary).to_have_text("No unattributed order matches (55 unattributed in all).")
    with live_server.session() as session:
        from opsroom.models import Order
        assert session.get(Order, stray.id).booking_id == evening.id


def test_a_webhook_is_added_tested_sent_again_and_removed_with_a_robot(page, make, live_server):
    """The integrations page beyond adding a robot (tests/browser/test_integrations.py):
    a webhook with a wrong address is refused on its field; added, its test event
    fails at a real receiver, "send again" puts it back in the outbox; then the
    webhook and a robot are removed."""
    from opsroom.models import Delivery, Robot
    from tests.support.receivers import WebhookReceiver

    admin = make.user("admin", name="园区管理员")
    make._save(Robot(kind="wecom", name="旧运营群", url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=old",
                     events=["booking.cancelled"]))
    with WebhookReceiver(secret="set below, from the form") as receiver:
        log_in(page, admin.email, next="/admin/integrations")
        # A robot's address without a scheme is refused on its field (the valid robot: test_integrations.py).
        page.get_by_text("Add a robot", exact=True).click()
        robot = page.get_by_role("form", name="Add a robot")
        robot.get_by_label("Platform").select_option(label="WeCom group robot")
        robot.get_by_label("Webhook address").fill("qyapi.weixin.qq.com/cgi-bin/webhook/send?key=new")
        robot.get_by_label("Booking cancelled").check()
        robot.get_by_role("button", name="Add robot").click()
        robot = page.get_by_role("form", name="Add a robot")
        expect(field_error(page, "Webhook address", robot)).to_have_text("Use an http:// or https:// address.")
        expect(page.get_by_role("region", name="Group robots").get_by_role("row")).to_have_count(2)  # head, 旧运营群

        page.get_by_text("Add a webhook", exact=True).click()
        form = page.get_by_role("form", name="Add a webhook")
        form.get_by_label("Endpoint URL", exact=True).fill("ftp://erp.example/hooks")
        form.get_by_role("button", name="Add webhook").click()
        form = page.get_by_role("form", name="Add a webhook")  # shown again, open
        expect(field_error(page, "Endpoint URL", form)).to_have_text("Use an http:// or https:// address.")
        receiver.secret = form.get_by_label("Secret", exact=True).input_value()  # the page's generated whsec_
        assert receiver.secret.startswith("whsec_")
        form.get_by_label("Endpoint URL", exact=True).fill(receiver.url)
        form.get_by_label("Booking cancelled").check()
        form.get_by_role("button", name="Add webhook").click()
        expect(page.get_by_role("status")).to_have_text("The webhook was added.")
        hook_row = page.get_by_role("region", name="Webhooks").get_by_role("row").filter(has_text=receiver.url)
        expect(hook_row).to_contain_text("Booking cancelled")

        receiver.fail_next(1, status=500)
        hook_row.get_by_role("button", name="Send a test event").click()
        expect(page.get_by_role("status")).to_contain_text("Test message failed")
        expect(page.get_by_role("alert")).to_have_text("1 message failed to send.")
        sent = page.locator("#deliveries").get_by_role("row").filter(has_text="Test message")
        expect(sent).to_contain_text("failed")
        sent.get_by_role("button", name="Send again").click()
        expect(page.get_by_role("status")).to_have_text("The message will be sent again.")
        expect(page.get_by_role("alert")).to_have_count(0)
        with live_server.session() as session:
            assert session.scalars(sa.select(Delivery.state)).all() in (["pending"], ["sent"])

        page.get_by_role("region", name="Webhooks").get_by_role("row").filter(has_text=receiver.url) \
            .get_by_role("button", name="Remove").click()
        expect(page.get_by_role("status")).to_have_text("The webhook was removed.")
        expect(page.get_by_text("No webhooks yet.")).to_be_visible()
        page.get_by_role("region", name="Group robots").get_by_role("row").filter(has_text="旧运营群") \
            .get_by_role("button", name="Remove").click()
        expect(page.get_by_role("status")).to_have_text("The robot was removed.")
        expect(page.get_by_text("No robots yet.")).to_be_visible()


def test_a_request_is_checked_and_withdrawn_an_offer_accepted_on_its_page_and_a_reason_required(
        page, make, live_server):
    """The request pages beyond tests/browser/test_requests.py: a duration under 15
    minutes is refused on its field, the sent request is withdrawn; an offer is
    accepted from the request's own page; rejecting without a reason is refused."""
    from opsroom.models import BookingRequest, User
    from opsroom.services.bookings import lifecycle
    from opsroom.services.requests import flow

    room = make.room(code="B201", name="服装直播间")
    tenant, rival = make.tenant(name="西柳服装"), make.tenant(name="梓涵服饰")
    tenant_user = make.user("tenant", tenant_id=tenant.id, name="刘海燕")
    coordinator = make.user("coordinator", name="陈晓峰")
    blocker = make.booking(room, rival, starts_at=datetime(2026, 11, 23, 19, tzinfo=TZ),
                           ends_at=datetime(2026, 11, 23, 23, tzinfo=TZ))
    with live_server.session() as session:  # one request offered freed time, one pending
        asker, desk = session.get(User, tenant_user.id), session.get(User, coordinator.id)

        def ask(day: int, minutes: int) -> int:
            req, _fits = flow.create_request(session, asker, {
                "room_id": room.id, "date": datetime(2026, 11, day).date(), "window_start": time(19),
                "window_end": time(23), "minutes": minutes, "note": "", "anchors": []})
            return req.id

        offered, pending = ask(23, 240), ask(22, 120)
        flow.wait(session, asker, offered)
        lifecycle.cancel_booking(session, desk, blocker.id, reason="商家取消")
        assert session.get(BookingRequest, offered).status == "offered"

    log_in(page, tenant_user.email, next="/requests/new")
    page.get_by_label("Room", exact=True).select_option(label="B201 服装直播间")
    page.get_by_label("Date", exact=True).fill("2026-11-21")
    page.get_by_label("From", exact=True).fill("19:00")
    page.get_by_label("Until", exact=True).fill("23:00")
    page.get_by_label("Duration (minutes)", exact=True).fill("5")
    page.get_by_role("button", name="Send request").click()
    expect(field_error(page, "Duration (minutes)")).to_be_visible()
    page.get_by_label("Duration (minutes)", exact=True).fill("120")
    page.get_by_role("button", name="Send request").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("pending")
    asked = re.match(r"Request #(\d+)", heading.inner_text()).group(1)
    expect(page.get_by_role("status")).to_have_text(f"Request #{asked} sent.")
    page.get_by_role("button", name="Withdraw").click()
    expect(page.get_by_role("status")).to_have_text(f"Request #{asked} withdrawn.")
    expect(heading).to_contain_text("withdrawn")
    expect(page.get_by_role("button", name="Withdraw")).to_have_count(0)

    page.goto(f"/requests/{offered}")
    page.get_by_role("button", name="Accept the offer").click()
    expect(page.get_by_role("status")).to_have_text(f"The offered slot is yours: request #{offered} approved.")
    expect(heading).to_contain_text("approved")
    expect(page.locator("dl.req-facts")).to_contain_text("B201")

    forget_login(page)
    log_in(page, coordinator.email, next=f"/requests/{pending}")
    page.get_by_label("Reason", exact=True).evaluate("f => f.removeAttribute('required')")
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Give a reason.")
    expect(heading).to_contain_text("pending")


def test_a_draft_is_accepted_in_part_pinned_and_rerun_and_a_run_is_stopped(page, make, live_server):
    """The month planner beyond tests/browser/test_month_planner.py: a time limit past
    the maximum is refused; from the draft, accepting nothing ticked is refused, one
    ticked request is booked, another is pinned and the month re-run; a running run
    is stopped from its page."""
    from datetime import date

    from opsroom.models import Booking, BookingRequest, User
    from opsroom.services.planning import runs

    room = make.room(code="Y101", name="月度一号间", open_time=time(8), close_time=time(2), changeover_minutes=0)
    coordinator = make.user("coordinator", name="排期小王")
    first, second = (make._save(BookingRequest(
        tenant_id=make.tenant(name=name).id, status="pending", date=date(2026, 12, day), room_id=room.id,
        window_start=time(20), window_end=time(22), minutes=120, anchors=[], note="", created_at=NOW))
        for name, day in (("高优先服饰", 9), ("低优先服饰", 10)))
    with live_server.session() as session:  # a run recorded but not yet solved: still running
        stoppable = runs.start(session, session.get(User, coordinator.id), date(2027, 1, 1)).id
        session.commit()

    log_in(page, coordinator.email, next="/plans/")
    limit = page.get_by_label("Time limit (seconds)", exact=True)
    limit.evaluate("f => f.removeAttribute('max')")
    limit.fill("100000")
    page.get_by_role("button", name="Plan the month").click()
    expect(page.get_by_role("status")).to_contain_text("Between 1 and")
    expect(page).to_have_url(re.compile(r"/plans/$"))
    page.get_by_label("Month", exact=True).fill("2026-12")
    page.get_by_label("Time limit (seconds)", exact=True).fill("5")
    page.get_by_role("button", name="Plan the month").click()
    expect(page.locator("#plan-status")).to_have_text("done", timeout=20_000)
    expect(page.locator("#placed tbody tr")).to_have_count(2)

    page.get_by_role("button", name="Accept selected").click()
    expect(page.get_by_role("status")).to_have_text("Choose the requests to accept.")
    page.get_by_label(f"Accept request #{first.id}", exact=True).check()
    page.get_by_role("button", name="Accept selected").click()
    expect(page.get_by_role("status")).to_have_text("1 bookings made.")
    expect(page.locator("#placed tr.plan-accepted")).to_contain_text(f"Request #{first.id}")
    with live_server.session() as session:
        assert session.scalars(sa.select(Booking.tenant_id)).all() == [first.tenant_id]

    rerun_from = page.url
    page.get_by_label(f"Pin request #{second.id} on 2026-12-10", exact=True).check()
    page.get_by_role("button", name="Pin the chosen and re-run").click()
    expect(page).not_to_have_url(rerun_from)
    expect(page.locator("#plan-status")).to_have_text("done", timeout=20_000)
    pinned = page.locator("#placed tbody tr").filter(has_text=f"Request #{second.id}")
    expect(pinned).to_contain_text("pinned")

    page.goto(f"/plans/{stoppable}")
    expect(page.locator("#plan-status")).to_have_text("running")
    page.get_by_role("button", name="Stop the run").click()
    expect(page.get_by_role("status")).to_have_text("The run was stopped; the best draft so far is kept.")
    expect(page.locator("#plan-status")).to_have_text("stopped")
    expect(page.get_by_role("button", name="Stop the run")).to_have_count(0)
