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


def to_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook()
    ws = wb.active
    ws.title = report.get("group_by", "report")[:31]
    for line in _cells(report):
        # Control characters (which a zone or a name may hold) cannot be stored in XLSX: drop them, never a 500.
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in line])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_name(report: dict, fmt: str) -> str:
    return f"utilization_{report['group_by']}_{report['from']}_{report['to']}.{fmt}"
