"""A first browser journey: log in, switch language, see the rooms page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser import language_select, log_in, page_width, switch_language
from tests.support.factories import PASSWORD


def test_log_in_switch_language_and_see_the_rooms(page, make):
    user = make.user("coordinator", email="xiaowang@park.test", name="排期小王")
    make.room(code="A101", name="服装一号间", zone="服装区", kind="服装")
    make.room(code="B205", name="食品五号间", zone="食品区", kind="食品")
    html = page.locator("html")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    expect(html).to_have_attribute("lang", "zh-CN")  # from the browser's Accept-Language

    # The labels' Chinese may not be compiled yet: read the form in English.
    switch_language(page, "en")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()

    # A coordinator's home is the booking board.
    expect(page).to_have_url(re.compile(r"/board/$"))
    expect(page.get_by_text("排期小王")).to_be_visible()

    switch_language(page, "en")
    expect(page).to_have_url(re.compile(r"/board/$"))
    expect(page.get_by_role("heading", name=re.compile(r"^Booking board"))).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rooms", exact=True).click()

    expect(page).to_have_url(re.compile(r"/rooms/$"))
    expect(page.get_by_role("heading", name="Rooms", exact=True)).to_be_visible()
    rooms = page.get_by_role("table", name="Rooms")
    expect(rooms.get_by_role("link", name="A101", exact=True)).to_be_visible()
    expect(rooms.get_by_role("row").filter(has_text="A101")).to_contain_text("服装一号间")
    expect(rooms.get_by_role("row").filter(has_text="B205")).to_contain_text("食品五号间")

    # Once the page is in English, the switch is found by its label; switching
    # back stays on the page.
    expect(html).to_have_class(re.compile(r"\bjs\b"))  # the auto-submit is installed
    with page.expect_navigation():
        page.get_by_label("Language", exact=True).select_option(label="中文")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_url(re.compile(r"/rooms/$"))
    expect(language_select(page)).to_have_value("zh_CN")
    expect(page.get_by_role("table").get_by_role("link", name="B205", exact=True)).to_be_visible()


def test_a_wrong_password_is_shown_on_the_form(page, make):
    user = make.user("coordinator")
    page.goto("/login")
    switch_language(page, "en")

    email = page.get_by_label("Email", exact=True)
    password = page.get_by_label("Password", exact=True)
    email.fill(user.email)
    password.fill("not the password")
    page.get_by_role("button", name="Log in", exact=True).click()

    expect(page).to_have_url(re.compile(r"/login"))
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description("Wrong email or password.")
    expect(password).to_have_value("")
    expect(email).to_have_value(user.email)
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_the_language_switch_works_without_javascript(browser, live_server):
    # Without JavaScript the select does not submit itself: the button does.
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        language_select(page).select_option("en")
        page.get_by_role("button", name=re.compile(r"Switch language|切换")).click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_label("Language", exact=True)).to_have_value("en")

        page.get_by_label("Language", exact=True).select_option("zh_CN")
        page.get_by_role("button", name="Switch language", exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(language_select(page)).to_have_value("zh_CN")
        expect(page).to_have_url(re.compile(r"/login$"))
    finally:
        context.close()


def test_the_language_chosen_before_logging_in_is_kept(page, make):
    user = make.user("coordinator")
    log_in(page, user.email)  # chooses English on the login page
    expect(language_select(page)).to_have_value("en", timeout=2_000)


def test_an_anchor_logs_in_on_a_phone_and_sees_the_rooms(phone_page, make):
    page = phone_page
    user = make.user("anchor")
    make.room(code="A101", name="服装一号间")
    log_in(page, user.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rooms", exact=True).tap()

    expect(page).to_have_url(re.compile(r"/rooms/$"))
    expect(page.get_by_role("table", name="Rooms").get_by_role("link", name="A101", exact=True)).to_be_visible()
    # The wide table scrolls inside its wrapper; the page itself does not.
    width = page_width(page)
    assert width <= page.viewport_size["width"], f"the page is {width}px wide on a 390px phone"


def test_chinese_pages_use_the_chinese_catalog(page, live_server):
    """The default Chinese UI really loads the zh_CN catalog (Babel names it zh_Hans_CN)."""
    page.goto(live_server.url + "/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="登录")).to_be_visible(timeout=2_000)
