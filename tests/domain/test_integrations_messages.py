"""Event -> Chinese notice: the sentence of every event type, times in the park's
offset (midnight crossings written 次日), money and counts grouped, the link to
the page, and refusal of unknown types or missing ids/times."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from opsroom.domain.integrations.messages import EVENT_TYPES, Notice, digest, notice_for

BASE = "https://ops.park.cn/"
BOOKING = {
    "id": 17, "room_code": "A101", "tenant": "某某服饰", "title": "秋冬新品",
    "starts_at": "2026-11-22T20:00:00+08:00", "ends_at": "2026-11-22T23:00:00+08:00",
    "status": "confirmed",
}
REQUEST = {
    "id": 5, "tenant": "某某服饰", "room_kind": "大棚间", "date": "2026-11-22",
    "window_start": "22:00", "window_end": "02:00", "minutes": 180,
}


def say(event_type, data, **kw) -> str:
    return notice_for(event_type, data, base_url=BASE, **kw).plain()


@pytest.mark.parametrize(
    "event_type, extra, expected",
    [
        ("booking.created", {}, "【新增场次】A101 直播间 11月22日 20:00–23:00 某某服饰《秋冬新品》已预订"),
        ("booking.created", {"status": "hold"},
         "【新增场次】A101 直播间 11月22日 20:00–23:00 某某服饰《秋冬新品》已暂留（待确认）"),
        ("booking.cancelled", {"reason": "商家临时调整"},
         "【场次取消】A101 直播间 11月22日 20:00–23:00 某某服饰《秋冬新品》已取消，原因：商家临时调整"),
        ("booking.cancelled", {}, "【场次取消】A101 直播间 11月22日 20:00–23:00 某某服饰《秋冬新品》已取消"),
        ("booking.moved",
         {"previous": {"room_code": "A102", "starts_at": "2026-11-21T22:00:00+08:00",
                       "ends_at": "2026-11-22T01:00:00+08:00"}},
         "【场次调整】某某服饰《秋冬新品》由 A102 直播间 11月21日 22:00–次日 01:00 调整为 A101 直播间 11月22日 20:00–23:00"),
        ("booking.moved", {}, "【场次调整】某某服饰《秋冬新品》调整为 A101 直播间 11月22日 20:00–23:00"),
        ("session.started", {}, "【开播】A101 直播间 某某服饰《秋冬新品》已开播（11月22日 20:00–23:00）"),
        ("session.ended", {"orders": 1234, "gmv": "45678.90"},
         "【下播】A101 直播间 某某服饰《秋冬新品》已下播（11月22日 20:00–23:00），订单 1,234 单，成交 ¥45,678.90"),
        ("session.ended", {}, "【下播】A101 直播间 某某服饰《秋冬新品》已下播（11月22日 20:00–23:00）"),
        ("session.no_show", {}, "【未到场】A101 直播间 11月22日 20:00–23:00 某某服饰《秋冬新品》未签到，已记为未到场"),
    ],
)
def test_booking_and_session_sentences(event_type, extra, expected):
    assert say(event_type, BOOKING | extra) == f"{expected} 查看：https://ops.park.cn/bookings/17"


def test_capacity_alert_names_rate_capacity_and_load():
    data = {"booking_id": 17, "room_code": "A101", "tenant": "某某服饰",
            "orders_per_hour": 1250, "capacity_per_hour": 1000, "load": 1.25}
    assert say("capacity.alert", data) == (
        "【承接预警】A101 直播间 某某服饰 每小时订单 1,250 单，超过承接能力 1,000 单（125%），请关注"
        " 查看：https://ops.park.cn/bookings/17")
    assert "负载 130%" in say("capacity.alert", {"booking_id": 3, "load": 1.3})
    assert "订单量超过承接能力" in say("capacity.alert", {"booking_id": 3})


@pytest.mark.parametrize(
    "event_type, extra, expected",
    [
        ("request.created", {}, "【新预约申请】某某服饰 申请 11月22日 22:00–次日 02:00（大棚间），时长 180 分钟"),
        ("request.created", {"room_code": "B2", "minutes": None},
         "【新预约申请】某某服饰 申请 11月22日 22:00–次日 02:00（B2 直播间）"),
        ("request.approved", {}, "【预约已通过】某某服饰 11月22日 22:00–次日 02:00 的预约申请已通过"),
        ("request.rejected", {"reason": "时段已满"},
         "【预约未通过】某某服饰 11月22日 22:00–次日 02:00 的预约申请未通过，原因：时段已满"),
        ("request.offered",
         {"offer": {"booking_id": 9, "starts_at": "2026-11-22T22:00:00+08:00",
                    "ends_at": "2026-11-23T01:00:00+08:00", "expires_at": "2026-11-21T18:00:00+08:00"}},
         "【候补有位】某某服饰 候补的 11月22日 22:00–次日 01:00（大棚间）有空位，请在 11月21日 18:00 前确认"),
    ],
)
def test_request_sentences(event_type, extra, expected):
    assert say(event_type, REQUEST | extra) == f"{expected} 查看：https://ops.park.cn/requests/5"


def test_a_request_window_within_one_day_has_no_next_day():
    assert "11月22日 09:00–12:00" in say("request.approved", REQUEST | {"window_start": "09:00", "window_end": "12:00"})


def test_daily_summary_and_its_report_link():
    data = {"date": "2026-11-22", "bookings": 24, "no_shows": 1, "cancellations": 0,
            "orders": 3456, "gmv": "123456.00", "utilization": 0.784}
    assert say("daily.summary", data) == (
        "【日报】11月22日：场次 24 场，未到场 1 场，取消 0 场，订单 3,456 单，成交 ¥123,456.00，利用率 78%"
        " 查看：https://ops.park.cn/reports/?from=2026-11-22&to=2026-11-22")
    assert say("daily.summary", {"date": "2026-11-22"}).startswith("【日报】11月22日：无场次")


def test_times_are_shown_in_their_offset_or_converted_to_the_given_zone():
    utc_booking = BOOKING | {"starts_at": "2026-11-22T12:00:00+00:00", "ends_at": "2026-11-22T16:30:00Z"}
    assert "11月22日 12:00–16:30" in say("booking.created", utc_booking)
    assert "11月22日 20:00–次日 00:30" in say("booking.created", utc_booking, tz=ZoneInfo("Asia/Shanghai"))
    long = BOOKING | {"ends_at": "2026-11-24T02:00:00+08:00"}
    assert "11月22日 20:00–11月24日 02:00" in say("booking.created", long)


def test_missing_optional_fields_are_left_out_not_guessed():
    bare = {"id": 1, "starts_at": "2026-11-22T20:00:00+08:00", "ends_at": "2026-11-22T23:00:00+08:00"}
    assert say("booking.cancelled", bare) == "【场次取消】直播间 11月22日 20:00–23:00 已取消 查看：https://ops.park.cn/bookings/1"
    assert say("session.started", bare).startswith("【开播】直播间 已开播（")


def test_user_text_cannot_break_the_one_line_shape():
    hostile = BOOKING | {"tenant": "某某\n服饰\t", "title": "  秋冬\r\n新品 "}
    text = say("booking.created", hostile)
    assert "\n" not in text and "\r" not in text and "\t" not in text
    assert "某某 服饰《秋冬 新品》" in text


def test_notice_without_url_has_no_link():
    assert Notice("测试", "内容").plain() == "【测试】内容"
    assert notice_for("booking.created", BOOKING, base_url="http://x").url == "http://x/bookings/17"


@pytest.mark.parametrize(
    "event_type, data",
    [
        ("booking.updated", BOOKING),
        ("booking.created", BOOKING | {"id": None}),
        ("booking.created", BOOKING | {"id": True}),
        ("booking.created", BOOKING | {"starts_at": "2026-11-22T20:00:00"}),  # naive
        ("booking.created", BOOKING | {"ends_at": "tomorrow"}),
        ("capacity.alert", {"room_code": "A101"}),
        ("request.created", REQUEST | {"date": None}),
        ("request.offered", REQUEST),
        ("daily.summary", {}),
        ("booking.created", ["not", "an", "object"]),
    ],
)
def test_unknown_types_and_missing_ids_or_times_are_errors(event_type, data):
    with pytest.raises(ValueError):
        notice_for(event_type, data, base_url=BASE)


def test_every_contract_event_type_has_a_notice():
    assert EVENT_TYPES == (
        "booking.created", "booking.moved", "booking.cancelled", "session.started", "session.ended",
        "session.no_show", "capacity.alert", "request.created", "request.approved", "request.rejected",
        "request.offered", "daily.summary",
    )
    samples = {"capacity": {"booking_id": 1}, "daily": {"date": "2026-11-22"}}
    for event_type in EVENT_TYPES:
        head = event_type.split(".")[0]
        data = {"booking": BOOKING, "session": BOOKING, "request": REQUEST | {
            "offer": {"booking_id": 1, "expires_at": "2026-11-21T18:00:00+08:00"}}}.get(head) or samples[head]
        notice = notice_for(event_type, data, base_url=BASE)
        assert notice.title and notice.text and notice.url.startswith("https://ops.park.cn/")


def test_a_digest_counts_and_numbers_its_notices_and_flattens_digests():
    one, two, three = (Notice("开播", f"B{n} 直播间已开播", f"http://x/bookings/{n}") for n in (1, 2, 3))
    merged = digest([one, two])
    assert merged.title == "2 条通知" and merged.items == (one, two) and merged.url is None
    assert merged.plain().splitlines() == [
        "【2 条通知】（发送频率受限，已合并）", "1. " + one.plain(), "2. " + two.plain()]
    again = digest([merged, three])
    assert again.title == "3 条通知" and again.items == (one, two, three)
    with pytest.raises(ValueError):
        digest([one])
