"""The reports page: for managers and admins, a bad range is re-shown with its
field's message (422), downloads carry the same rows as the API."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.conftest import at


@pytest.mark.parametrize("role, status", [("coordinator", 403), ("anchor", 403), ("manager", 200), ("admin", 200)])
def test_the_page_is_for_managers(client, auth, make, role, status):
    auth.login(make.user(role).email)
    assert client.get("/reports/").status_code == status
    assert client.get("/reports/export?from=2026-11-01&to=2026-11-20&format=csv").status_code == status


def test_logged_out_goes_to_login(client):
    r = client.get("/reports/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("query", [
    "from=2026-11-20&to=2026-11-01", "from=2025-01-01&to=2026-11-20", "from=nonsense&to=2026-11-20",
    "from=2026-11-01&to=2026-11-20&zone=%E6%97%A0", "from=2026-11-01&to=2026-11-20&tenant_id=abc",
])
def test_a_bad_range_or_filter_is_shown_on_the_form(client, auth, make, query):
    make.room()
    auth.login(make.user("manager").email)
    r = client.get("/reports/?" + query)
    assert r.status_code == 422
    assert 'class="error"' in r.get_data(as_text=True)


def test_the_page_shows_rows_charts_and_rankings(client, auth, make):
    room = make.room(code="A1")
    tenant = make.tenant(name="岫玉工坊")
    b = make.booking(room, tenant, starts_at=at(0, 20), ends_at=at(0, 22), status="ended")
    make.order(b, amount_fen=12990)
    auth.login(make.user("manager").email)
    html = client.get("/reports/?from=2026-11-01&to=2026-11-20").get_data(as_text=True)
    assert 'id="heatmap"' in html and "data-charts=" in html
    assert "岫玉工坊" in html and "¥129.90" in html
    assert "<script>" not in html and "style=" not in html  # strict CSP: nothing inline


def test_xlsx_download_from_the_page(client, auth, make):
    room = make.room(code="A1")
    make.booking(room, make.tenant(), starts_at=at(0, 20), ends_at=at(0, 22))
    auth.login(make.user("manager").email)
    r = client.get("/reports/export?from=2026-11-20&to=2026-11-20&group_by=room&format=xlsx")
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.get_data())).active.iter_rows(values_only=True))
    assert rows[1][0] == "A1" and rows[1][3] == 2  # booked hours


@pytest.mark.parametrize("query", [
    "from=0001-01-01&to=0001-01-02", "from=9999-12-30&to=9999-12-31", "from=2026-11-01&to=2026-11-20&zone=a%00b",
    "from=2026-11-01&to=2026-11-20&tenant_id=%C2%B2", "from=2026-11-01&to=2026-11-20&tenant_id=99999999999999999999",
])
def test_odd_input_is_a_422_never_a_500(client, auth, make, query):
    auth.login(make.user("manager").email)
    assert client.get("/reports/?" + query).status_code == 422
    assert client.get("/reports/export?format=csv&" + query).status_code == 422


def test_the_page_reads_like_a_report_in_zh_cn(client, auth, make):
    """The last day was labelled 收件人 (an email's recipient); money had no
    separators ("¥384357.00"), numbers sat left in unpadded cells."""
    room = make.room(code="A1")
    b = make.booking(room, make.tenant(name="岫玉工坊"), starts_at=at(0, 20), ends_at=at(0, 22), status="ended")
    make.order(b, amount_fen=38435700)
    auth.login(make.user("manager", locale="zh_CN").email)
    html = client.get("/reports/?from=2026-11-01&to=2026-11-20").get_data(as_text=True)
    assert "收件人" not in html
    assert "起始日期" in html and "截止日期" in html
    assert "¥384,357.00" in html and "¥384357.00" not in html
    assert '<td class="num">¥384,357.00</td>' in html  # right-aligned by the report table's CSS
    assert 'class="report-table"' in html and html.count("<table") == html.count('class="report-table"')


def test_the_heatmap_marks_hours_when_few_rooms_are_open(app, make, db_session):
    """Hours 02–07 were the darkest because only the 24-hour rooms were open.
    Those cells now carry their share of the open room-hours and are marked few_open."""
    from datetime import date, time

    from opsroom.services.reporting.query import Query, heatmap

    make.room(code="N1", open_time=time(0), close_time=time(0))  # 24 hours
    for code in ("D1", "D2", "D3"):
        make.room(code=code, open_time=time(8), close_time=time(2))
    manager = make.user("manager")
    cells = {(c["weekday"], c["hour"]): c for c in heatmap(db_session, manager,
                                                               Query(date(2026, 11, 16), date(2026, 11, 22), "room"))["cells"]}
    night, day = cells[(0, 3)], cells[(0, 14)]
    assert night["open_share"] == 0.25 and night["few_open"] is True
    assert day["open_share"] == 1 and day["few_open"] is False
