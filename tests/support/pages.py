"""The HTML face in tests: the CSRF token of a form, logging in and out
through the real forms, pages free of inline code (the strict
Content-Security-Policy), and compiled catalogs for pages in Chinese."""
from __future__ import annotations

import re
import subprocess

from tests.support import ROOT
from tests.support.factories import PASSWORD

TRANSLATIONS = ROOT / "opsroom" / "translations"
PYBABEL = ROOT / ".venv" / "bin" / "pybabel"

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD, *, ip: str = "127.0.0.1", next_: str | None = None,
          remember: bool = False, lang: str | None = "en", **kw):
    """Log in through the real form from `ip`, with Accept-Language `lang` (None: no such header)."""
    environ = {"REMOTE_ADDR": ip}
    if lang is not None:
        environ["HTTP_ACCEPT_LANGUAGE"] = lang
    page = client.get("/login", environ_base=environ, **kw)
    data = {"email": email, "password": password, "csrf_token": csrf_from(page.get_data(as_text=True))}
    if next_ is not None:
        data["next"] = next_
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, environ_base=environ, **kw)


def logout(client):
    token = csrf_from(client.get("/account/tokens").get_data(as_text=True))
    return client.post("/logout", data={"csrf_token": token})


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
# A start tag's attributes one by one, quoted values skipped: text inside a value
# (an escaped title naming "onerror=") is no attribute.
_ATTRS_BEFORE = r"<[a-z][a-z0-9-]*(?:\s+[^\s=>/\"']+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"'=][^\s>]*))?)*"
STYLE_ATTR = re.compile(_ATTRS_BEFORE + r"\s+style\s*=", re.IGNORECASE)
HANDLER_ATTR = re.compile(_ATTRS_BEFORE + r"\s+on[a-z]+\s*=", re.IGNORECASE)


def assert_no_inline_code(html: str, where: str) -> None:
    assert not INLINE_SCRIPT.search(html), f"inline <script> in {where}"
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html, re.IGNORECASE), f"<script> with a body in {where}"
    assert not STYLE_ATTR.search(html), f"style= attribute in {where}"
    assert not re.search(r"<style\b", html, re.IGNORECASE), f"<style> element in {where}"
    assert not HANDLER_ATTR.search(html), f"on*= event handler in {where}"
    assert "javascript:" not in html.lower(), f"javascript: URL in {where}"


def ensure_compiled_translations() -> None:
    """Compile the catalogs (as `make translations` does) when a .mo is missing or older than its .po."""
    stale = False
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale = True
    if stale:
        pybabel = str(PYBABEL) if PYBABEL.exists() else "pybabel"
        subprocess.run([pybabel, "-q", "compile", "-f", "-d", str(TRANSLATIONS)], check=True, cwd=ROOT)
