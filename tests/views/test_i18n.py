"""Every user-facing string is translatable and translated into zh_CN and en
(docs/using.md, "For developers").

The zh_CN catalog must be complete (no empty or fuzzy entry), must hold every
message the source uses right now (so a new string without a translation
fails here), must keep each message's placeholders, and Chinese pages must
show no English navigation.
"""
from __future__ import annotations

import re

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.support import ROOT
from tests.support.pages import ensure_compiled_translations, login

ZH_PO = ROOT / "opsroom" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def zh_catalog():
    with open(ZH_PO, "rb") as f:
        return read_po(f, locale="zh_CN")


def _untranslated(message) -> bool:
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return any(not s for s in strings)


def extracted_messages() -> dict[tuple[str, str | None], str]:
    """(msgid, context) → "file:line" of every message in the source now, with babel.cfg's method map."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(ROOT / "babel.cfg"))
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        msgid = message[0] if isinstance(message, (tuple, list)) else message
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def _summary(items: list[str], limit: int = 25) -> str:
    shown = "\n  ".join(items[:limit])
    more = f"\n  … and {len(items) - limit} more" if len(items) > limit else ""
    return f"{len(items)} message(s):\n  {shown}{more}"


def test_extraction_finds_the_known_strings():
    """The extraction itself works (Python with _ and _l, Jinja templates): known strings are found,
    so the completeness test below cannot pass on an empty list."""
    found = {msgid for msgid, _ in extracted_messages()}
    assert "Wrong email or password." in found  # gettext in opsroom/auth.py
    assert "Please log in to see this page." in found  # lazy_gettext as _l
    assert "Booking board" in found and "Rooms" in found  # templates/base.html


def test_zh_cn_catalog_has_no_empty_or_fuzzy_message():
    """Every msgid of the zh_CN catalog has a non-empty msgstr and none is marked fuzzy."""
    catalog = zh_catalog()
    assert len(catalog) > 0
    empty = [m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and _untranslated(m)]
    fuzzy = [m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.fuzzy]
    assert not empty, "untranslated in zh_CN: " + _summary(empty)
    assert not fuzzy, "fuzzy in zh_CN: " + _summary(fuzzy)


def test_every_source_message_is_in_the_zh_cn_catalog():
    """Each message the source uses now (extracted with babel.cfg, keywords incl. _l and lazy_gettext)
    is in the zh_CN catalog with a translation: a new string without one fails here."""
    catalog = zh_catalog()
    missing, untranslated = [], []
    for (msgid, context), where in sorted(extracted_messages().items(), key=lambda kv: kv[1]):
        message = catalog.get(msgid, context)
        if message is None:
            missing.append(f"{where}: {msgid!r}")
        elif _untranslated(message) or message.fuzzy:
            untranslated.append(f"{where}: {msgid!r}")
    assert not missing, "not in the zh_CN catalog (run `make extract`): " + _summary(missing)
    assert not untranslated, "in the zh_CN catalog but not translated: " + _summary(untranslated)


def test_zh_cn_translations_keep_their_placeholders():
    """A translation keeps exactly the %(name)s placeholders of its msgid (else formatting breaks or lies)."""
    catalog = zh_catalog()
    placeholder = re.compile(r"%\((\w+)\)[sd]")
    wrong = []
    for m in catalog:
        if not m.id or _untranslated(m):
            continue
        ids = m.id if isinstance(m.id, (tuple, list)) else (m.id,)
        strings = m.string if isinstance(m.string, (tuple, list)) else (m.string,)
        expected = set(placeholder.findall(" ".join(ids)))
        for s in strings:
            if set(placeholder.findall(s)) != expected:
                wrong.append(f"{ids[0]!r} → {s!r}")
    assert not wrong, "placeholders differ: " + _summary(wrong)
    assert not [e for _m, errors in catalog.check() for e in errors], "babel's catalog checks fail"


ENGLISH_NAV = ["Booking board", "Rooms", "Tenants", "API tokens", "Log out", "Switch language",
               "Live-streaming base operations"]


@pytest.mark.parametrize("path", ["/rooms/", "/tenants/", "/account/tokens", "/board/"])
def test_chinese_pages_show_no_english_navigation(client, make, path):
    """A staff user in the default zh_CN locale sees no English navigation label on the page."""
    ensure_compiled_translations()
    user = make.user("admin")
    assert login(client, user.email, lang="zh-CN").status_code == 302
    html = client.get(path, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-CN"' in html
    english = [label for label in ENGLISH_NAV if re.search(rf">\s*{re.escape(label)}\s*<", html)]
    assert not english, f"English labels on {path} in zh_CN: {english}"


def test_chinese_login_page_shows_no_english(client):
    """The login page of an anonymous visitor with a Chinese browser has no English heading or button."""
    ensure_compiled_translations()
    html = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    for label in ["Log in", "Email", "Password", "Keep me signed in", "Switch language"]:
        assert not re.search(rf">\s*{re.escape(label)}\s*<", html), label
