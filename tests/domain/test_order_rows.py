"""Reading orders: money cells to exact fen, shop-export ID cells, park-local
times, statuses, header mappings, encodings, and the attribution window."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsroom.domain import orders as rules
from opsroom.domain.csv_rows import RowError
from opsroom.domain.money import MAX_FEN
from opsroom.domain.order_exports import ExportError, ExportReader
from opsroom.domain.order_formats import DOUYIN, ENGLISH, KUAISHOU, match_header

TZ = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


# --- money -----------------------------------------------------------------

def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _grouped(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


@given(fen=st.integers(0, MAX_FEN), form=st.sampled_from(["plain", "tab", "excel", "yen", "grouped", "one_decimal", "spaces"]))
@settings(max_examples=300)
def test_amount_cell_round_trips_to_exact_fen(fen, form):
    """Every way an export writes an amount in yuan reads back as exactly that many fen."""
    text = {"plain": _yuan(fen), "tab": "\t" + _yuan(fen), "excel": f'="{_yuan(fen)}"', "yen": "¥" + _yuan(fen),
            "grouped": _grouped(fen), "spaces": f"  {_yuan(fen)} ",
            "one_decimal": _yuan(fen)[:-1] if fen % 10 == 0 else _yuan(fen)}[form]
    assert rules.parse_amount(text) == fen


@given(fen=st.integers(0, MAX_FEN))
def test_amount_is_decimal_exact_never_float(fen):
    """The parsed fen equal Decimal arithmetic on the text, even where a float would drift."""
    text = _yuan(fen)
    assert rules.parse_amount(text) == int(Decimal(text) * 100)


@given(fen=st.integers(1, MAX_FEN), extra=st.integers(1, 9))
def test_amount_below_a_fen_is_refused(fen, extra):
    with pytest.raises(RowError) as e:
        rules.parse_amount(_yuan(fen) + str(extra))
    assert e.value.code == "amount"


@pytest.mark.parametrize("text", ["-1.00", "abc", "1.2.3", "NaN", "Infinity", "1e3", "12,34.00", str(MAX_FEN), "１e5"])
def test_bad_amounts_are_refused(text):
    with pytest.raises(RowError):
        rules.parse_amount(text)


def test_empty_amount_is_missing():
    with pytest.raises(RowError) as e:
        rules.parse_amount("\t")
    assert e.value.code == "required"


# --- cells -----------------------------------------------------------------

@pytest.mark.parametrize(("cell", "value"), [
    ("\t4876543210987654321", "4876543210987654321"),
    ('="4876543210987654321"', "4876543210987654321"),
    ("'4876543210987654321", "4876543210987654321"),
    ("  ABC-1 ", "ABC-1"),
    ('="\t42"', "42"),
])
def test_id_cells_keep_every_digit(cell, value):
    assert rules.clean_id(cell) == value


@pytest.mark.parametrize(("cell", "code"), [
    ("4.87654E+18", "scientific"), ("", "required"), ("a\x00b", "nul"), ("9" * 65, "too_long")])
def test_bad_id_cells(cell, code):
    with pytest.raises(RowError) as e:
        rules.clean_id(cell)
    assert e.value.code == code


@pytest.mark.parametrize(("cell", "expected"), [
    ("2026-11-20 20:05:33", datetime(2026, 11, 20, 20, 5, 33, tzinfo=TZ)),
    ("2026/11/20 20:05", datetime(2026, 11, 20, 20, 5, tzinfo=TZ)),
    ("2026/1/2 8:05:00", datetime(2026, 1, 2, 8, 5, tzinfo=TZ)),
    ("\t2026-11-20T20:05:33", datetime(2026, 11, 20, 20, 5, 33, tzinfo=TZ)),
    ("2026-11-20T12:05:33Z", datetime(2026, 11, 20, 20, 5, 33, tzinfo=TZ)),
    ("2026-11-20T20:05:33+09:00", datetime(2026, 11, 20, 19, 5, 33, tzinfo=TZ)),
    ("2026-11-20 20:05:33.250", datetime(2026, 11, 20, 20, 5, 33, 250000, tzinfo=TZ)),
])
def test_times_without_offset_are_park_local(cell, expected):
    parsed = rules.parse_time(cell, TZ)
    assert parsed == expected and parsed.tzinfo == UTC


@pytest.mark.parametrize(("cell", "code"), [
    ("2026-13-01 10:00", "time"), ("2026-02-30 10:00", "time"), ("20.11.2026", "time"), ("", "required"),
    ("1899-01-01 00:00", "year"), ("2026-11-20 25:00", "time")])
def test_bad_times(cell, code):
    with pytest.raises(RowError) as e:
        rules.parse_time(cell, TZ)
    assert e.value.code == code


@pytest.mark.parametrize(("status", "after", "expected"), [
    ("已完成", "", "paid"), ("待发货", "无售后", "paid"), ("已发货", "退款中", "paid"),
    ("已关闭", "退款成功", "refunded"), ("已完成", "退款成功", "refunded"), ("交易关闭", "", "cancelled"),
    ("已取消", None, "cancelled"), ("待支付", "", "cancelled"), ("退款成功", "", "refunded"),
    ("paid", "", "paid"), ("Refunded", "", "refunded"), ("canceled", "", "cancelled"), ("", "", "paid"),
    ("已支付", "售后关闭", "paid"),
])
def test_statuses(status, after, expected):
    assert rules.order_status(status, after) == expected


@pytest.mark.parametrize(("status", "after", "column"), [("外星状态", "", "status"), ("已完成", "神秘售后", "after_sale")])
def test_unknown_statuses_are_reported(status, after, column):
    with pytest.raises(RowError) as e:
        rules.order_status(status, after)
    assert e.value.column == column


def _row(**kw):
    row = dict(platform="douyin", external_id="1", quantity=1, amount_fen=100,
               ordered_at=datetime(2026, 11, 20, 20, tzinfo=TZ), status="paid")
    row.update(kw)
    return row


def test_check_row_defaults_refunds():
    assert rules.check_row(_row(status="refunded"))["refund_fen"] == 100
    assert rules.check_row(_row(status="refunded", refund_fen=40))["refund_fen"] == 40
    assert rules.check_row(_row(status="cancelled", refund_fen=40))["refund_fen"] == 0
    assert rules.check_row(_row())["refund_fen"] == 0


@pytest.mark.parametrize(("kw", "code"), [
    ({"refund_fen": 101, "status": "refunded"}, "refund_above_amount"),
    ({"amount_fen": MAX_FEN + 1}, "amount"), ({"amount_fen": 1.5}, "amount"), ({"amount_fen": True}, "amount"),
    ({"ordered_at": datetime(2026, 11, 20, 20)}, "naive"), ({"status": "shipped"}, "status"),
    ({"platform": "Dou Yin"}, "platform"), ({"quantity": -1}, "quantity"), ({"external_id": ""}, "required"),
    ({"booking_id": 2**40}, "booking_id"), ({"sku": "x" * 65}, "too_long"),
])
def test_check_row_refuses(kw, code):
    with pytest.raises(RowError) as e:
        rules.check_row(_row(**kw))
    assert e.value.code == code


# --- header mappings -------------------------------------------------------

def test_each_platform_mapping_is_recognised():
    assert match_header(["子订单编号", "主订单编号", "商品ID", "商家编码", "选购商品", "商品数量", "订单应付金额",
                         "订单提交时间", "订单状态", "售后状态", "达人ID", "直播间"]).format is DOUYIN
    assert match_header(["订单号", "商品名称", "商品ID", "SKU编码", "成交数量", "实付款", "订单创建时间", "订单状态",
                         "退款状态", "主播ID"]).format is KUAISHOU
    assert match_header(["external_id", "room_code", "amount", "ordered_at", "status"]).format is ENGLISH
    missing = match_header(["子订单编号", "订单状态"])
    assert missing.missing == ["amount", "ordered_at"]


# --- reading a whole export ------------------------------------------------

DOUYIN_CSV = (
    "子订单编号,主订单编号,商家编码,选购商品,商品数量,订单应付金额,订单提交时间,订单状态,售后状态,达人ID,直播间\n"
    "\t6931000000000000001,\t6931000000000000000,SKU1,岫玉手镯,1,\"1,299.00\",2026-11-20 20:05:00,已完成,无,dy_a,A01\n"
    '="6931000000000000002",="6931000000000000000",SKU2,南果梨 5斤,2,59.80,2026/11/20 20:10,已关闭,退款成功,,A01\n'
    "6931000000000000003,,SKU2,南果梨,x,59.80,2026-11-20 20:11:00,已完成,,,A01\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_reader_reads_every_encoding(encoding):
    reader = ExportReader(io.BytesIO(DOUYIN_CSV.encode(encoding)), tz=TZ)
    rows = list(reader)
    assert reader.format is DOUYIN and reader.platform == "douyin"
    assert [line for line, _ in rows] == [2, 3, 4]
    first, second, third = (r for _, r in rows)
    assert first["external_id"] == "6931000000000000001" and first["amount_fen"] == 129900
    assert first["product_name"] == "岫玉手镯" and first["room_code"] == "A01" and first["anchor_account"] == "dy_a"
    assert second["status"] == "refunded" and second["quantity"] == 2 and second["amount_fen"] == 5980
    assert isinstance(third, RowError) and third.column == "quantity"
    assert reader.bytes_read == len(DOUYIN_CSV.encode(encoding))


def test_a_line_in_another_encoding_is_one_rejected_row():
    data = DOUYIN_CSV.encode("utf-8") + "7,,S,南果梨,1,1.00,2026-11-20 20:12:00,已完成,,,A01\n".encode("gbk")
    rows = list(ExportReader(io.BytesIO(data), tz=TZ))
    assert len(rows) == 4
    assert isinstance(rows[-1][1], RowError) and rows[-1][1].code == "encoding" and rows[-1][0] == 5


def test_quoted_newlines_keep_line_numbers():
    text = ("external_id,amount,ordered_at,product_name\n"
            "1,1.00,2026-11-20 20:00,\"two\nlines\"\n"
            "2,x,2026-11-20 20:00,p\n")
    rows = list(ExportReader(io.BytesIO(text.encode()), tz=TZ, platform="douyin"))
    assert rows[0][0] == 2 and rows[0][1]["product_name"] == "two\nlines"
    assert rows[1][0] == 4 and rows[1][1].code == "amount"


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"), (b"  \n", "empty"), ("子订单编号,订单状态\n1,已完成\n".encode(), "columns"),
    ("external_id,amount\n".encode("utf-16"), "utf16"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"\x80\xff\x81\xfe" * 100, "encoding"),
])
def test_unreadable_files(data, code):
    with pytest.raises(ExportError) as e:
        ExportReader(io.BytesIO(data), tz=TZ)
    assert e.value.code == code


# --- attribution windows: a boundary table ---------------------------------

GRACE = timedelta(minutes=30)
S, E = datetime(2026, 11, 20, 19, tzinfo=TZ), datetime(2026, 11, 20, 21, tzinfo=TZ)


@pytest.mark.parametrize(("at", "hit"), [
    (S - timedelta(seconds=1), False),     # before the session
    (S, True),                             # its first instant
    (E - timedelta(seconds=1), True),      # inside
    (E, True),                             # after the end, inside the grace
    (E + GRACE - timedelta(seconds=1), True),
    (E + GRACE, False),                    # half-open: the grace's end is outside
])
def test_window_boundaries(at, hit):
    windows = rules.Windows([rules.Window(1, S, E)], GRACE)
    assert (windows.find(at) is not None) is hit


def test_the_running_session_beats_the_previous_ones_grace():
    """Back to back: an order at 21:10 is in session 2 (21:00–23:00), not in session 1's grace."""
    windows = rules.Windows([rules.Window(1, S, E), rules.Window(2, E, E + timedelta(hours=2))], GRACE)
    assert windows.find(E + timedelta(minutes=10)).booking_id == 2
    assert windows.find(E - timedelta(minutes=1)).booking_id == 1


def test_a_gap_after_the_grace_is_nobodys():
    windows = rules.Windows([rules.Window(1, S, E), rules.Window(2, E + timedelta(hours=2), E + timedelta(hours=4))], GRACE)
    assert windows.find(E + timedelta(minutes=45)) is None
    assert windows.find(E + timedelta(minutes=20)).booking_id == 1


def test_a_lone_carriage_return_in_a_cell_is_read_not_an_error():
    """The API fuzzing sent a product CSV with "\\r" inside a cell: csv.Error, a 500.
    The reader now takes it as the line end it is to a spreadsheet."""
    from opsroom.domain.csv_rows import PRODUCT_COLUMNS, read_table

    table = read_table("sku,name\r\nA1,羽绒服\rA2,棉服\n", PRODUCT_COLUMNS, required=("sku", "name"))
    assert [row for _, row in table.rows] == [{"sku": "A1", "name": "羽绒服"}, {"sku": "A2", "name": "棉服"}]
