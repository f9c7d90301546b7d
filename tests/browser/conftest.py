"""Browser journeys: Debian's Chromium driven by Playwright against a live
opsroom server (tests/support/live.py) on SQLite, with the park clock frozen. The
journeys (the tests taking a `lang`: one per user, in zh_CN and en) run on
PostgreSQL too when OPSROOM_TEST_POSTGRES_URL names a server (CI).

Every test here is marked `browser`. Without /usr/bin/chromium the tests are
skipped, or fail when OPSROOM_REQUIRE_BROWSER=1 (CI). A failing test leaves a
screenshot in test-artifacts/.
"""
from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from opsroom import clock
from tests.support.factories import Factory
from tests.support.live import POSTGRES_ENV, LiveServer, backend_url

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# The park's "now" for every journey: Friday 20 November 2026, 10:00.
PARK_NOW = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # A conftest hook sees every collected item; mark only this folder's.
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _unavailable(reason: str):
    if os.environ.get("OPSROOM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def park_clock():
    """The server runs in this process, so this freezes its clock too."""
    with clock.frozen(PARK_NOW):
        yield PARK_NOW


@pytest.fixture(autouse=True)
def frozen_clock(park_clock):
    """Overrides the suite's per-test clock, which unfreezes after each test:
    the live server must never see real time between two tests."""
    clock.set_now(park_clock)
    return park_clock


def pytest_generate_tests(metafunc):
    """The user journeys (parametrized by `lang`) run against each database the
    suite has; the other browser tests use the SQLite server only."""
    if "lang" in metafunc.fixturenames and "live_server" in metafunc.fixturenames:
        backends = ["sqlite"] + (["postgres"] if os.environ.get(POSTGRES_ENV) else [])
        metafunc.parametrize("live_server", backends, indirect=True, scope="session")


@pytest.fixture(scope="session")
def live_server(request, park_clock):
    server = LiveServer(backend_url(getattr(request, "param", "sqlite"))).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _empty_database(live_server):
    """Each journey starts from empty tables (and no login throttling)."""
    live_server.wipe()


@pytest.fixture
def make(live_server):
    """Factories that commit for real into the live server's database."""
    with live_server.session() as session:
        yield Factory(session)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Python Playwright is not installed")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def artifacts(pytestconfig) -> Path:
    """test-artifacts/ at the project root (git-ignored)."""
    path = pytestconfig.rootpath / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def _open_page(request, browser, live_server, artifacts, locale="zh-CN", **context_options):
    context = browser.new_context(base_url=live_server.url, locale=locale, **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        try:
            page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"no failure screenshot: {exc}")
    context.close()


@pytest.fixture
def page(request, browser, live_server, artifacts):
    """A fresh desktop browser context (zh-CN, 1280×900) per test."""
    yield from _open_page(request, browser, live_server, artifacts, viewport=DESKTOP)


@pytest.fixture
def phone_page(request, browser, live_server, artifacts):
    """A fresh phone-sized, touch context (zh-CN, 390×844) per test."""
    yield from _open_page(request, browser, live_server, artifacts, viewport=PHONE, is_mobile=True, has_touch=True)


@pytest.fixture
def open_page(request, browser, live_server, artifacts):
    """open_page(lang, phone=False): a fresh context whose browser asks for
    `lang` ("zh_CN" or "en") first; desktop 1280×900 or a touch phone 390×844."""
    from tests.browser import HTML_LANG

    opened = []

    def open_(lang: str, phone: bool = False):
        options = dict(viewport=PHONE, is_mobile=True, has_touch=True) if phone else dict(viewport=DESKTOP)
        pages = _open_page(request, browser, live_server, artifacts, locale=HTML_LANG[lang], **options)
        opened.append(pages)
        return next(pages)

    yield open_
    for pages in opened:
        next(pages, None)
