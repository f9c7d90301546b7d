"""A coordinator imports a shop export through the upload page (the progress
script sends it and follows the batch), sees the result and the rejected rows,
then assigns the orders no session claimed from the unattributed list."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser import log_in

TZ = ZoneInfo("Asia/Shanghai")


def _export(tmp_path, n: int):
    start = datetime(2026, 11, 19, 19, 0, tzinfo=TZ)
    lines = ["子订单编号,商品数量,订单应付金额,订单提交时间,订单状态,售后状态,直播间"]
    for i in range(n):
        at = (start + timedelta(seconds=3 * i)).strftime("%Y-%m-%d %H:%M:%S")
        room = "A01" if i % 10 else "ZZ"  # every tenth order names no known room
        lines.append(f"\t69310000000{i:08d},1,99.00,{at},已完成,,{room}")
    lines.append("\t6931000009999999,1,abc,2026-11-19 19:00:00,已完成,,A01")
    path = tmp_path / "抖店订单.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    return path


def test_upload_with_progress_then_assign_the_unattributed(page, make, tmp_path):
    user = make.user("coordinator")
    room = make.room(code="A01")
    tenant = make.tenant(name="岫玉工坊")
    session = make.booking(room, tenant, starts_at=datetime(2026, 11, 19, 19, tzinfo=TZ),
                           ends_at=datetime(2026, 11, 19, 23, tzinfo=TZ), status="ended")
    log_in(page, user.email, next="/orders/import")

    page.get_by_label("Order export (CSV)").set_input_files(str(_export(tmp_path, 3000)))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Progress")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/orders/imports/\d+$"), timeout=60_000)

    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("3001")  # rows read
    expect(page.get_by_role("table", name="Rows not imported")).to_contain_text("6931000009999999")
    expect(page.get_by_role("link", name="Download the rejected rows (CSV)")).to_be_visible()

    page.goto("/orders/unattributed?date=2026-11-19")
    boxes = page.get_by_role("checkbox")
    expect(boxes).to_have_count(50)  # a page at a time
    summary = page.locator(".pager-summary")
    expect(summary).to_contain_text("Orders 1–50 of 300 matching")
    page.get_by_label("Session").select_option(value=str(session.id))
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Assign the ticked orders").click()
    expect(page.get_by_text("2 orders assigned.")).to_be_visible()
    expect(summary).to_contain_text("of 298 matching")
    page.get_by_label("Session").select_option(value=str(session.id))
    page.get_by_role("button", name=re.compile(r"^Assign order \d+$")).first.click()
    expect(page.get_by_text("1 order assigned.")).to_be_visible()
    expect(summary).to_contain_text("of 297 matching")
