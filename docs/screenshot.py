"""Takes docs/board.png, the README's picture: the demo park's booking board at
21:05 on a Friday, with sessions live and a capacity alert, in Chinese.

    make screenshot            # or: .venv/bin/python docs/screenshot.py [OUT.png]

Loads the demo into a throw-away SQLite database at a frozen clock, serves the
app on a loopback port in a thread, and has Debian's Chromium (Playwright) log in
as the coordinator and photograph the board. Needs /usr/bin/chromium and a CJK
font (Debian: fonts-wqy-microhei or fonts-noto-cjk) for the Chinese to show.
"""
from __future__ import annotations

import sys
import tempfile
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from opsroom import clock, create_app  # noqa: E402
from opsroom.db import get_session  # noqa: E402
from opsroom.demo.data import DEMO_PASSWORD  # noqa: E402
from opsroom.demo.park import load_demo  # noqa: E402
from opsroom.migrate import upgrade  # noqa: E402

# A Friday evening: prime time, most rooms live, the flash sale's alert on.
NOW = datetime(2026, 11, 20, 21, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
VIEWPORT = {"width": 1600, "height": 1000}


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    clock.set_now(NOW)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.sqlite3"
        app = create_app(DATABASE_URL=url, SECRET_KEY="screenshot", SESSION_COOKIE_SECURE=False,
                         REMEMBER_COOKIE_SECURE=False)
        upgrade(app.extensions["opsroom.engine"])
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        with app.app_context():
            session = get_session()
            print(load_demo(session, wipe=True))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                            args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(base_url=base, locale="zh-CN", viewport=VIEWPORT)
                page.goto("/login")
                page.fill('input[name="email"]', "coordinator@park.demo")
                page.fill('input[name="password"]', DEMO_PASSWORD)
                page.press('input[name="password"]', "Enter")
                page.wait_for_url(lambda u: "/login" not in u)
                page.goto("/board/")
                page.wait_for_selector(".booking.capacity-alert")
                # Scroll the board to the evening: prime time and the live sessions.
                page.evaluate("""() => { const b = document.querySelector('.board');
                    b.scrollLeft = (b.scrollWidth - b.clientWidth) * 0.62; }""")
                page.screenshot(path=str(out))
                browser.close()
        finally:
            server.shutdown()
            clock.set_now(None)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "board.png")
