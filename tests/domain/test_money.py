"""Exact money: parsing yuan input to fen and formatting fen."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsroom.domain.money import MAX_FEN, MoneyError, format_money, parse_money


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        (129, 12900),
        (0, 0),
        ("129.9", 12990),
        ("129.90", 12990),
        ("  129.90 ", 12990),
        ("1,299.00", 129900),
        ("1,234,567.89", 123456789),
        ("¥12.5", 1250),
        ("￥１２．５", 1250),
        ("0.01", 1),
        ("1.000", 100),
        (Decimal("129.90"), 12990),
        (Decimal("1E+3"), 100000),
        (129.9, 12990),
        (0.1 + 0.2, 30),
        (1.005, 101),
        (10**10, MAX_FEN),
    ],
)
def test_parse_money_accepts(value, fen):
    """Accepted inputs become exact integer fen; floats are read by repr and rounded half-up."""
    assert parse_money(value) == fen


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (True, "invalid"),
        (False, "invalid"),
        (None, "invalid"),
        ("", "invalid"),
        ("abc", "invalid"),
        ("1,29.00", "invalid"),
        ("1e3", "invalid"),
        ("12.", "invalid"),
        (float("nan"), "invalid"),
        (float("inf"), "invalid"),
        (Decimal("NaN"), "invalid"),
        (Decimal("Infinity"), "invalid"),
        (-1, "negative"),
        ("-1.50", "negative"),
        ("-¥1.50", "negative"),
        (Decimal("-0.01"), "negative"),
        (-0.5, "negative"),
        ("1.005", "precision"),
        (Decimal("0.001"), "precision"),
        (10**10 + 1, "too_large"),
        ("10,000,000,000.01", "too_large"),
        (1e300, "too_large"),
    ],
)
def test_parse_money_rejects(value, code):
    """Rejected inputs raise a ValueError carrying a machine code for the UI."""
    with pytest.raises(MoneyError) as info:
        parse_money(value)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("fen", "text"),
    [(12990, "129.90"), (0, "0.00"), (5, "0.05"), (-150, "-1.50"), (-5, "-0.05"), (123456789, "1234567.89")],
)
def test_format_money(fen, text):
    """Fen format as a plain decimal string with two places and a sign when negative."""
    assert format_money(fen) == text


def test_format_money_rejects_non_int():
    """Only integer fen can be formatted, so floats never sneak into amounts."""
    with pytest.raises(TypeError):
        format_money(1.5)
    with pytest.raises(TypeError):
        format_money(True)


@settings(deadline=None)
@given(st.integers(0, MAX_FEN))
def test_round_trip(fen):
    """Formatting then parsing returns the same fen."""
    assert parse_money(format_money(fen)) == fen


@pytest.mark.parametrize("text, grouped", [
    ("384357.00", "384,357.00"), ("0.50", "0.50"), ("-1234567.89", "-1,234,567.89"), ("1000", "1,000"),
    (12345, "12,345"), ("n/a", "n/a"),
])
def test_group_digits_puts_thousands_separators_without_floats(text, grouped):
    from opsroom.domain.money import group_digits

    assert group_digits(text) == grouped
