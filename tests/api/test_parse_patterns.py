"""Each text converter's documented `pattern` takes exactly what the converter
takes: a value the document calls valid is never refused by the field check
(found by the long fuzzing run: the not-blank pattern `...\\S...` let a lone NUL
through, which the parser refuses)."""
from __future__ import annotations

import re

import pytest

from opsroom.api import parse as p

SAMPLES = ["a", "  a ", "商品", "\x00", "a\x00", "\x00a", "   ", "\x00 ", " \x00 ", "\t\n", "a\nb", "\u3000x"]


@pytest.mark.parametrize("strip", [True, False])
@pytest.mark.parametrize("min_len", [0, 1])
def test_a_text_pattern_admits_exactly_what_the_converter_takes(app, strip, min_len):
    convert = p.string(100, min_len=min_len, strip=strip)
    pattern = convert.schema["pattern"]
    for value in SAMPLES:
        try:
            convert(value)
            taken = True
        except p.FieldError:
            taken = False
        assert bool(re.search(pattern, value)) == taken, (value, pattern)
