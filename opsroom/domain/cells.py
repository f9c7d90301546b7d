"""Cells of a spreadsheet export (CSV, XLSX) that no spreadsheet runs as a formula."""
from __future__ import annotations

from typing import Any

# A cell beginning with one of these is read as a formula (or a DDE call) by
# Excel, LibreOffice and WPS: "CSV injection".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run is prefixed with an apostrophe, which
    shows it as typed; numbers, None and other text pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
