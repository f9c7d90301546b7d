"""The fast paths for well-formed orders (domain.orders.fast_json,
ExportReader._fast) give exactly what the full checks give, and leave every
other row to the full checks, so each error keeps its reason."""
from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from opsroom.domain import orders as rules
from opsroom.domain.csv_rows import RowError
from opsroom.domain.order_exports import ExportReader

TZ = ZoneInfo("Asia/Shanghai")

# Cells as exports and integrators write them, well-formed or not.
TEXTS = st.sampled_from(["", " ", "A-101", " A-101", "A-101 ", "\tA-101", "'69310", '="69310"', "=x", "a\x00b",
                         "4.87E+18", "4e5", "4e5x", "Seed", "x" * 32, "x" * 33, "x" * 64, "x" * 65, "x" * 100, "x" * 101,
                         " x" * 40, "岫玉手镯 冰种", "名" * 201,
                         "a\nb", "dy_0001", "69310000000000000001", "0"])
AMOUNTS = st.sampled_from(["129.90", "129.9", "0", "0.05", "1,299.00", "¥12.00", " 12.00", "12.", ".5", "-1",
                           "10000000000.00", "9999999999.99", "12.345", "", "abc", "1e3"])
TIMES = st.sampled_from(["2026-11-20T20:05:33+08:00", "2026-11-20T12:05:33Z", "2026-11-20t12:05:33z",
                         "2026-11-20 20:05:33+08:00", "2026-11-20T20:05+08:00", "2026-11-20T20:05:33.5+08:00",
                         "2026-11-20T20:05:33", "2026-13-20T20:05:33+08:00", "1999-12-31T23:59:59+08:00",
                         " 2026-11-20T20:05:33+08:00", "2026-11-20T20:05:60+08:00", "2026-02-30T20:05:33Z"])


def _same(fast, full, *args):
    """fast(*args) is None or equals full(*args), and full never fails where fast succeeds."""
    quick = fast(*args)
    try:
        expected = full(*args)
    except RowError as exc:
        assert quick is None, (args, exc.code, exc.column)
        return None
    assert quick is None or quick == expected, (args, quick, expected)
    return quick


@given(ids=st.lists(TEXTS, min_size=7, max_size=7), amount=AMOUNTS, refund=st.one_of(st.none(), AMOUNTS),
       at=TIMES, status=st.sampled_from(["paid", "refunded", "cancelled", "PAID", None, 1]),
       quantity=st.sampled_from([1, 0, 3, 10**6, 10**6 + 1, -1, True, "2", None, 1.0]),
       booking=st.sampled_from([None, 5, 0, -1, 2**31, True, "5", 2.0]),
       platform=st.sampled_from(["douyin", "kuaishou", "Douyin", "douyin\n", "", None, 3]))
@settings(max_examples=400, deadline=None)
def test_json_fast_path_equals_the_full_checks(ids, amount, refund, at, status, quantity, booking, platform):
    item = {"platform": platform, "external_id": ids[0], "parent_id": ids[1], "room_code": ids[2],
            "anchor_account": ids[3], "sku": ids[4], "product_name": ids[5], "buyer": ids[6],
            "amount": amount, "ordered_at": at, "status": status, "quantity": quantity, "booking_id": booking}
    if refund is not None:
        item["refund"] = refund
    _same(rules.fast_json, rules.checked_json, item)


def test_json_fast_path_takes_the_common_order():
    item = {"platform": "douyin", "external_id": "6931000000000000001", "parent_id": "6931000000000000000",
            "room_code": "A-101", "sku": "SKU0001", "product_name": "岫玉手镯 冰种", "quantity": 2,
            "amount": "129.90", "ordered_at": "2026-11-20T20:05:33+08:00", "status": "refunded"}
    assert _same(rules.fast_json, rules.checked_json, item) is not None


HEADER = "子订单编号,主订单编号,商家编码,选购商品,商品数量,订单应付金额,订单提交时间,订单状态,售后状态,达人ID,直播间,场次ID,退款金额\n"


def _reader() -> ExportReader:
    return ExportReader(io.BytesIO(HEADER.encode("gbk")), tz=TZ)


CSV_TIMES = st.sampled_from(["2026-11-20 20:05:33", " 2026-11-20 20:05:33", "2026/11/20 20:05:33",
                             "2026-11-20 20:05", "2026-11-20 20:05:60", "2026-11-20 24:05:33", "1999-12-31 23:59:59",
                             "2026-11-20T20:05:33", "2026-11-20 20:05:33+00:00", ""])
STATUSES = st.sampled_from([("已完成", "无售后"), ("已关闭", "退款成功"), ("已关闭", ""), ("", ""), ("???", ""),
                            ("已完成", "???"), ("待付款", "退款中")])
NUMBERS = st.sampled_from(["", "1", "0", " 2", "1,000", "1000000", "1000001", "２", "5", "2147483648", "-1", "abc"])


@given(ids=st.lists(TEXTS, min_size=6, max_size=6), amount=AMOUNTS, refund=st.sampled_from(["", "-", "--", "1.00",
       "'1.00", "=1", "1,000.00", "99999.00", "abc"]), at=CSV_TIMES, status=STATUSES, quantity=NUMBERS,
       booking=NUMBERS, short=st.booleans())
@settings(max_examples=400, deadline=None)
def test_export_fast_path_equals_the_full_checks(ids, amount, refund, at, status, quantity, booking, short):
    reader = _reader()
    cells = [ids[0], ids[1], ids[2], ids[3], quantity, amount, at, status[0], status[1], ids[4], ids[5], booking,
             refund]
    values = {name: cells[i] if i < len(cells) else "" for name, i in reader._index.items()}
    if short:  # a row with its last cells missing goes the full way (the reader checks the length)
        cells = cells[:-1]
        assert len(cells) < max(reader._index.values()) + 1
        return
    _same(reader._fast, lambda _cells: reader.convert(values), cells)


def test_export_fast_path_takes_the_common_row():
    reader = _reader()
    cells = ["\t6931000000000000001", "\t6931000000000000000", "SKU0001", "岫玉手镯 冰种", "1", "129.90",
             "2026-11-20 20:05:33", "已关闭", "退款成功", "dy_0001", "A-101", "", ""]
    row = reader._fast(cells)
    assert row is not None and row["status"] == "refunded" and row["refund_fen"] == 12990
    assert row["ordered_at"].isoformat() == "2026-11-20T12:05:33+00:00"
    values = {name: cells[i] for name, i in reader._index.items()}
    assert row == reader.convert(values)
