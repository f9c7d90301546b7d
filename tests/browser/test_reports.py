"""A manager reads the reports, in zh_CN and in English: picks a range, sees
the heatmap drawn, and downloads the CSV and the XLSX (read back with openpyxl)."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser import log_in, log_in_reading, page_width, t

TZ = ZoneInfo("Asia/Shanghai")


def at(day, hh):
    return datetime(2026, 11, 20, hh, tzinfo=TZ) + timedelta(days=day)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_manager_reads_the_reports_and_downloads_them(open_page, make, live_server, lang):
    page = open_page(lang)

    def tr(msgid, **values):
        return t(live_server.app, lang, msgid, **values)

    manager = make.user("manager")
    room = make.room(code="A101", name="服装一号间")
    make.room(code="B205", name="食品五号间", zone="食品区", kind="食品")
    tenant = make.tenant(name="鞍山岫玉工坊")
    for day in (-3, -2, -1):
        make.booking(room, tenant, starts_at=at(day, 20), ends_at=at(day, 22), status="ended")

    log_in_reading(page, manager.email, lang)
    page.get_by_role("navigation", name=tr("Main")).get_by_role("link", name=tr("Reports"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/reports/$"))
    # The last day was labelled "收件人" (an email's recipient) in zh_CN.
    expect(page.get_by_label(tr("Last day"), exact=True)).to_be_visible()
    assert tr("Last day") != t(live_server.app, lang, "To")
    page.get_by_label(tr("First day"), exact=True).fill("2026-11-01")
    page.get_by_label(tr("Last day"), exact=True).fill("2026-11-20")
    page.get_by_role("button", name=tr("Show"), exact=True).click()
    expect(page).to_have_url(re.compile(r"from=2026-11-01&to=2026-11-20"))

    heat = page.get_by_role("img", name=tr("Heatmap of utilization by weekday and hour of day"))
    expect(heat.locator("canvas").first).to_be_visible()  # ECharts drew it
    expect(page.get_by_role("img", name=tr("Bars of utilization per room")).locator("canvas").first).to_be_visible()
    # Read the heatmap as drawn: the three evenings (Tue–Thu 20:00 and 21:00) are the only warm cells.
    drawn = page.evaluate("""() => {
        const option = echarts.getInstanceByDom(document.getElementById("heatmap")).getOption();
        return {cells: option.series[0].data, hours: option.xAxis[0].data, days: option.yAxis[0].data};
    }""")
    warm = {(drawn["days"][d], str(drawn["hours"][h])) for h, d, value, *_ in drawn["cells"] if value}
    weekdays = [d for d in drawn["days"]]
    assert len(weekdays) == 7 and len(warm) == 6, drawn
    assert {hour for _day, hour in warm} == {"20", "21"}, warm
    assert {day for day, _hour in warm} == set(weekdays[1:4]), (warm, weekdays)
    assert any(ord(ch) > 127 for ch in "".join(weekdays)) == (lang == "zh_CN"), weekdays  # 周一 … or Mon …
    # The colour scale sat on the axis labels; now it is above the grid, right-aligned.
    layout = page.evaluate("""() => { const o = echarts.getInstanceByDom(document.getElementById("heatmap")).getOption();
        return {scale_top: o.visualMap[0].top, grid_top: o.grid[0].top, orient: o.visualMap[0].orient}; }""")
    assert layout == {"scale_top": 0, "grid_top": 44, "orient": "horizontal"}, layout
    # Nobody was turned away: the chart says so instead of drawing an empty axis.
    expect(page.locator("#turned-chart")).to_have_text(
        tr("Nobody was turned away in this range: every booking attempt found its room free."))
    by_room = page.get_by_role("table").filter(has_text="A101")
    expect(by_room.get_by_role("row").filter(has_text="B205")).to_contain_text("0.0%")  # idle rooms show
    expect(page.get_by_role("table").filter(has_text="鞍山岫玉工坊")).to_be_visible()

    with page.expect_download() as csv_download:
        page.get_by_role("link", name=re.compile(rf"^CSV\s*:\s*{tr('Per room')}$")).click()
    raw = open(csv_download.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "A101" in raw.decode("utf-8-sig")

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name=re.compile(rf"^XLSX\s*:\s*{tr('Per room')}$")).click()
    sheet = load_workbook(io.BytesIO(open(xlsx_download.value.path(), "rb").read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:3]] == ["A101", "B205"]
    assert rows[1][3] == 6  # three evenings of two hours, in hours as on the page


def test_the_reports_page_works_on_a_phone(phone_page, make):
    manager = make.user("manager")
    make.room(code="A101")
    log_in(phone_page, manager.email, next="/reports/")
    expect(phone_page.get_by_role("img", name="Heatmap of utilization by weekday and hour of day")
           .locator("canvas").first).to_be_visible()
    width = page_width(phone_page)
    assert width <= 400  # nothing forces sideways scrolling of the page
