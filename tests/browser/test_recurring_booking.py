"""A coordinator books a recurring week (Mon, Wed, Fri for two weeks) in
zh_CN and in English: the Wednesday clashes, the form shows the clash and books
nothing; the coordinator chooses "skip the clashing dates" and gets the rest."""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from opsroom.models import Booking
from tests.browser import log_in_reading, t

TZ = ZoneInfo("Asia/Shanghai")
TENANT = "杭州小鹿服饰"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_recurring_week_with_a_clash_then_skip(open_page, make, live_server, lang):
    app = live_server.app
    room = make.room(code="A101", name="服装一号间", kind="服装")
    tenant = make.tenant(name=TENANT)
    coordinator = make.user("coordinator", name="排期小王")
    # Wednesday 25 November, 19:00–21:00 is taken (the park clock: Friday 20 November, 10:00).
    taken = make.booking(room, tenant, title="别人的专场", starts_at=datetime(2026, 11, 25, 19, 0, tzinfo=TZ),
                         ends_at=datetime(2026, 11, 25, 21, 0, tzinfo=TZ))
    page = open_page(lang)
    log_in_reading(page, coordinator.email, lang)
    page.goto("/bookings/new?" + urlencode({"room_id": room.id, "start": "2026-11-23T19:00:00+08:00"}))

    def tr(msgid, **values):
        return t(app, lang, msgid, **values)

    expect(page.get_by_role("heading", name=tr("New booking"), level=1)).to_be_visible()
    page.get_by_label(tr("Tenant"), exact=True).select_option(label=TENANT)
    page.get_by_label(tr("Title"), exact=True).fill("冬季新品周播")
    page.get_by_label(tr("Repeat"), exact=True).select_option(label=tr("Weekly"))
    for day in ("Mon", "Wed", "Fri"):
        page.get_by_label(tr(day), exact=True).check()
    page.get_by_label(tr("Until"), exact=True).fill("2026-12-04")
    expect(page.get_by_label(tr("If a date clashes"), exact=True)).to_have_value("reject")
    page.get_by_role("button", name=tr("Book"), exact=True).click()

    # The clash is shown and nothing is booked.
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("heading", name=tr("This slot is taken"))).to_be_visible()
    expect(alert.get_by_role("link", name=tr("see it"))).to_have_attribute("href", f"/bookings/{taken.id}")
    with live_server.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
    # What the coordinator typed is still there.
    expect(page.get_by_label(tr("Title"), exact=True)).to_have_value("冬季新品周播")
    expect(page.get_by_label(tr("Wed"), exact=True)).to_be_checked()

    page.get_by_label(tr("If a date clashes"), exact=True).select_option(label=tr("Skip the clashing dates"))
    page.get_by_role("button", name=tr("Book"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/bookings/\d+$"))
    expect(page.get_by_text(tr("%(n)s bookings made, %(m)s dates skipped because they clash.", n=5, m=1))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", {"zh_CN": "zh-CN", "en": "en"}[lang])

    with live_server.session() as session:
        made = session.scalars(sa.select(Booking).where(Booking.id != taken.id).order_by(Booking.starts_at)).all()
        days = [b.starts_at.astimezone(TZ).strftime("%m-%d %H:%M") for b in made]
        assert days == ["11-23 19:00", "11-27 19:00", "11-30 19:00", "12-02 19:00", "12-04 19:00"]
        assert len({b.series_id for b in made}) == 1 and made[0].series_id is not None
        assert {b.title for b in made} == {"冬季新品周播"}
