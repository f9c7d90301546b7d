"""Browser journeys (see conftest.py), and the steps they share.

The steps use what a person sees: roles, accessible names and labels. Before
the UI language is known (the page opens in the browser's zh-CN), the language
select is found by its role and its "English" option, whose text never changes.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from playwright.sync_api import Locator, Page, expect

from tests.support.factories import PASSWORD

HTML_LANG = {"en": "en", "zh_CN": "zh-CN"}


def language_select(page: Page) -> Locator:
    return page.get_by_role("combobox").filter(has=page.get_by_role("option", name="English", exact=True))


def switch_language(page: Page, locale: str) -> None:
    """Choose `locale` ("en" or "zh_CN") with the header's language switch.

    With JavaScript the select submits itself on change; choosing the language
    already shown changes nothing, so there is nothing to submit.
    """
    select = language_select(page)
    # app.js (deferred) marks <html class="js"> as it installs the auto-submit
    # listener: choosing before then changes the select and submits nothing.
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    if select.input_value() != locale:
        with page.expect_navigation():
            select.select_option(locale)
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[locale])


def log_in(page: Page, email: str, password: str = PASSWORD, *, next: str | None = None) -> None:
    """Log in through the form, read in English; then go to `next` (a path) if given."""
    page.goto("/login" + (f"?next={quote(next, safe='')}" if next else ""))
    switch_language(page, "en")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def page_width(page: Page) -> int:
    """How wide the page is laid out, in CSS pixels, once it has loaded: its stylesheet
    applied (measured straight after a tap that navigates, a busy machine can still be
    fetching it, and the unstyled page is wider than a phone)."""
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth")


def forget_login(page: Page) -> None:
    """Drop the browser's login, as if a new person sat down: leave the page first,
    so that none of its requests still in flight (a panel it fetches on load) can
    answer with the session cookie again after it is cleared."""
    page.goto("about:blank")
    page.context.clear_cookies()


def t(app, lang: str, msgid: str, **values) -> str:
    """`msgid` as the app shows it in `lang` ("zh_CN" or "en"), from the same
    catalog the server reads (an untranslated string reads as its English)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(lang):
        return gettext(msgid, **values)


def log_in_reading(page: Page, email: str, lang: str, password: str = PASSWORD) -> None:
    """Log in, then choose `lang` with the header's switch (kept for the account)."""
    log_in(page, email, password)
    switch_language(page, lang)
