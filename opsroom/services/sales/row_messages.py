"""What a rejected order row, or a file that cannot be read, is told, in the user's language."""
from __future__ import annotations


from flask_babel import lazy_gettext as _l

from opsroom.domain.csv_rows import RowError


FIELD_LABELS = {
    "external_id": _l("order number"), "parent_id": _l("parent order number"), "platform": _l("platform"),
    "booking_id": _l("booking"), "room_code": _l("room code"), "anchor_account": _l("anchor account"),
    "sku": _l("SKU"), "product_name": _l("product"), "buyer": _l("buyer"), "quantity": _l("quantity"),
    "amount": _l("amount"), "refund": _l("refund"), "ordered_at": _l("order time"), "status": _l("status"),
    "after_sale": _l("after-sale status"), "": _l("row"),
}


ROW_MESSAGES = {
    "required": _l("%(field)s is missing."),
    "invalid": _l("%(field)s has the wrong type."),
    "too_long": _l("%(field)s is too long."),
    "nul": _l("%(field)s contains a NUL character."),
    "scientific": _l("%(field)s was turned into a number by a spreadsheet (e.g. 4.87E+18); export the IDs as text."),
    "amount": _l("%(field)s is not an amount in yuan such as 129.90 (at most two decimals, not negative)."),
    "refund": _l("%(field)s is not an amount in yuan such as 129.90."),
    "refund_above_amount": _l("The refund is larger than the amount."),
    "quantity": _l("%(field)s is not a whole number."),
    "booking_id": _l("%(field)s is not a booking id."),
    "no_booking": _l("No booking has this id."),
    "cancelled_booking": _l("Orders cannot be assigned to a cancelled session."),
    "time": _l("%(field)s is not a time such as 2026-11-20 20:05:00."),
    "naive": _l("%(field)s needs an offset, e.g. 2026-11-20T20:05:00+08:00."),
    "year": _l("%(field)s has an implausible year."),
    "status": _l("%(field)s is not a known order status."),
    "after_sale": _l("%(field)s is not a known after-sale status."),
    "platform": _l("%(field)s must be a platform code such as douyin."),
    "encoding": _l("This line is not in the file's encoding (UTF-8 or GBK)."),
    "csv": _l("This row is not valid CSV (an unclosed quote or a cell that is too long)."),
}


FILE_MESSAGES = {
    "empty": _l("The file is empty."),
    "encoding": _l("The file is neither UTF-8 nor GBK/GB18030."),
    "utf16": _l("The file is UTF-16 (\"Unicode text\"); save it as CSV (UTF-8) or CSV (GBK)."),
    "header": _l("The first line is not a CSV header."),
    "binary": _l("This is not a CSV text file."),
    "columns": _l("The file lacks columns an order export needs."),
}


def row_message(exc: RowError) -> str:
    label = FIELD_LABELS.get(exc.column, exc.column)
    return str(ROW_MESSAGES.get(exc.code, ROW_MESSAGES["invalid"])) % {"field": str(label)}
