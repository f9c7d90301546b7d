"""Exact money: integer fen in storage, decimal strings such as "129.90" on the wire."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

MAX_FEN = 10**12
_MAX_YUAN = Decimal(MAX_FEN).scaleb(-2)
_CENT = Decimal("0.01")
# Digits with optional thousands separators, then optional decimals.
_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")


class MoneyError(ValueError):
    """An unacceptable amount; ``code`` is one of invalid, negative, precision, too_large."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _from_text(text: str) -> Decimal:
    # NFKC turns full-width input (１２９．９０, ￥) into ASCII digits and the yen sign.
    cleaned = unicodedata.normalize("NFKC", text).strip()
    cleaned = cleaned.removeprefix("¥").strip()
    if cleaned.startswith("-") and _AMOUNT.fullmatch(cleaned[1:].lstrip("¥").strip()):
        raise MoneyError("negative")
    if not _AMOUNT.fullmatch(cleaned):
        raise MoneyError("invalid")
    return Decimal(cleaned.replace(",", ""))


def parse_money(value: object) -> int:
    """Amount in yuan -> integer fen.

    Accepts int, Decimal and str ("129.9", "129.90", "1,299.00", "¥12.5") whose
    value has no part smaller than a fen ("1.005" is rejected, "1.000" is 100 fen),
    and float, which is read through its shortest repr and rounded half-up to the
    fen (a binary float cannot carry exact fen, and 0.1 + 0.2 should mean 0.30).
    Rejects bools, NaN/infinity, negatives and amounts above ``MAX_FEN`` fen.
    """
    if isinstance(value, bool):
        raise MoneyError("invalid")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(str(value))
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        amount = _from_text(value)
    else:
        raise MoneyError("invalid")

    if not amount.is_finite():
        raise MoneyError("invalid")
    if amount < 0:
        raise MoneyError("negative")
    # Compare before quantizing: quantize of a huge value overflows the context.
    if amount > _MAX_YUAN:
        raise MoneyError("too_large")
    if isinstance(value, float):
        amount = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    elif amount != amount.quantize(_CENT, rounding=ROUND_HALF_UP):
        raise MoneyError("precision")
    return int(amount.quantize(_CENT) * 100)


def format_money(fen: int) -> str:
    """Integer fen -> "129.90"; negative amounts keep their sign ("-1.50")."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("fen must be an int")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def group_digits(text: str) -> str:
    """"1234567.80" → "1,234,567.80", "-1234" → "-1,234": thousands separators on a
    decimal string, without going through a float (reports and the screen show money so)."""
    text = str(text)
    sign = "-" if text.startswith("-") else ""
    whole, dot, cents = text.lstrip("-").partition(".")
    if not whole.isdigit():
        return text
    return f"{sign}{int(whole):,}{dot}{cents}"
