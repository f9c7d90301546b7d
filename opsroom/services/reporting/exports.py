"""A report as a download: CSV (UTF-8 with BOM, for Excel) or XLSX."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from opsroom.domain.cells import safe_cell


FORMATS = ("json", "csv", "xlsx")


def columns() -> list[tuple[str, Any]]:
    """(field, heading) of an export, in order."""
    return [
        ("key", _l("Key")), ("label", _l("Name")), ("bookable_minutes", _l("Bookable minutes")),
        ("booked_minutes", _l("Booked minutes")), ("utilization", _l("Utilization")),
        ("prime_bookable_minutes", _l("Prime bookable minutes")), ("prime_booked_minutes", _l("Prime booked minutes")),
        ("prime_utilization", _l("Prime-time utilization")), ("used_minutes", _l("Used minutes")),
        ("bookings", _l("Bookings")), ("no_shows", _l("No-shows")), ("no_show_rate", _l("No-show rate")),
        ("cancellations", _l("Cancellations")), ("late_cancellations", _l("Late cancellations")),
        ("orders", _l("Orders")), ("gmv", _l("GMV (CNY)")), ("gmv_per_booked_hour", _l("GMV per booked hour")),
        ("capacity_load", _l("Capacity load")), ("turned_away", _l("Turned away")),
    ]


def _cells(report: dict) -> list[list[Any]]:
    cols = columns()
    out = [[str(heading) for _, heading in cols]]
    for row in report["rows"] + [{**report["total"], "key": str(_l("Total"))}]:
        line = []
        for name, _ in cols:
            value = row.get(name)
            if isinstance(value, (date, datetime)):
                value = value.isoformat()
            elif name in ("gmv", "gmv_per_booked_hour") and value is not None:
                value = float(value)
            elif isinstance(value, float):
                value = round(value, 4)
            line.append(safe_cell(value))
        out.append(line)
    return out


def to_csv(report: dict) -> bytes:
    """UTF-8 with a BOM, so that Excel reads Chinese correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for line in _cells(report):
        writer.writerow(["" if v is None else v for v in line])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# How the workbook writes each kind of column: ratios as percentages, time in
# hours (as the reports page shows it), money with two places, counts whole.
RATIOS = frozenset({"utilization", "prime_utilization", "no_show_rate", "capacity_load"})
MINUTES = {"bookable_minutes": _l("Bookable hours"), "booked_minutes": _l("Booked hours"),
           "prime_bookable_minutes": _l("Prime bookable hours"), "prime_booked_minutes": _l("Prime booked hours"),
           "used_minutes": _l("Used hours")}
MONEY = frozenset({"gmv", "gmv_per_booked_hour"})
XLSX_FORMATS = {"ratio": "0.0%", "hours": "#,##0.0", "money": "#,##0.00", "count": "#,##0"}
MAX_COLUMN_WIDTH = 40


def _kind(name: str) -> str | None:
    if name in RATIOS:
        return "ratio"
    if name in MINUTES:
        return "hours"
    if name in MONEY:
        return "money"
    if name in ("key", "label"):
        return None
    return "count"


def _width(value) -> int:
    """Characters wide in a spreadsheet: CJK characters take two columns."""
    text = value if isinstance(value, str) else f"{value:,}" if isinstance(value, (int, float)) else str(value or "")
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def to_xlsx(report: dict) -> bytes:
    """One sheet: a bold, frozen heading row; ratios as percentages (0.0%), durations
    in hours like the page, money with separators; columns as wide as their contents."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    names = [name for name, _ in columns()]
    kinds = [_kind(n) for n in names]
    wb = Workbook()
    ws = wb.active
    ws.title = report.get("group_by", "report")[:31]
    widths = [0] * len(names)
    for r, line in enumerate(_cells(report)):
        if r == 0:
            line = [str(MINUTES[n]) if n in MINUTES else v for n, v in zip(names, line)]
        else:
            line = [round(v / 60, 2) if k == "hours" and isinstance(v, (int, float)) else v
                    for k, v in zip(kinds, line)]
        # Control characters (which a zone or a name may hold) cannot be stored in XLSX: drop them, never a 500.
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in line])
        for i, v in enumerate(line):
            widths[i] = max(widths[i], _width(v) + (2 if r == 0 else 1))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, kind in enumerate(kinds):
        letter = get_column_letter(i + 1)
        ws.column_dimensions[letter].width = min(MAX_COLUMN_WIDTH, max(8, widths[i]))
        if kind:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
                if isinstance(cell.value, (int, float)):
                    cell.number_format = XLSX_FORMATS[kind]
    ws.freeze_panes = "B2"  # the heading row and the key column stay in view
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_name(report: dict, fmt: str) -> str:
    return f"utilization_{report['group_by']}_{report['from']}_{report['to']}.{fmt}"
