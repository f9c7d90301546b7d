"""Managers' reports over the API: definitions of docs/domain.md on a real
database, access, 422s, exports and turned-away demand."""
from __future__ import annotations

import csv
import io
import threading
from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from opsroom import clock
from opsroom.db import intent
from opsroom.models import TurnedAway
from opsroom.services.bookings import lifecycle
from tests.conftest import NOW, at
from opsroom.services.bookings.create import create_booking
from opsroom.services.reporting.query import GROUPS, day_figures
from opsroom.services.reporting import exports

DAY = NOW.date()  # 2026-11-20, a Friday
URL = "/reports/utilization?from={}&to={}"


def url(first=DAY, last=DAY, **kw):
    extra = "".join(f"&{k}={v}" for k, v in kw.items())
    return URL.format(first.isoformat(), last.isoformat()) + extra


@pytest.fixture
def park(make):
    """Two rooms of a zone (one idle), one of another; two tenants."""
    a = make.room(code="A1", zone="服装区", kind="服装", open_time=time(8), close_time=time(2))
    idle = make.room(code="A2", zone="服装区", kind="服装", open_time=time(8), close_time=time(2))
    night = make.room(code="N1", zone="夜场区", kind="绿幕", open_time=time(20), close_time=time(4))
    t1, t2 = make.tenant(name="=HYPERLINK(\"x\")"), make.tenant(name="南果梨合作社")
    return {"a": a, "idle": idle, "night": night, "t1": t1, "t2": t2}


@pytest.mark.parametrize("role, status", [("coordinator", 403), ("anchor", 403), ("manager", 200), ("admin", 200)])
def test_reports_are_for_managers_and_admins(api, role, status):
    assert api(role).get(url()).status_code == status


def test_no_token_is_401(client):
    assert client.get("/api/v1" + url()).status_code == 401


@pytest.mark.parametrize("query, field", [
    (url(DAY, DAY - timedelta(days=1)), "from"),
    (url(DAY - timedelta(days=400), DAY), "to"),
    (url(group_by="month"), "group_by"),
    (url(zone="nowhere"), "zone"),
    (url(kind="nothing"), "kind"),
    (url(tenant_id="999999"), "tenant_id"),
    (url(tenant_id="abc"), "tenant_id"),
    (url(format="pdf"), "format"),
    ("/reports/utilization?from=2026-13-01&to=2026-12-01", "from"),
    ("/reports/utilization?from=20261101&to=2026-12-01", "from"),
    ("/reports/utilization?to=2026-12-01", "from"),
    (url(colour="red"), "colour"),
])
def test_bad_requests_are_422_naming_the_field(api, park, query, field):
    r = api("manager").get(query)
    assert r.status_code == 422
    assert r.json["error"]["code"] == "validation_error"
    assert field in [d["field"] for d in r.json["error"]["details"]]


def test_400_days_is_the_longest_range(api, park):
    assert api("manager").get(url(DAY - timedelta(days=399), DAY)).status_code == 200


def test_utilization_by_room_hand_computed(api, make, park):
    """A1: 18 h bookable, 20:00–22:00 booked and a cancelled 10:00–11:00; A2 idle; N1
    (open 20:00–04:00, 8 h of the local day) booked 22:00–03:00: 2 h today."""
    make.booking(park["a"], park["t1"], starts_at=at(0, 20), ends_at=at(0, 22), status="ended")
    make.booking(park["a"], park["t2"], starts_at=at(0, 10), ends_at=at(0, 11), status="cancelled",
                 cancelled_at=at(0, 9))
    make.booking(park["night"], park["t2"], starts_at=at(0, 22), ends_at=at(1, 3))
    body = api("manager").get(url(group_by="room")).json
    rows = {r["key"]: r for r in body["rows"]}
    assert set(rows) == {"A1", "A2", "N1"}
    assert (rows["A1"]["bookable_minutes"], rows["A1"]["booked_minutes"]) == (18 * 60, 120)
    assert rows["A1"]["utilization"] == pytest.approx(120 / 1080)
    assert rows["A1"]["cancellations"] == 1 and rows["A1"]["late_cancellations"] == 1
    assert rows["A1"]["bookings"] == 1 and rows["A1"]["prime_booked_minutes"] == 120
    assert (rows["A2"]["booked_minutes"], rows["A2"]["utilization"]) == (0, 0.0)
    assert (rows["N1"]["bookable_minutes"], rows["N1"]["booked_minutes"]) == (8 * 60, 120)
    total = body["total"]
    assert total["bookable_minutes"] == 18 * 60 * 2 + 8 * 60
    assert total["booked_minutes"] == 240
    # a group is the sum of its parts, never an average of ratios
    assert total["utilization"] == pytest.approx(240 / (44 * 60))
    for name in ("bookable_minutes", "booked_minutes", "bookings", "cancellations"):
        assert sum(r[name] for r in body["rows"]) == total[name]


def test_no_show_released_early_counts_until_release(api, make, park, db_session):
    make.booking(park["a"], park["t1"], starts_at=at(0, 8), ends_at=at(0, 10))
    lifecycle.mark_no_shows(db_session)
    db_session.commit()
    row = api("manager").get(url(group_by="room")).json["rows"][0]
    assert row["key"] == "A1"
    assert (row["booked_minutes"], row["no_shows"], row["no_show_rate"]) == (15, 1, 1.0)


def test_zone_kind_filters_and_groupings(api, make, park):
    make.booking(park["a"], park["t1"], starts_at=at(0, 20), ends_at=at(0, 22))
    make.booking(park["night"], park["t2"], starts_at=at(0, 22), ends_at=at(1, 3))
    m = api("manager")
    zones = {r["key"]: r for r in m.get(url(group_by="zone")).json["rows"]}
    assert zones["服装区"]["bookable_minutes"] == 36 * 60 and zones["服装区"]["booked_minutes"] == 120
    only = m.get(url(group_by="room", zone="夜场区")).json
    assert [r["key"] for r in only["rows"]] == ["N1"] and only["total"]["booked_minutes"] == 120
    kinds = m.get(url(group_by="kind", kind="服装")).json["rows"]
    assert [r["key"] for r in kinds] == ["服装"]


def test_day_week_and_hour_groupings_add_up(api, make, park):
    make.booking(park["a"], park["t1"], starts_at=at(0, 23), ends_at=at(1, 1))
    m = api("manager")
    days = m.get(url(DAY, DAY + timedelta(days=1), group_by="day")).json
    assert [(r["key"], r["booked_minutes"]) for r in days["rows"]] == [("2026-11-20", 60), ("2026-11-21", 60)]
    assert [r["bookings"] for r in days["rows"]] == [1, 0]  # counted on the day it starts
    weeks = m.get(url(DAY, DAY + timedelta(days=3), group_by="week")).json["rows"]
    assert [(r["key"], r["booked_minutes"]) for r in weeks] == [("2026-W47", 120), ("2026-W48", 0)]
    hours = m.get(url(DAY, DAY + timedelta(days=1), group_by="hour")).json
    by_hour = {r["key"]: r for r in hours["rows"]}
    assert len(hours["rows"]) == 24 and by_hour[23]["booked_minutes"] == 60 and by_hour[0]["booked_minutes"] == 60
    assert by_hour[23]["bookings"] == 1
    assert sum(r["bookable_minutes"] for r in hours["rows"]) == hours["total"]["bookable_minutes"]


def test_tenant_and_anchor_rows_rank_by_gmv_with_no_bookable_time(api, make, park):
    b1 = make.booking(park["a"], park["t1"], starts_at=at(0, 20), ends_at=at(0, 22), status="ended")
    b2 = make.booking(park["night"], park["t2"], starts_at=at(0, 22), ends_at=at(1, 0), status="ended")
    make.order(b1, amount_fen=1000)
    make.order(b2, amount_fen=50000)
    make.order(b2, amount_fen=7000, status="cancelled")
    star = make.anchor(name="岫玉小王")
    make.assign(b2, star)
    m = api("manager")
    tenants = m.get(url(group_by="tenant")).json
    assert [r["label"] for r in tenants["rows"]] == ["南果梨合作社", park["t1"].name]
    top = tenants["rows"][0]
    assert top["bookable_minutes"] is None and top["utilization"] is None
    assert (top["orders"], top["gmv"], top["booked_minutes"]) == (1, "500.00", 120)
    assert top["gmv_per_booked_hour"] == "250.00"
    assert tenants["total"]["gmv"] == "510.00"
    anchors = m.get(url(group_by="anchor")).json["rows"]
    assert [(r["key"], r["label"], r["gmv"]) for r in anchors] == [(star.id, "岫玉小王", "500.00")]
    only = m.get(url(group_by="room", tenant_id=park["t2"].id)).json
    assert only["total"]["booked_minutes"] == 120 and only["total"]["gmv"] == "500.00"
    assert only["total"]["bookable_minutes"] == 44 * 60  # the rooms' time, the tenant's share of it


def test_csv_has_a_bom_and_neutralised_cells(api, make, park):
    make.booking(park["a"], park["t1"], starts_at=at(0, 20), ends_at=at(0, 22))
    r = api("manager").get(url(group_by="tenant", format="csv"))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    raw = r.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[1][1] == "'" + park["t1"].name  # never a formula
    assert lines[-1][4] == lines[1][4] or lines[-1][0]  # a total line closes the file


def test_xlsx_opens_with_the_same_rows(api, make, park):
    make.booking(park["a"], park["t2"], starts_at=at(0, 20), ends_at=at(0, 22))
    r = api("manager").get(url(group_by="room", format="xlsx"))
    assert r.status_code == 200 and "spreadsheetml" in r.mimetype
    sheet = load_workbook(io.BytesIO(r.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 3 + 1  # heading, three rooms, total
    assert rows[1][0] == "A1" and rows[1][3] == 2  # hours, as the page shows them


def test_xlsx_writes_percentages_hours_money_widths_and_a_frozen_heading(api, make, park):
    """Ratios were 0.0883 in General format, durations in minutes, no widths, no frozen header."""
    b = make.booking(park["a"], park["t2"], starts_at=at(0, 20), ends_at=at(0, 22, 30), status="ended")
    make.order(b, amount_fen=123456789)
    sheet = load_workbook(io.BytesIO(api("manager").get(url(group_by="room", format="xlsx")).get_data())).active
    heading = [c.value for c in sheet[1]]
    col = {name: i + 1 for i, (name, _) in enumerate(exports.columns())}
    a1 = 2
    booked = sheet.cell(a1, col["booked_minutes"])
    assert booked.value == 2.5 and booked.number_format == "#,##0.0"
    assert heading[col["booked_minutes"] - 1] == "已预订小时数"  # hours, in the sheet's heading too
    util = sheet.cell(a1, col["utilization"])
    assert 0 < util.value < 1 and util.number_format == "0.0%"
    gmv = sheet.cell(a1, col["gmv"])
    assert gmv.value == 1234567.89 and gmv.number_format == "#,##0.00"
    assert sheet.cell(a1, col["bookings"]).number_format == "#,##0"
    assert sheet.freeze_panes == "B2" and all(c.font.b for c in sheet[1])
    widths = {h: sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width for i, h in enumerate(heading)}
    assert all(w >= exports._width(h) for h, w in widths.items()), widths  # every heading fits its column


def test_openapi_lists_the_enums(api):
    spec = api("manager").get("/openapi.json").json
    params = {p["name"]: p for p in spec["paths"]["/reports/utilization"]["get"]["parameters"]}
    assert params["group_by"]["schema"]["enum"] == list(GROUPS)
    assert params["format"]["schema"]["enum"] == ["json", "csv", "xlsx"]


def test_day_figures_for_the_morning_summary(make, park, db_session):
    b = make.booking(park["a"], park["t1"], starts_at=at(0, 20), ends_at=at(0, 22), status="ended")
    make.booking(park["a"], park["t1"], starts_at=at(0, 8), ends_at=at(0, 9), status="no_show")
    make.booking(park["idle"], park["t2"], starts_at=at(0, 12), ends_at=at(0, 13), status="cancelled")
    make.order(b, amount_fen=12990)
    make.order(b, amount_fen=100, status="refunded")
    assert day_figures(db_session, DAY) == {
        "bookable_minutes": 44 * 60, "booked_minutes": 180, "utilization": pytest.approx(180 / 2640),
        "bookings": 2, "no_shows": 1, "cancellations": 1, "orders": 2, "gmv_fen": 13090,
    }


# Turned-away demand


def _clash_body(room, tenant, start=None, end=None):
    return {"room_id": room.id, "tenant_id": tenant.id, "starts_at": (start or at(1, 20)).isoformat(),
            "ends_at": (end or at(1, 22)).isoformat()}


def test_a_refused_booking_is_recorded_once_per_user_and_window(api, make, park, db_session):
    make.booking(park["a"], park["t1"], starts_at=at(1, 20), ends_at=at(1, 22))
    coord = api("coordinator")
    for _ in range(3):
        assert coord.post("/bookings", json=_clash_body(park["a"], park["t2"])).status_code == 409
    rows = db_session.scalars(sa.select(TurnedAway)).all()
    assert len(rows) == 1
    assert (rows[0].zone, rows[0].kind, rows[0].hour, rows[0].attempts) == ("服装区", "服装", 20, 3)
    assert rows[0].tenant_id == park["t2"].id
    # another coordinator wanting the same window is more demand
    assert api("coordinator").post("/bookings", json=_clash_body(park["a"], park["t2"])).status_code == 409
    hours = api("manager").get(url(DAY + timedelta(days=1), DAY + timedelta(days=1), group_by="hour")).json
    assert {r["key"]: r["turned_away"] for r in hours["rows"]}[20] == 2
    assert hours["total"]["turned_away"] == 2


def test_a_refused_move_is_turned_away_too(api, make, park, db_session):
    make.booking(park["a"], park["t1"], starts_at=at(1, 20), ends_at=at(1, 22))
    mine = make.booking(park["idle"], park["t2"], starts_at=at(1, 10), ends_at=at(1, 12))
    r = api("coordinator").patch(f"/bookings/{mine.id}", json={
        "room_id": park["a"].id, "starts_at": at(1, 20).isoformat(), "ends_at": at(1, 22).isoformat()})
    assert r.status_code == 409
    assert db_session.scalar(sa.select(sa.func.count()).select_from(TurnedAway)) == 1


@pytest.mark.live
def test_concurrent_refusals_of_one_window_keep_one_row(committed_app):
    """Eight clients refused the same window at once: one row, eight attempts."""
    from opsroom.models import Room, Tenant, User
    from opsroom.services.park import users
    from opsroom.services.errors import Conflict

    app = committed_app
    with app.app_context(), intent(write=True):
        s = app.extensions["opsroom.sessionmaker"]()
        user = users.create_user(s, email="ta@test.example", role="coordinator", password="long-enough-password-1")
        room = Room(code="TA1", name="ta", zone="z", kind="k", open_time=time(0), close_time=time(0))
        tenant = Tenant(name="ta tenant")
        s.add_all([room, tenant])
        s.commit()
        create_booking(s, user, {"room_id": room.id, "tenant_id": tenant.id,
                                          "starts_at": at(1, 20), "ends_at": at(1, 22)})
        ids = user.id, room.id, tenant.id
        s.close()
    n, barrier, frozen, outcomes = 8, threading.Barrier(8), clock.now(), []

    def attempt():
        clock.set_now(frozen)
        with app.app_context(), intent(write=True):
            s = app.extensions["opsroom.sessionmaker"]()
            try:
                who = s.get(User, ids[0])
                s.commit()  # hold no lock while waiting for the others
                barrier.wait(timeout=60)
                create_booking(s, who, {"room_id": ids[1], "tenant_id": ids[2],
                                                 "starts_at": at(1, 20), "ends_at": at(1, 22)})
                outcomes.append("booked")
            except Conflict:
                outcomes.append("409")
            finally:
                s.close()

    threads = [threading.Thread(target=attempt) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert outcomes == ["409"] * n
    with app.app_context():
        s = app.extensions["opsroom.sessionmaker"]()
        rows = s.scalars(sa.select(TurnedAway)).all()
        assert [(r.user_id, r.attempts) for r in rows] == [(ids[0], n)]
        s.close()


@pytest.mark.parametrize("query", [
    "/reports/utilization?from=1899-12-31&to=1900-01-02", "/reports/utilization?from=2026-11-01&to=2026-11-02&zone=a%00b",
    "/reports/utilization?from=2026-11-01&to=2026-11-02&tenant_id=99999999999999999999",
    "/reports/utilization?from=2026-11-01&to=2026-11-02&group_by=",
])
def test_odd_input_is_never_a_500(api, park, query):
    assert api("manager").get(query).status_code in (200, 422)
