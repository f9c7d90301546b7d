"""A coordinator plans December from the planner page (zh_CN): the run goes on
outside the request, the page follows its progress until the draft shows; the
unplaced request says who holds its time; "accept all" books the draft, and the
bookings read back from the database; the board shows the draft hatched."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from playwright.sync_api import expect

from opsroom import clock
from opsroom.models import Booking, BookingRequest
from tests.browser import log_in_reading, t

TZ = ZoneInfo("Asia/Shanghai")


def test_plan_a_month_watch_it_finish_and_accept(page, make, live_server):
    app = live_server.app
    room = make.room(code="Y101", name="月度一号间", open_time=time(8), close_time=time(2), changeover_minutes=0)
    high, low = make.tenant(name="高优先服饰", priority=1), make.tenant(name="低优先服饰", priority=3)
    coordinator = make.user("coordinator", name="排期小王")
    reqs = [make._save(BookingRequest(tenant_id=tn.id, status="pending", date=date(2026, 12, 9), room_id=room.id,
                                      window_start=time(20), window_end=time(22), minutes=120, anchors=[], note="",
                                      created_at=clock.now())) for tn in (high, low)]

    def tr(msgid, **values):
        return t(app, "zh_CN", msgid, **values)

    log_in_reading(page, coordinator.email, "zh_CN")
    page.goto("/plans/")
    page.get_by_label(tr("Month"), exact=True).fill("2026-12")
    page.get_by_label(tr("Time limit (seconds)"), exact=True).fill("5")
    page.get_by_role("button", name=tr("Plan the month"), exact=True).click()
    # The page polls the run and shows the draft when it is done.
    expect(page.locator("#plan-status")).to_have_text(tr("done"), timeout=20_000)
    placed = page.locator("#placed tbody tr")
    expect(placed).to_have_count(1)
    expect(placed.first).to_contain_text("Y101")
    expect(page.locator("#unplaced .plan-reason")).to_contain_text(f"#{reqs[0].id}")

    page.get_by_role("link", name=tr("See the draft on the booking board")).click()
    expect(page.locator(".track .draft")).to_have_count(1)
    page.go_back()

    page.get_by_role("button", name=tr("Accept all"), exact=True).click()
    expect(page.get_by_text(tr("%(n)s bookings made.", n=1))).to_be_visible()
    with live_server.session() as session:
        booked = session.execute(sa.select(Booking.room_id, Booking.tenant_id, Booking.starts_at)).all()
        assert booked == [(room.id, high.id, datetime(2026, 12, 9, 20, tzinfo=TZ))]
        assert session.get(BookingRequest, reqs[0].id).status == "approved"
        assert session.get(BookingRequest, reqs[1].id).status == "pending"
