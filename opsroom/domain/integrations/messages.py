"""Events -> short Chinese notices for chat groups.

A ``Notice`` is platform-neutral plain text: a title (事件名), one sentence, and
a link to the page; ``robots`` renders it per platform. Input is the event's
``data`` as the API shows the object; only the fields below are read, every one
but the ids and times optional (a missing one is left out of the sentence):

- bookings and sessions (``booking.*``, ``session.*``): ``{id, room_code?,
  tenant?, title?, starts_at, ends_at, status?}``; plus ``reason?`` (cancelled),
  ``previous: {room_code?, starts_at, ends_at}`` (moved), ``orders?, gmv?``
  (session.ended). Link: ``/bookings/{id}``.
- ``capacity.alert``: ``{booking_id, room_code?, tenant?, orders_per_hour?,
  capacity_per_hour?, load?}`` (load = orders / capacity, 1.25 = 125 %).
  Link: ``/bookings/{booking_id}``.
- requests (``request.*``): ``{id, tenant?, room_code?, room_kind?, date,
  window_start, window_end, minutes?}``; plus ``reason?`` (rejected),
  ``offer: {booking_id, starts_at?, ends_at?, expires_at}`` (offered).
  Link: ``/requests/{id}``.
- ``daily.summary``: ``{date, bookings?, no_shows?, cancellations?, orders?,
  gmv?, utilization?}`` (utilization 0..1). Link: ``/reports/?from=…&to=…``.

``digest`` merges several notices into one (【5 条通知】 and a numbered line
each) when a robot's rate limit leaves fewer sends than notices.

Times are RFC 3339 with an offset, as the API writes them in the park's zone;
they are shown in that offset unless ``tz`` is given. Money is the API's decimal
string ("4567.00"). An unknown event type or a missing id/time is a
``ValueError``: that is a caller's bug, not data to guess around.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from ..money import MoneyError, format_money, parse_money

EVENT_TYPES = (
    "booking.created", "booking.moved", "booking.cancelled",
    "session.started", "session.ended", "session.no_show",
    "capacity.alert",
    "request.created", "request.approved", "request.rejected", "request.offered",
    "daily.summary",
)


@dataclasses.dataclass(frozen=True)
class Notice:
    """What a chat group is told: ``【title】text 查看：url``.

    A digest (several notices merged to stay under a robot's rate limit) has
    the merged notices in ``items``, kept whole so each keeps its own link.
    """

    title: str
    text: str
    url: str | None = None
    items: tuple[Notice, ...] = ()

    def plain(self) -> str:
        if self.items:
            lines = [f"{n}. {item.plain()}" for n, item in enumerate(self.items, 1)]
            return "\n".join([f"【{self.title}】{self.text}", *lines])
        line = f"【{self.title}】{self.text}"
        return f"{line} 查看：{self.url}" if self.url else line


def digest(notices: Sequence[Notice]) -> Notice:
    """One notice standing for several, oldest first: 【5 条通知】 and a numbered line each.

    Digests of digests are flattened, so a count is always of real notices.
    """
    items = tuple(item for notice in notices for item in (notice.items or (notice,)))
    if len(items) < 2:
        raise ValueError("a digest needs at least two notices")
    return Notice(f"{len(items)} 条通知", "（发送频率受限，已合并）", None, items)


def notice_for(event_type: str, data: Mapping[str, Any], *, base_url: str, tz: tzinfo | None = None) -> Notice:
    """The notice of one event; ``base_url`` is the site root, e.g. ``https://ops.park.cn``."""
    build = _BUILDERS.get(event_type)
    if build is None:
        raise ValueError(f"unknown event type {event_type!r}")
    if not isinstance(data, Mapping):
        raise ValueError("event data must be an object")
    title, text, path = build(_Reader(data, tz))
    return Notice(title, text, base_url.rstrip("/") + path)


class _Reader:
    """Field access with the formatting every builder shares."""

    def __init__(self, data: Mapping[str, Any], tz: tzinfo | None) -> None:
        self.data, self.tz = data, tz

    def id(self, key: str = "id", data: Mapping[str, Any] | None = None) -> int:
        value = (self.data if data is None else data).get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a positive integer")
        return value

    def text(self, key: str, data: Mapping[str, Any] | None = None) -> str:
        value = (self.data if data is None else data).get(key)
        return " ".join(str(value).split()) if value not in (None, "") else ""

    def instant(self, key: str, data: Mapping[str, Any] | None = None) -> datetime:
        value = (self.data if data is None else data).get(key)
        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"{key} must be an RFC 3339 datetime") from None
        if moment.tzinfo is None:
            raise ValueError(f"{key} needs an offset")
        return moment.astimezone(self.tz) if self.tz else moment

    def span(self, data: Mapping[str, Any] | None = None) -> str:
        return _span(self.instant("starts_at", data), self.instant("ends_at", data))

    def room(self, data: Mapping[str, Any] | None = None) -> str:
        code = self.text("room_code", data)
        return f"{code} 直播间" if code else "直播间"

    def who(self) -> str:
        """Tenant and show title: 某某服饰《秋冬新品》."""
        tenant, title = self.text("tenant"), self.text("title")
        return tenant + (f"《{title}》" if title else "")

    def count(self, key: str) -> str | None:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        return f"{value:,}"

    def money(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        try:
            fen = parse_money(value)
        except (MoneyError, TypeError):
            return None
        yuan, _, cents = format_money(fen).partition(".")
        return f"¥{int(yuan):,}.{cents}"


def _day(moment: datetime | date) -> str:
    return f"{moment.month}月{moment.day}日"


def _span(start: datetime, end: datetime) -> str:
    """11月22日 20:00–23:00; across midnight 次日 02:00; longer, the end's date."""
    head = f"{_day(start)} {start:%H:%M}"
    days = (end.date() - start.date()).days
    if days == 0:
        return f"{head}–{end:%H:%M}"
    if days == 1:
        return f"{head}–次日 {end:%H:%M}"
    return f"{head}–{_day(end)} {end:%H:%M}"


def _window(r: _Reader) -> str:
    """A request's date and window; a window ending at or before its start ends next day."""
    try:
        day = date.fromisoformat(r.text("date"))
        start = time.fromisoformat(r.text("window_start"))
        end = time.fromisoformat(r.text("window_end"))
    except ValueError:
        raise ValueError("date, window_start and window_end are required") from None
    first = datetime.combine(day, start)
    last = datetime.combine(day + timedelta(days=1) if end <= start else day, end)
    return _span(first, last)


def _joined(*parts: str | None) -> str:
    return " ".join(part for part in parts if part)


def _say(*parts: str, tail: str) -> str:
    """Parts joined by spaces, then ``tail``: glued to a name, spaced after a time."""
    return _joined(*parts) + ("" if parts and parts[-1] else " ") + tail


def _booking_created(r: _Reader) -> tuple[str, str, str]:
    state = "已暂留（待确认）" if r.text("status") == "hold" else "已预订"
    return "新增场次", _say(r.room(), r.span(), r.who(), tail=state), f"/bookings/{r.id()}"


def _booking_moved(r: _Reader) -> tuple[str, str, str]:
    previous = r.data.get("previous")
    now = f"{r.room()} {r.span()}"
    if isinstance(previous, Mapping) and previous.get("starts_at"):
        was = f"{r.room(previous) if previous.get('room_code') else r.room()} {r.span(previous)}"
        text = f"{r.who() or '场次'}由 {was} 调整为 {now}"
    else:
        text = f"{r.who() or '场次'}调整为 {now}"
    return "场次调整", text, f"/bookings/{r.id()}"


def _booking_cancelled(r: _Reader) -> tuple[str, str, str]:
    reason = r.text("reason")
    text = _say(r.room(), r.span(), r.who(), tail="已取消") + (f"，原因：{reason}" if reason else "")
    return "场次取消", text, f"/bookings/{r.id()}"


def _session_started(r: _Reader) -> tuple[str, str, str]:
    return "开播", _say(r.room(), r.who(), tail=f"已开播（{r.span()}）"), f"/bookings/{r.id()}"


def _session_ended(r: _Reader) -> tuple[str, str, str]:
    orders, gmv = r.count("orders"), r.money("gmv")
    tally = "，".join(part for part in (orders and f"订单 {orders} 单", gmv and f"成交 {gmv}") if part)
    text = _say(r.room(), r.who(), tail=f"已下播（{r.span()}）") + (f"，{tally}" if tally else "")
    return "下播", text, f"/bookings/{r.id()}"


def _session_no_show(r: _Reader) -> tuple[str, str, str]:
    return "未到场", _say(r.room(), r.span(), r.who(), tail="未签到，已记为未到场"), f"/bookings/{r.id()}"


def _capacity_alert(r: _Reader) -> tuple[str, str, str]:
    rate, capacity = r.count("orders_per_hour"), r.count("capacity_per_hour")
    load = r.data.get("load")
    percent = f"{round(load * 100)}%" if isinstance(load, (int, float)) and not isinstance(load, bool) else None
    if rate and capacity:
        detail = f"每小时订单 {rate} 单，超过承接能力 {capacity} 单" + (f"（{percent}）" if percent else "")
    elif percent:
        detail = f"负载 {percent}"
    else:
        detail = "订单量超过承接能力"
    return "承接预警", _joined(r.room(), r.text("tenant"), detail) + "，请关注", f"/bookings/{r.id('booking_id')}"


def _request_place(r: _Reader) -> str:
    if r.text("room_code"):
        return r.room()
    return r.text("room_kind") or "任意直播间"


def _request_created(r: _Reader) -> tuple[str, str, str]:
    minutes = r.count("minutes")
    text = _joined(r.text("tenant"), f"申请 {_window(r)}（{_request_place(r)}）") + (
        f"，时长 {minutes} 分钟" if minutes else "")
    return "新预约申请", text, f"/requests/{r.id()}"


def _request_approved(r: _Reader) -> tuple[str, str, str]:
    return "预约已通过", _joined(r.text("tenant"), _window(r), "的预约申请已通过"), f"/requests/{r.id()}"


def _request_rejected(r: _Reader) -> tuple[str, str, str]:
    reason = r.text("reason")
    text = _joined(r.text("tenant"), _window(r), "的预约申请未通过") + (f"，原因：{reason}" if reason else "")
    return "预约未通过", text, f"/requests/{r.id()}"


def _request_offered(r: _Reader) -> tuple[str, str, str]:
    offer = r.data.get("offer")
    if not isinstance(offer, Mapping):
        raise ValueError("offer is required")
    slot = r.span(offer) if offer.get("starts_at") else _window(r)
    deadline = r.instant("expires_at", offer)
    text = _joined(r.text("tenant"), f"候补的 {slot}（{_request_place(r)}）有空位，"
                   f"请在 {_day(deadline)} {deadline:%H:%M} 前确认")
    return "候补有位", text, f"/requests/{r.id()}"


def _daily_summary(r: _Reader) -> tuple[str, str, str]:
    try:
        day = date.fromisoformat(r.text("date"))
    except ValueError:
        raise ValueError("date is required") from None
    utilization = r.data.get("utilization")
    parts = [
        (count := r.count("bookings")) and f"场次 {count} 场",
        (count := r.count("no_shows")) and f"未到场 {count} 场",
        (count := r.count("cancellations")) and f"取消 {count} 场",
        (count := r.count("orders")) and f"订单 {count} 单",
        (gmv := r.money("gmv")) and f"成交 {gmv}",
        isinstance(utilization, (int, float)) and not isinstance(utilization, bool)
        and f"利用率 {round(utilization * 100)}%",
    ]
    text = f"{_day(day)}：" + ("，".join(part for part in parts if part) or "无场次")
    query = urlencode({"from": day.isoformat(), "to": day.isoformat()})
    return "日报", text, f"/reports/?{query}"


_BUILDERS: dict[str, Callable[[_Reader], tuple[str, str, str]]] = {
    "booking.created": _booking_created,
    "booking.moved": _booking_moved,
    "booking.cancelled": _booking_cancelled,
    "session.started": _session_started,
    "session.ended": _session_ended,
    "session.no_show": _session_no_show,
    "capacity.alert": _capacity_alert,
    "request.created": _request_created,
    "request.approved": _request_approved,
    "request.rejected": _request_rejected,
    "request.offered": _request_offered,
    "daily.summary": _daily_summary,
}
assert tuple(_BUILDERS) == EVENT_TYPES
