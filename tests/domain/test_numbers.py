"""Whole numbers from people and URLs: ASCII digits within range, else None (never an exception)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsroom.domain.numbers import MAX_INT, whole_number


@pytest.mark.parametrize("text,expected", [
    ("0", 0), ("42", 42), (" 7 ", 7), (str(MAX_INT), MAX_INT),
    (str(MAX_INT + 1), None), ("9" * 40, None), ("²", None), ("٣", None), ("-1", None), ("1.5", None),
    ("", None), (" ", None), (None, None), (12, None),
])
def test_table(text, expected):
    assert whole_number(text) == expected


def test_own_maximum():
    assert whole_number("1000", maximum=999) is None
    assert whole_number("999", maximum=999) == 999


@given(st.text(max_size=30))
def test_any_text_gives_an_int_in_range_or_none(text):
    value = whole_number(text)
    assert value is None or 0 <= value <= MAX_INT
