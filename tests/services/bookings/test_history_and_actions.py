"""A booking's history reads as sentences with names and park times, in the
reader's language; the actions a page offers follow the
rules of the moment: check-in only inside its window, a session on air is ended
early rather than cancelled."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from opsroom import clock
from opsroom.services.bookings.history import describe_history
from opsroom.services.bookings.lifecycle import can_end_now, check_in, check_in_open, end_now
from opsroom.services.bookings.move import update_booking
from opsroom.services.errors import RuleViolation
from opsroom.services.people_goods.assignments import set_anchors, set_lineup
from tests.conftest import NOW, at


@pytest.fixture
def booked(make):
    coordinator = make.user("coordinator", name="陈晓峰")
    tenant = make.tenant(name="西柳服装")
    room = make.room(code="A101")
    booking = make.booking(room, tenant, starts_at=at(1, 13, 30), ends_at=at(1, 18, 30), title="秋冬新款")
    return coordinator, tenant, booking


def lines(app, db_session, booking, lang):
    with app.test_request_context(), force_locale(lang):
        return [(line.who, line.sentences) for line in describe_history(db_session, booking)]


def test_history_says_who_changed_the_time_and_the_people_in_words(app, db_session, make, booked):
    coordinator, tenant, booking = booked
    host = make.anchor(name="思思", verified=True)
    product = make.product(tenant, name="羊毛大衣")
    update_booking(db_session, coordinator, booking.id, {"starts_at": at(1, 14), "ends_at": at(1, 19)})
    set_anchors(db_session, coordinator, booking.id, [{"anchor_id": host.id, "role": "host"}])
    set_lineup(db_session, coordinator, booking.id, [{"product_id": product.id}])

    zh = lines(app, db_session, booking, "zh_CN")
    assert zh == [("陈晓峰", ["将时间 13:30–18:30 改为 14:00–19:00"]),
                  ("陈晓峰", ["添加主播 思思（主播）"]),
                  ("陈晓峰", ["添加商品 羊毛大衣"])]
    en = lines(app, db_session, booking, "en")
    assert en[0] == ("陈晓峰", ["changed the time from 13:30–18:30 to 14:00–19:00"])
    assert en[1] == ("陈晓峰", ["added anchor 思思 (host)"])


def test_a_move_to_another_day_names_the_days_and_removals_are_named(app, db_session, make, booked):
    coordinator, tenant, booking = booked
    host = make.anchor(name="思思", verified=True)
    set_anchors(db_session, coordinator, booking.id, [{"anchor_id": host.id, "role": "host"}])
    set_anchors(db_session, coordinator, booking.id, [])
    update_booking(db_session, coordinator, booking.id, {"starts_at": at(2, 13, 30), "ends_at": at(2, 18, 30)})
    zh = lines(app, db_session, booking, "zh_CN")
    assert zh[1] == ("陈晓峰", ["移除主播 思思（主播）"])
    assert zh[2] == ("陈晓峰", ["将时间 11-21 13:30–18:30 改为 11-22 13:30–18:30"])


def test_no_history_is_an_empty_list(app, db_session, booked):
    _, _, booking = booked
    assert lines(app, db_session, booking, "zh_CN") == []


def test_check_in_is_open_only_inside_its_window(db_session, make, booked):
    coordinator, tenant, tomorrow = booked
    soon = make.booking(tomorrow.room, tenant, starts_at=NOW + timedelta(minutes=20), ends_at=NOW + timedelta(hours=2))
    assert not check_in_open(db_session, tomorrow)
    assert check_in_open(db_session, soon)  # the window opens 30 minutes before the start (settings)
    with pytest.raises(RuleViolation):
        check_in(db_session, coordinator, tomorrow.id)


def test_a_session_on_air_ends_now_and_frees_the_room_after_the_changeover(app, db_session, make, booked):
    coordinator, tenant, _ = booked
    live = make.booking(make.room(code="B201"), tenant, starts_at=NOW - timedelta(hours=1),
                        ends_at=NOW + timedelta(hours=2))
    assert not can_end_now(live)  # nobody checked in yet: it is not on air
    check_in(db_session, coordinator, live.id)
    assert can_end_now(live)
    end_now(db_session, coordinator, live.id, reason="主播身体不适")
    db_session.refresh(live)
    assert (live.status, live.ends_at) == ("ended", NOW)
    assert live.occupied_until == NOW + timedelta(minutes=live.room.changeover_minutes)
    assert not can_end_now(live)
    with pytest.raises(RuleViolation):
        end_now(db_session, coordinator, live.id, reason="again")
    zh = lines(app, db_session, live, "zh_CN")
    assert zh[-1] == ("陈晓峰", ["于 10:00 提前结束直播，原因：主播身体不适"])
    assert clock.now() == NOW
