"""Short names for crowded places: the board's blocks and the hall screen.

A tenant may carry its own short name (简称); without one, its registered name
is shortened by rule: the legal-form suffix (有限公司, Co., Ltd.) and a leading
place name ending in 省/市/县/区/旗 go, and what is left is cut to a few
characters. Registered Chinese names put the place first and the form last, so
what remains is the trade name (字号) and the trade, which is what people say.
"""
from __future__ import annotations

import re

SHORT_NAME_MAX = 16
# Characters a derived short name keeps before "…" (a CJK character is two columns wide).
DERIVED_MAX_CJK = 6
DERIVED_MAX_LATIN = 14

_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "专业合作社", "合作社", "股份公司", "集团公司", "公司",
    "工作室", "个体工商户", "经营部", "商行",
)
_LATIN_SUFFIX = re.compile(r"[\s,.]*(co\.?,?\s*ltd\.?|ltd\.?|inc\.?|llc|gmbh|corp\.?|co\.?|limited)\s*$", re.I)
# A leading place: anything up to the last 省/市/县/区/旗 within the first 9 characters,
# e.g. 鞍山市千山区, 岫岩满族自治县. Only taken when at least two characters remain.
_PLACE = re.compile(r"^[\u4e00-\u9fff]{1,8}?(?:省|自治区|市|自治州|盟|自治县|县|区|旗)")


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def shorten(name: str) -> str:
    """A registered name shortened by rule (see the module's docstring)."""
    text = " ".join((name or "").split())
    if not text:
        return ""
    if _is_cjk(text):
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) - len(suffix) >= 2:
                text = text[: -len(suffix)]
                break
        while (m := _PLACE.match(text)) and len(text) - m.end() >= 2:
            text = text[m.end():]
        limit = DERIVED_MAX_CJK
    else:
        stripped = _LATIN_SUFFIX.sub("", text).strip(" ,.")
        text = stripped or text
        limit = DERIVED_MAX_LATIN
    return text if len(text) <= limit else text[: limit - 1] + "…"


def display_short_name(name: str, short_name: str | None) -> str:
    """What a crowded place shows for a tenant: its own short name, else its name shortened."""
    own = (short_name or "").strip()
    return own or shorten(name)
