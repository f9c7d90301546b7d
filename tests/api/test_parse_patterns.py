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


MONTHS = ["2026-12", "2000-01", "2099-12", "1999-12", "2100-01", "2026-13", "2026-00", "2026-1", "26-12",
          " 2026-12", "2026-12\n", "2026-12-01", "２０２６-12", "", "9000-01"]


def test_one_month_parser_takes_exactly_its_documented_pattern(app):
    """Both the plans' month and the requests' month filter use p.month, and the
    plans page's form the same domain.hours.parse_month: it takes the months of
    2000–2099 (the planner's years, runs.MIN_YEAR–MAX_YEAR) and nothing its pattern refuses."""
    from opsroom.api import plans, requests
    from opsroom.domain import hours
    from opsroom.services.planning import runs

    assert plans.PLAN_SCHEMA["month"].convert is p.month and requests.REQUEST_FILTERS["month"].convert is p.month
    assert hours.parse_month(f"{runs.MIN_YEAR}-01") and hours.parse_month(f"{runs.MAX_YEAR}-12")
    assert hours.parse_month(f"{runs.MIN_YEAR - 1}-12") is None and hours.parse_month(f"{runs.MAX_YEAR + 1}-01") is None
    for value in MONTHS:
        assert (hours.parse_month(value) is not None) == (value in ("2026-12", "2000-01", "2099-12")), value
    pattern = p.month.schema["pattern"].replace("$", r"\Z")  # JSON Schema's $: the very end, no newline before
    for value in MONTHS:
        try:
            taken = p.month(value).day == 1
        except p.FieldError:
            taken = False
        assert bool(re.search(pattern, value)) == taken, value
        assert taken == (value in ("2026-12", "2000-01", "2099-12")), value
