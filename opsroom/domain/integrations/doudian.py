"""The 抖店 (Douyin shop) message push: verify, parse, normalise.

A push is a POST whose raw body is a JSON array of messages (a single message
object is accepted too) ``{"tag": "100", "msg_id": "...", "data": "<JSON text>"}``;
``data`` is itself JSON, as a string. Headers ``app-id`` and ``event-sign``
authenticate it (see ``signing.verify_doudian``). The answer to an accepted push
is ``{"code": 0, "msg": "success"}``; 抖店 pushes again until it gets it, so
messages are de-duplicated by ``msg_id`` downstream.

Supported tags (names and fields from the 抖店 message docs, as mirrored in
https://github.com/zsmhub/doudian-sdk/tree/master/message; each tag's own page
is https://op.jinritemai.com/docs/message-docs/30/109 (100), .../30/110 (101),
.../30/123 (106), .../31/121 (206), the rest linked from the same index):

====  ==================  =========  ============================================
tag   name                kind       fields used
====  ==================  =========  ============================================
0     推送地址验证         verify     none (the contract's test message)
100   订单创建             created    p_id, s_ids, shop_id, order_status, create_time
101   订单支付/确认        paid       … pay_amount (fen), pay_time
106   订单取消             cancelled  … cancel_time (cancel_reason kept in data)
206   退款成功             refund     p_id, s_id, refund_amount (fen), aftersale_status,
                                      success_time
====  ==================  =========  ============================================

Every other tag is ``kind="other"`` with the same fields read when present
(102 发货, 103 交易完成, 105 收货信息变更, 109 金额修改, 110 已支付待处理,
200–227 售后 …). Tag 105 is an address change, not a cancellation; refunds
other than 206 (applied, agreed, refused, closed) move no money yet.

Ids are strings (they exceed 2**53, so a JavaScript client could not hold them
as numbers); amounts are integer fen as 抖店 sends them; times are epoch
seconds turned into aware UTC datetimes (0 = not given). Messages of tags
102/104/105/108 carry the buyer's name, phone and address in
``receiver_msg``: ``raw`` keeps the message as received, so whoever stores it
decides what to keep.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from opsroom.domain.orders import LIMITS as ORDER_LIMITS

from .signing import SignatureError, verify_doudian

UTC = timezone.utc
# The answer 抖店 expects for every accepted push (verification included).
SUCCESS_RESPONSE = {"code": 0, "msg": "success"}
MAX_BODY_BYTES = 5 * 1024 * 1024
# Epoch seconds past this are no real order time (year 2100); a bigger number is
# most likely milliseconds sent by mistake, and is refused rather than guessed.
_MAX_EPOCH = 4_102_444_800

# tag -> (name, kind, field holding the moment the message describes)
TAGS: dict[str, tuple[str, str, str | None]] = {
    "0": ("推送地址验证", "verify", None),
    "100": ("订单创建", "created", "create_time"),
    "101": ("订单支付/确认", "paid", "pay_time"),
    "102": ("卖家发货", "other", "update_time"),
    "103": ("交易完成", "other", "complete_time"),
    "104": ("发货物流信息变更", "other", "update_time"),
    "105": ("买家收货信息变更", "other", "update_time"),
    "106": ("订单取消", "cancelled", "cancel_time"),
    "108": ("卖家部分发货", "other", "update_time"),
    "109": ("订单金额修改", "other", "modify_time"),
    "110": ("订单已支付待处理", "other", None),
    "200": ("买家发起售后申请", "other", "apply_time"),
    "201": ("同意退款", "other", "agree_time"),
    "202": ("同意退货申请", "other", None),
    "203": ("买家退货给卖家", "other", None),
    "204": ("拒绝退款", "other", "refuse_time"),
    "205": ("拒绝退货申请", "other", "refuse_time"),
    "206": ("退款成功", "refund", "success_time"),
    "207": ("售后关闭", "other", "close_time"),
    "225": ("特殊权益售后退款成功", "other", "success_time"),
}
KINDS = ("verify", "created", "paid", "cancelled", "refund", "other")
# The longest each text field may be: as long as the column that keeps it
# (doudian_messages.tag and .msg_id; an order created from the message keeps
# s_ids as orders.external_id, p_id as .parent_id, room_code and author_id as
# .room_code and .anchor_account). A longer one is a 400 naming the field, never
# a database error. shop_id is not kept (128, as any id before).
MAX_LENGTHS = {"tag": 10, "msg_id": 128, "s_ids": ORDER_LIMITS["external_id"], "p_id": ORDER_LIMITS["parent_id"],
               "shop_id": 128, "room_code": ORDER_LIMITS["room_code"], "author_id": ORDER_LIMITS["anchor_account"]}


class DoudianError(ValueError):
    """A push that cannot be accepted.

    ``status`` is the HTTP status the route answers: 401 for a bad or missing
    signature, 400 for a body that is not a well-formed push. The message
    names the first problem (and the message's index for a batch).
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class DoudianEvent:
    """One push message, normalised.

    ``order_ids`` are the sub-order ids (``s_ids``, or the one ``s_id`` of an
    after-sale message); ``parent_order_id`` is ``p_id``. ``amount_fen`` is the
    paid amount (101) or the new total (109); ``refund_fen`` the refunded amount
    of after-sale messages. ``status`` is the message's own status field:
    ``order_status`` for trade tags, ``aftersale_status`` for after-sale tags.
    ``ordered_at`` is the order's creation time when given; ``happened_at`` the
    moment this message describes (paid, cancelled, refunded …). ``room_code``
    and ``author_id`` (the anchor's account) attribute an order the message
    creates ("" when not given).
    """

    msg_id: str
    tag: str
    kind: str
    name: str
    order_ids: tuple[str, ...]
    parent_order_id: str | None
    shop_id: str | None
    amount_fen: int | None
    refund_fen: int | None
    status: int | None
    ordered_at: datetime | None
    happened_at: datetime | None
    data: Mapping[str, Any]
    raw: Mapping[str, Any]
    room_code: str = ""
    author_id: str = ""


def parse_push(body: bytes | str) -> list[DoudianEvent]:
    """Every message of a push body, in order. Raises ``DoudianError`` (400)."""
    if isinstance(body, bytes):
        if len(body) > MAX_BODY_BYTES:
            raise DoudianError("body too large")
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DoudianError("body is not UTF-8") from exc
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise DoudianError(f"body is not JSON: {exc}") from exc
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise DoudianError("body must be a JSON array of messages or one message object")
    events = []
    for index, message in enumerate(payload):
        try:
            events.append(_event(message))
        except DoudianError as exc:
            raise DoudianError(f"message {index}: {exc}") from exc
    return events


def verify_and_parse(
    body: bytes,
    headers: Mapping[str, str],
    *,
    app_key: str,
    app_secret: str,
) -> list[DoudianEvent]:
    """Check the signature (401 on failure), then parse (400 on failure)."""
    try:
        verify_doudian(app_key, app_secret, headers, body)
    except SignatureError as exc:
        raise DoudianError(str(exc), status=401) from exc
    return parse_push(body)


def _event(message: Any) -> DoudianEvent:
    if not isinstance(message, dict):
        raise DoudianError("a message must be a JSON object")
    tag = _text_id(message.get("tag"), "tag")
    msg_id = _text_id(message.get("msg_id"), "msg_id")
    if tag is None or msg_id is None:
        raise DoudianError("tag and msg_id are required")
    name, kind, time_field = TAGS.get(tag, (f"未知消息 {tag}", "other", None))
    if kind == "verify":
        # The test message needs no content; whatever it carries must not fail it.
        try:
            data = _data(message.get("data"), required=False)
        except DoudianError:
            data = {}
        return DoudianEvent(msg_id, tag, kind, name, (), None, None, None, None, None,
                            None, None, data, message)
    data = _data(message.get("data"), required=True)

    sub_ids = data.get("s_ids")
    if sub_ids is None and "s_id" in data:
        sub_ids = [data["s_id"]]
    if sub_ids is None:
        order_ids: tuple[str, ...] = ()
    elif isinstance(sub_ids, list):
        order_ids = tuple(_text_id(value, "s_ids") or "" for value in sub_ids)
        if "" in order_ids:
            raise DoudianError("s_ids holds an empty id")
    else:
        raise DoudianError("s_ids must be a list")
    parent = _text_id(data.get("p_id"), "p_id")
    if kind in ("created", "paid", "cancelled", "refund") and not (order_ids or parent):
        raise DoudianError(f"tag {tag} without p_id or s_ids")

    status_field = "aftersale_status" if "aftersale_status" in data else "order_status"
    amount_field = "pay_amount" if "pay_amount" in data else "total_amount"
    happened = _time(data, time_field) if time_field else None
    return DoudianEvent(
        msg_id=msg_id,
        tag=tag,
        kind=kind,
        name=name,
        order_ids=order_ids,
        parent_order_id=parent,
        shop_id=_text_id(data.get("shop_id"), "shop_id"),
        amount_fen=_fen(data, amount_field),
        refund_fen=_fen(data, "refund_amount"),
        status=_int(data, status_field),
        ordered_at=_time(data, "create_time"),
        happened_at=happened,
        data=data,
        raw=message,
        room_code=_text(data, "room_code"),
        author_id=_text(data, "author_id"),
    )


def _data(value: Any, *, required: bool) -> dict[str, Any]:
    if value is None or value == "":
        if required:
            raise DoudianError("data is required")
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as exc:
            raise DoudianError(f"data is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise DoudianError("data must be a JSON object (given as a string)")
    return value


def _text_id(value: Any, field: str, max_len: int | None = None) -> str | None:
    """An id sent as a number or a string -> the string (at most `max_len`
    characters, default the field's MAX_LENGTHS, no NUL); None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise DoudianError(f"{field} must be a number or a string")
    if isinstance(value, int):
        if value < 0:
            raise DoudianError(f"{field} must not be negative")
        text = str(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
    else:
        raise DoudianError(f"{field} must be a number or a non-empty string")
    return _within(text, field, max_len)


def _within(text: str, field: str, max_len: int | None) -> str:
    limit = MAX_LENGTHS[field] if max_len is None else max_len
    if len(text) > limit:
        raise DoudianError(f"{field} is longer than {limit} characters")
    if "\x00" in text:
        raise DoudianError(f"{field} must not contain NUL")
    return text


def _text(data: Mapping[str, Any], field: str) -> str:
    """Optional text of `data` (a string or a number) -> the string; "" when absent or empty."""
    value = data.get(field)
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DoudianError(f"{field} must be a number or a string")
    return _within(str(value).strip(), field, None)


def _int(data: Mapping[str, Any], field: str) -> int | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():  # not "²" or "٣"
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise DoudianError(f"{field} must be an integer")
    return value


def _fen(data: Mapping[str, Any], field: str) -> int | None:
    value = _int(data, field)
    if value is not None and value < 0:
        raise DoudianError(f"{field} must not be negative")
    return value


def _time(data: Mapping[str, Any], field: str) -> datetime | None:
    value = data.get(field)
    if value is None or isinstance(value, str) and not (value.strip().isascii() and value.strip().isdigit()):
        # Some after-sale messages send update_time as text; it is kept in data, unread.
        return None
    seconds = _int(data, field)
    if not seconds:
        return None
    if seconds < 0 or seconds > _MAX_EPOCH:
        raise DoudianError(f"{field} is not epoch seconds")
    return datetime.fromtimestamp(seconds, UTC)
