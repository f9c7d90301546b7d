"""Orders (订单): reading one order's cells, its status, and which session it
belongs to (docs/domain.md). Pure: no Flask, no SQLAlchemy.

Every rejected value raises `RowError(code, field)`; the service turns the
code into a translated reason. Money is integer fen, parsed with `Decimal`
(domain.money), never through a float.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Iterable

from .booking_rules import MAX_BOOKING_MINUTES
from .csv_rows import RowError
from .money import MAX_FEN, parse_money
from .numbers import MAX_INT, whole_number
from .statuses import ORDER_STATUSES

UTC = timezone.utc
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_QUANTITY = 10**6
PLATFORM_RE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
# Lengths of the order columns (models.Order).
LIMITS = {"external_id": 64, "parent_id": 64, "room_code": 32, "anchor_account": 100, "sku": 64,
          "product_name": 200, "buyer": 64}

# --- cells -----------------------------------------------------------------

_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)
# An ID Excel turned into a number: 4.87E+18 has lost its digits for good.
_SCIENTIFIC = re.compile(r"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$")


def clean_cell(cell: Any) -> str:
    """A cell as text: shop exports keep long IDs as text in a spreadsheet by a
    leading tab, a leading apostrophe or Excel's `="…"` form; strip those and
    surrounding spaces."""
    if cell is None:
        return ""
    text = (cell if isinstance(cell, str) else str(cell)).strip()
    if text[:1] == "'":
        text = text.lstrip("'").strip()
    elif text[:2] == '="' and text[-1:] == '"' and len(text) >= 3:
        text = text[2:-1].strip()
    return text


def clean_id(cell: Any, field: str = "external_id", *, required: bool = True) -> str:
    text = clean_cell(cell)
    if not text:
        if required:
            raise RowError("required", field)
        return ""
    if "\x00" in text:
        raise RowError("nul", field)
    if ("E" in text or "e" in text) and _SCIENTIFIC.match(text):
        raise RowError("scientific", field)
    if len(text) > LIMITS[field]:
        raise RowError("too_long", field)
    return text


def clean_text(cell: Any, field: str, *, truncate: bool = False) -> str:
    text = clean_cell(cell)
    if "\x00" in text:
        raise RowError("nul", field)
    limit = LIMITS[field]
    if len(text) > limit:
        if not truncate:
            raise RowError("too_long", field)
        text = text[:limit]
    return text


_PLAIN_YUAN = re.compile(r"([0-9]{1,10})(?:\.([0-9]{1,2}))?")


def parse_amount(cell: Any, field: str = "amount") -> int:
    """Yuan → integer fen: "129.90", "¥1,299.00", "\\t129.9", '="129.90"', or a JSON number."""
    if isinstance(cell, bool):
        raise RowError("amount", field)
    value = cell if isinstance(cell, (int, float)) else clean_cell(cell)
    if value == "":
        raise RowError("required", field)
    if isinstance(value, str):
        plain = _PLAIN_YUAN.fullmatch(value)
        if plain:  # the common "129.90": whole digits, exact, no Decimal needed
            yuan, cents = plain.groups()
            fen = int(yuan) * 100 + int((cents or "0").ljust(2, "0"))
            if fen > MAX_FEN:
                raise RowError("amount", field)
            return fen
    try:
        return parse_money(value)
    except ValueError:
        raise RowError("amount", field) from None


def parse_quantity(cell: Any, field: str = "quantity") -> int:
    if isinstance(cell, bool):
        raise RowError("quantity", field)
    if isinstance(cell, int):
        value = cell if 0 <= cell <= MAX_QUANTITY else None
    elif isinstance(cell, float) and cell.is_integer():
        value = int(cell) if 0 <= cell <= MAX_QUANTITY else None
    else:
        text = clean_cell(cell)
        if text == "":
            return 1
        value = whole_number(text.replace(",", ""), maximum=MAX_QUANTITY)
    if value is None:
        raise RowError("quantity", field)
    return value


def parse_booking_id(cell: Any, field: str = "booking_id") -> int | None:
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise RowError("booking_id", field)
    if isinstance(cell, int):
        value = cell if 0 < cell <= MAX_INT else None
    else:
        text = clean_cell(cell)
        if not text:
            return None
        value = whole_number(text, maximum=MAX_INT) or None
    if value is None:
        raise RowError("booking_id", field)
    return value


_TIME = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


def parse_time(cell: Any, tz: tzinfo, field: str = "ordered_at") -> datetime:
    """An export's time as an aware UTC instant. Without an offset it is
    park-local (`tz`): "2026-11-20 20:05:33", "2026/11/20 20:05", ISO 8601."""
    if isinstance(cell, datetime):
        if cell.tzinfo is None or cell.utcoffset() is None:
            raise RowError("naive", field)
        value = cell
    else:
        text = clean_cell(cell)
        if not text:
            raise RowError("required", field)
        match = _TIME.match(text)
        if not match:
            raise RowError("time", field)
        y, mo, d, h, mi, s, frac, offset = match.groups()
        try:
            zone: tzinfo = tz
            if offset:
                if offset.upper() == "Z":
                    zone = UTC
                else:
                    sign = -1 if offset[0] == "-" else 1
                    digits = offset[1:].replace(":", "")
                    zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
            value = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                             int((frac or "0").ljust(6, "0")), tzinfo=zone)
        except ValueError:
            raise RowError("time", field) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise RowError("year", field)
    return value.astimezone(UTC)


# --- statuses --------------------------------------------------------------

def _norm(text: str) -> str:
    return clean_cell(text).lower().replace(" ", "").replace("_", "").replace("-", "")


# 订单状态 / order status → our status. A shipped or finished order is paid;
# an order never paid (closed, cancelled, awaiting payment) is "cancelled"
# and counts in neither GMV nor orders until a later export says it was paid.
ORDER_STATUS_VALUES: dict[str, str] = {_norm(k): v for k, v in {
    "已支付": "paid", "已付款": "paid", "支付成功": "paid", "付款成功": "paid", "待发货": "paid",
    "备货中": "paid", "部分发货": "paid", "已发货": "paid", "待收货": "paid", "待确认收货": "paid",
    "已收货": "paid", "已签收": "paid", "已完成": "paid", "交易成功": "paid", "交易完成": "paid",
    "订单完成": "paid", "待评价": "paid",
    "paid": "paid", "completed": "paid", "complete": "paid", "shipped": "paid", "delivered": "paid",
    "awaiting_shipment": "paid", "pending_shipment": "paid", "fulfilled": "paid",
    "已关闭": "cancelled", "交易关闭": "cancelled", "订单关闭": "cancelled", "已取消": "cancelled",
    "取消": "cancelled", "订单取消": "cancelled", "交易取消": "cancelled", "待支付": "cancelled",
    "待付款": "cancelled", "未支付": "cancelled", "未付款": "cancelled",
    "cancelled": "cancelled", "canceled": "cancelled", "closed": "cancelled", "unpaid": "cancelled",
    "pending_payment": "cancelled",
    "退款成功": "refunded", "已退款": "refunded", "退款完成": "refunded", "refunded": "refunded",
}.items()}

# 售后状态 / 退款状态 → refunded, or None when it does not change the status
# (no after-sale, a refund asked for, refused or withdrawn).
AFTER_SALE_VALUES: dict[str, str | None] = {_norm(k): v for k, v in {
    "退款成功": "refunded", "已退款": "refunded", "退款完成": "refunded", "退货退款成功": "refunded",
    "退货退款完成": "refunded", "仅退款成功": "refunded", "售后退款成功": "refunded",
    "refunded": "refunded", "refundsuccess": "refunded", "refund_success": "refunded",
    "": None, "-": None, "--": None, "无": None, "无售后": None, "暂无": None, "没有售后": None,
    "售后中": None, "退款中": None, "待退款": None, "申请退款": None, "退款申请中": None, "待商家处理": None,
    "待买家退货": None, "待商家收货": None, "商家拒绝": None, "拒绝退款": None, "退款关闭": None,
    "售后关闭": None, "退款失败": None, "退款已撤销": None, "已撤销": None, "换货成功": None,
    "none": None, "refunding": None, "refundclosed": None, "refundrejected": None, "closed": None,
}.items()}


def order_status(status_cell: Any, after_sale_cell: Any = None, field: str = "status") -> str:
    """The order's status from its 订单状态 and 售后状态 cells: a successful
    refund makes it "refunded" whatever the order status (a refunded order is
    often shown as closed); else the order status decides; an empty status
    cell reads as paid (an export of sales)."""
    after = _norm(after_sale_cell or "")
    if after not in AFTER_SALE_VALUES:
        raise RowError("after_sale", "after_sale")
    if AFTER_SALE_VALUES[after] == "refunded":
        return "refunded"
    status = _norm(status_cell or "")
    if not status:
        return "paid"
    if status not in ORDER_STATUS_VALUES:
        raise RowError("status", field)
    return ORDER_STATUS_VALUES[status]


# --- one parsed row (what services.orders.ingest_rows takes) ---------------

ROW_KEYS = ("platform", "external_id", "booking_id", "room_code", "anchor_account", "sku", "quantity",
            "amount_fen", "refund_fen", "ordered_at", "status", "product_name", "buyer", "parent_id")


def check_row(row: dict, default_platform: str | None = None) -> dict:
    """A parsed order row, checked and completed with defaults: text within
    column lengths and free of NUL, money in [0, MAX_FEN] fen, refund ≤ amount,
    an aware `ordered_at`. A refunded order without a refund amount was
    refunded in full; a cancelled one refunds nothing."""
    if not isinstance(row, dict):
        raise RowError("invalid", "")
    platform = row.get("platform") or default_platform
    if not isinstance(platform, str) or not PLATFORM_RE.match(platform):
        raise RowError("platform", "platform")
    out = {"platform": platform}
    get = row.get
    for key in ("external_id", "parent_id", "room_code", "anchor_account", "sku", "product_name", "buyer"):
        value = get(key)
        if not value and key != "external_id":
            out[key] = ""
            continue
        if not isinstance(value, str):
            raise RowError("invalid" if value is not None else "required", key)
        if key in ("product_name", "buyer"):
            out[key] = clean_text(value, key, truncate=True)
        else:
            out[key] = clean_id(value, key, required=key == "external_id")
    booking_id = row.get("booking_id")
    if booking_id is not None and (isinstance(booking_id, bool) or not isinstance(booking_id, int)
                                   or not 0 < booking_id <= MAX_INT):
        raise RowError("booking_id", "booking_id")
    out["booking_id"] = booking_id
    quantity = row.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
        raise RowError("quantity", "quantity")
    out["quantity"] = quantity
    amount = row.get("amount_fen")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_FEN:
        raise RowError("amount", "amount")
    status = row.get("status")
    if status not in ORDER_STATUSES:
        raise RowError("status", "status")
    refund = row.get("refund_fen")
    if refund is not None and (isinstance(refund, bool) or not isinstance(refund, int) or refund < 0):
        raise RowError("refund", "refund")
    out.update(amount_fen=amount, refund_fen=refund, status=status)
    complete_refund(out)
    ordered_at = row.get("ordered_at")
    if not isinstance(ordered_at, datetime):
        raise RowError("time", "ordered_at")
    if ordered_at.tzinfo is None or ordered_at.utcoffset() is None:
        raise RowError("naive", "ordered_at")
    if not MIN_YEAR <= ordered_at.year <= MAX_YEAR:
        raise RowError("year", "ordered_at")
    out["ordered_at"] = ordered_at.astimezone(UTC)
    return out


def complete_refund(row: dict) -> dict:
    """A refunded order without a refund amount was refunded in full; a
    cancelled one refunds nothing; a refund never exceeds the amount."""
    refund, amount, status = row.get("refund_fen"), row["amount_fen"], row["status"]
    if refund is None:
        refund = amount if status == "refunded" else 0
    if refund > amount:
        raise RowError("refund_above_amount", "refund")
    row["refund_fen"] = 0 if status == "cancelled" else refund
    return row


def same_order(a: dict, b: dict) -> bool:
    """Whether two rows of one order carry the same figures (a re-import of it changes nothing)."""
    return (a["status"], a["amount_fen"], a["refund_fen"], a["quantity"]) == \
        (b["status"], b["amount_fen"], b["refund_fen"], b["quantity"])


# --- attribution -----------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """A session an order may belong to: [starts_at, ends_at + grace)."""

    booking_id: int
    starts_at: datetime
    ends_at: datetime
    tenant_id: int | None = None


class Windows:
    """The candidate sessions of one room (or one anchor), for lookups by time."""

    def __init__(self, windows: Iterable[Window], grace: timedelta):
        self.items = sorted(windows, key=lambda w: (w.starts_at, w.booking_id))
        self.starts = [w.starts_at for w in self.items]
        self.grace = grace

    def find(self, at: datetime) -> Window | None:
        """The session at `at`: one whose [starts_at, ends_at) holds it (the
        latest to start, should several); else one whose grace after the end
        holds it (the latest to end). Intervals are half-open."""
        items = self.items
        inside = grace = None
        for j in range(bisect.bisect_right(self.starts, at) - 1, -1, -1):
            w = items[j]
            if at < w.ends_at:
                inside = inside or w
            elif at < w.ends_at + self.grace:
                if grace is None or w.ends_at > grace.ends_at:
                    grace = w
            if w.starts_at + _LONGEST + self.grace <= at:
                break  # a session starting this early or earlier cannot reach `at`
        return inside or grace


# No session lasts longer: the backwards scan in Windows.find stops once a
# start is this far behind.
_LONGEST = timedelta(minutes=MAX_BOOKING_MINUTES)


# --- a JSON order (POST /orders) -------------------------------------------

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)


def _json_text(item: dict, key: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RowError("invalid", key)


_JSON_TEXT = (("external_id", True), ("parent_id", False), ("room_code", False), ("anchor_account", False),
              ("sku", False))


# The fast path's shapes: a cell that needs no cleaning (no surrounding
# space, no spreadsheet quoting, no NUL), and an RFC 3339 instant.
PLAIN_TEXT = re.compile(r"[^\s\x00'=](?:[^\x00]*[^\s\x00])?")
_PLAIN_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})")
_JSON_IDS = (("external_id", True), ("parent_id", False), ("room_code", False), ("anchor_account", False),
             ("sku", False))
_JSON_TEXTS = (("product_name", LIMITS["product_name"]), ("buyer", LIMITS["buyer"]))


def _plain_id(limit: int) -> re.Pattern:
    # PLAIN_TEXT of at most `limit` characters that is not a number in scientific notation.
    return re.compile(r"(?![0-9](?:\.[0-9]+)?[eE]\+?[0-9]+\Z)[^\s\x00'=](?:[^\x00]{0,%d}[^\s\x00])?" % (limit - 2))


# field → a pattern whose fullmatch says `clean_id` would return the text
# unchanged and raise nothing: the fast paths' test (else the full checks run).
PLAIN_IDS = {field: _plain_id(LIMITS[field])
             for field in ("external_id", "parent_id", "room_code", "anchor_account", "sku")}


def plain_fen(text: str) -> int | None:
    """A plain "129.90" as fen, or None when `parse_amount` must decide."""
    plain = _PLAIN_YUAN.fullmatch(text)
    if plain is None:
        return None
    yuan, cents = plain.groups()
    fen = int(yuan) * 100 + (int(cents) * (10 if len(cents) == 1 else 1) if cents else 0)
    return fen if fen <= MAX_FEN else None


def fast_json(item: dict) -> dict | None:
    """The common well-formed order in one pass, or None: then the full checks
    of `order_from_json` decide (and name the error). Whatever this returns is
    what the full checks return for the same item."""
    get = item.get
    platform = get("platform")
    if type(platform) is not str or not PLATFORM_RE.match(platform):
        return None
    row: dict[str, Any] = {"platform": platform}
    for key, required in _JSON_IDS:
        value = get(key)
        if value is None or value == "":
            if required:
                return None
            row[key] = ""
        elif type(value) is str and PLAIN_IDS[key].fullmatch(value):
            row[key] = value
        else:
            return None
    for key, limit in _JSON_TEXTS:
        value = get(key)
        if value is None or value == "":
            row[key] = ""
        elif type(value) is str and PLAIN_TEXT.fullmatch(value):
            row[key] = value[:limit]
        else:
            return None
    booking_id = get("booking_id")
    if booking_id is not None and not (type(booking_id) is int and 0 < booking_id <= MAX_INT):
        return None
    row["booking_id"] = booking_id
    quantity = get("quantity", 1)
    if type(quantity) is not int or not 0 <= quantity <= MAX_QUANTITY:
        return None
    row["quantity"] = quantity
    amount = get("amount")
    if type(amount) is not str or (fen := plain_fen(amount)) is None:
        return None
    refund = get("refund")
    if refund is not None and (type(refund) is not str or (refund := plain_fen(refund)) is None):
        return None
    status = get("status")
    if type(status) is not str or status not in ORDER_STATUSES:
        return None
    at = get("ordered_at")
    if type(at) is not str or not _PLAIN_RFC3339.fullmatch(at):
        return None
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        return None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return None
    if refund is None:
        refund = fen if status == "refunded" else 0
    elif refund > fen:
        return None
    row["amount_fen"], row["status"], row["ordered_at"] = fen, status, parsed.astimezone(UTC)
    row["refund_fen"] = 0 if status == "cancelled" else refund
    return row


def order_from_json(item: Any) -> dict:
    """One element of POST /orders → a checked row, as `check_row` would give.

    IDs may be strings or whole numbers; `amount`/`refund` are yuan as a
    decimal string or a number; `ordered_at` is RFC 3339 with an offset."""
    if type(item) is dict:
        row = fast_json(item)
        if row is not None:
            return row
    return checked_json(item)


def checked_json(item: Any) -> dict:
    """`order_from_json` by the full checks, each error named."""
    if not isinstance(item, dict):
        raise RowError("invalid", "")
    get = item.get
    for key in ("platform", "external_id", "amount", "ordered_at", "status"):
        if get(key) is None:
            raise RowError("required", key)
    platform = item["platform"]
    if not isinstance(platform, str) or not PLATFORM_RE.match(platform):
        raise RowError("platform", "platform")
    row: dict[str, Any] = {"platform": platform}
    for key, required in _JSON_TEXT:
        value = get(key)
        row[key] = clean_id(_json_text(item, key), key, required=required) if value not in (None, "") or required else ""
    for key in ("product_name", "buyer"):
        value = get(key)
        row[key] = clean_text(_json_text(item, key), key, truncate=True) if value not in (None, "") else ""
    booking_id, quantity = get("booking_id"), get("quantity", 1)
    if isinstance(booking_id, str):
        raise RowError("booking_id", "booking_id")
    row["booking_id"] = parse_booking_id(booking_id)
    if quantity is None or isinstance(quantity, str):
        raise RowError("quantity", "quantity")
    row["quantity"] = parse_quantity(quantity)
    row["amount_fen"] = _json_amount(item["amount"], "amount")
    row["refund_fen"] = _json_amount(item["refund"], "refund") if get("refund") is not None else None
    status = item["status"]
    if status not in ORDER_STATUSES:
        raise RowError("status", "status")
    row["status"] = status
    at = item["ordered_at"]
    if not isinstance(at, str):
        raise RowError("time", "ordered_at")
    at = at.strip()
    if not _RFC3339.match(at):
        raise RowError("naive" if _TIME.match(at) else "time", "ordered_at")
    try:
        parsed = datetime.fromisoformat(at.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise RowError("time", "ordered_at") from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise RowError("year", "ordered_at")
    row["ordered_at"] = parsed.astimezone(UTC)
    return complete_refund(row)


def _json_amount(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RowError("amount", field)
    if isinstance(value, str) and "\x00" in value:
        raise RowError("nul", field)
    return parse_amount(value, field)


# -- Suggesting sessions for unattributed orders -------------------------------

@dataclass(frozen=True)
class Candidate:
    """A session an order might belong to: its id, window, room code and the
    anchor accounts of its anchors ({"douyin:dy_1", ...})."""
    booking_id: int
    starts_at: datetime
    ends_at: datetime
    room_code: str
    accounts: frozenset[str]


def distance(ordered_at: datetime, starts_at: datetime, ends_at: datetime) -> timedelta:
    """How far an instant lies outside [starts_at, ends_at): zero inside."""
    if ordered_at < starts_at:
        return starts_at - ordered_at
    if ordered_at >= ends_at:
        return ordered_at - ends_at
    return timedelta(0)


def likely_sessions(ordered_at: datetime, platform: str, room_code: str | None, anchor_account: str | None,
                    candidates: Iterable[Candidate], limit: int = 3) -> list[Candidate]:
    """The sessions an unattributed order most likely belongs to: those of its
    room code or of its anchor account (on its platform), nearest window first;
    a session matching both comes before one matching either at the same distance."""
    key = f"{platform}:{anchor_account}" if anchor_account else None
    ranked = []
    for c in candidates:
        same_room = bool(room_code) and c.room_code == room_code
        same_anchor = key is not None and key in c.accounts
        if same_room or same_anchor:
            ranked.append((distance(ordered_at, c.starts_at, c.ends_at), -(same_room + same_anchor), c.starts_at,
                           c.booking_id, c))
    ranked.sort(key=lambda r: r[:4])
    return [r[-1] for r in ranked[:limit]]
