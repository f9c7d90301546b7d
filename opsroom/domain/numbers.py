"""Whole numbers typed by people or sent in URLs.

`str.isdigit()` accepts "²" and other digits that `int()` refuses, and a long
run of digits overflows a database integer; both must be a clear "no", never
a crash.
"""
from __future__ import annotations

MAX_INT = 2**31 - 1  # the database's INTEGER
MAX_STOCK = 10**9  # units of one product
MAX_ZONE_ORDER = 999  # a zone's place on the board (0 = where unordered zones sort)


def whole_number(text: object, *, maximum: int = MAX_INT) -> int | None:
    """`text` as an int in [0, maximum] when it is plain ASCII digits, else None."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if value <= maximum else None
