"""Every page, as each role sees it on the demo park, has no axe-core violation
of WCAG 2 A/AA (static/vendor/axe-core, loaded by this test only: the page's own
CSP allows a same-origin script), and none but the boards scrolls sideways at 1280 px."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import page_width
from tests.support.surface import _ids, _urls

AXE = "/static/vendor/axe-core/axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Pages wider than the window on purpose: the boards scroll their lanes sideways.
WIDE = ("/board/",)
# /forecast/panel is the booking form's fragment (a 422 with no body without its query), not a page.
SKIP = ("/logout", "/calendar/", "/reports/export", "/orders/imports/", "/orders/batches/", "/forecast/panel")


@pytest.fixture
def demo_pages(live_server):
    """The demo park (a day of history, few orders) and the page URLs with its ids filled in."""
    from opsroom.demo.park import load_demo

    with live_server.session() as session:
        load_demo(session, wipe=True, order_scale=0.02, history_days=1)
        ids = _ids(session)
    ids["feed_token"] = [None]
    # One booking (the live one: the fullest page) stands for all: the pages are the same templates.
    ids["booking_id"] = ids["booking_id"][1:2] or ids["booking_id"][:1]
    urls = [u for u in _urls(live_server.app, ids, api=False) if not u.startswith(SKIP)]
    return list(dict.fromkeys(urls))


def _violations(page) -> list[str]:
    page.add_script_tag(url=AXE)
    result = page.evaluate("""(tags) => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
        .then(r => r.violations.map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")))""",
                           TAGS)
    return result


def test_every_page_has_no_axe_violation_and_no_sideways_scroll(browser, live_server, demo_pages):
    """Each role in turn (one demo load for all): every page it may open. Admin's pages are the
    fullest (every button shown); a manager's or coordinator's copy of a page admin saw is checked
    for sideways scroll, and by axe only where the role has a page admin has not (time: ~0.5 s
    a page), while the anchor's and the tenant's pages (their own, different content) are all checked."""
    found, seen, checked = {}, {}, set()
    for role in ("admin", "manager", "coordinator", "anchor", "tenant"):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                      viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto("/login")
            if role == "admin":  # the login page itself, before anyone logs in
                found["anonymous /login"] = _violations(page)
            page.fill('input[name="email"]', f"{role}@park.demo")
            page.fill('input[name="password"]', "opsroom-demo")
            page.press('input[name="password"]', "Enter")
            expect(page).not_to_have_url("/login")
            seen[role] = 0
            for url in demo_pages:
                response = page.goto(url)
                if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
                    continue
                seen[role] += 1
                path = url.split("?")[0]
                problems = _violations(page) if role in ("admin", "anchor", "tenant") or path not in checked else []
                checked.add(path)
                if not url.startswith(WIDE) and not url.startswith("/screen"):
                    width = page_width(page)
                    if width > 1280:
                        problems.append(f"scrolls sideways: {width}px")
                if problems:
                    found[f"{role} {url}"] = problems
        finally:
            context.close()
    assert {k: v for k, v in found.items() if v} == {}
    print(seen)
    assert seen["admin"] >= 20 and seen["anchor"] >= 3 and seen["tenant"] >= 5, seen
