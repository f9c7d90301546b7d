"""The anchor on a phone (390×844), in zh_CN and in English: log in, see
today's session with its lineup in their schedule, check in."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from opsroom.models import LineupItem
from tests.browser import log_in_reading, page_width, t

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_anchor_sees_todays_session_with_lineup_and_checks_in(open_page, make, live_server, lang):
    page = open_page(lang, phone=True)

    def tr(msgid, **values):
        return t(live_server.app, lang, msgid, **values)

    tenant = make.tenant(name="鞍山南果梨合作社")
    user = make.user("anchor", name="李梨花")
    me = make.anchor(name="李梨花", user_id=user.id, tenant_id=tenant.id)
    co = make.anchor(name="王助播")
    room = make.room(code="C301", name="食品直播一号间", zone="食品区")
    # The park clock stands at 10:00; the session starts at 10:15.
    booking = make.booking(room, tenant, starts_at=datetime(2026, 11, 20, 10, 15, tzinfo=TZ),
                           ends_at=datetime(2026, 11, 20, 12, 0, tzinfo=TZ), title="南果梨产地直发")
    make.assign(booking, me, "host")
    make.assign(booking, co, "assistant")
    for position, name in enumerate(["南果梨 5斤装", "南果梨果酱"], start=1):
        product = make.product(tenant, name=name)
        make._save(LineupItem(booking_id=booking.id, product_id=product.id, position=position))
    other_anchor_user = make.user("anchor")
    stranger = make.anchor(name="别人", user_id=other_anchor_user.id)
    theirs = make.booking(make.room(code="A101"), tenant, starts_at=datetime(2026, 11, 20, 14, 0, tzinfo=TZ),
                          ends_at=datetime(2026, 11, 20, 16, 0, tzinfo=TZ), title="别人的场次")
    make.assign(theirs, stranger)

    log_in_reading(page, user.email, lang)
    expect(page).to_have_url(re.compile(r"/me/schedule$"))
    expect(page.get_by_role("heading", name=tr("My schedule"), level=1)).to_be_visible()

    today = page.get_by_role("region", name=re.compile("^" + re.escape(tr("Today"))))
    card = today.get_by_role("article")
    expect(card).to_have_count(1)  # only my own session
    expect(card.get_by_role("heading", name=re.compile(r"10:15.12:00 · C301"))).to_be_visible()
    expect(card).to_contain_text("南果梨产地直发")
    expect(card).to_contain_text("王助播")
    lineup = card.get_by_role("list")
    expect(lineup.get_by_role("listitem")).to_have_text([re.compile("南果梨 5斤装"), re.compile("南果梨果酱")])
    expect(page.get_by_text("别人的场次")).to_have_count(0)

    card.get_by_role("button", name=tr("Check in")).tap()
    expect(page.get_by_role("status")).to_contain_text(tr("Checked in. Have a good session!"))
    expect(page.get_by_role("region", name=re.compile("^" + re.escape(tr("Today")))).get_by_role("article")) \
        .to_contain_text(tr("Checked in at %(time)s", time="10:00"))
    expect(page.get_by_role("button", name=tr("Check in"))).to_have_count(0)

    # The page fits the phone: nothing scrolls sideways.
    width = page_width(page)
    assert width <= page.viewport_size["width"], f"the page is {width}px wide"
