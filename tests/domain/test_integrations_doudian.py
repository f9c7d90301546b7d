"""The 抖店 push parser: array or single message, tag "0", the trade and refund tags
normalised (string ids kept exact, fen, aware UTC), unknown tags kept, and every
malformed body refused with a clear message (400) or, unsigned, 401."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from opsroom.domain.integrations.doudian import (
    SUCCESS_RESPONSE,
    DoudianError,
    parse_push,
    verify_and_parse,
)
from opsroom.domain.integrations.signing import doudian_sign

UTC = timezone.utc
APP_KEY = "7012345678901234567"
APP_SECRET = "b3c1e0d2-0000-4a5b-9c8d-112233445566"
# Larger than 2**53: a float or a JavaScript number would lose the last digits.
P_ID = 6912345678901234567
S_IDS = [6912345678901234568, 6912345678901234569]


def message(tag, data, msg_id="7100000000000000001"):
    return {"tag": tag, "msg_id": msg_id, "data": json.dumps(data)}


def body_of(*messages) -> bytes:
    return json.dumps(list(messages), separators=(",", ":")).encode()


CREATED = {"biz": 2, "create_time": 1763816400, "order_status": 1, "order_type": 0,
           "p_id": P_ID, "s_ids": S_IDS, "shop_id": 4463798}
PAID = {"biz": 2, "order_status": 2, "order_type": 0, "p_id": P_ID, "pay_amount": 25980,
        "pay_time": 1763816460, "pay_type": 1, "s_ids": S_IDS, "shop_id": 4463798}
CANCELLED = {"biz": 2, "cancel_reason": "买家取消", "cancel_time": 1763817000, "order_status": 4,
             "order_type": 0, "p_id": P_ID, "s_ids": S_IDS, "shop_id": 4463798}
REFUNDED = {"aftersale_id": 7000000000000000001, "aftersale_status": 12, "aftersale_type": 1,
            "p_id": P_ID, "reason_code": 3, "refund_amount": 12990, "refund_post_amount": 0,
            "refund_voucher_num": 0, "s_id": S_IDS[0], "shop_id": 4463798, "success_time": 1763900000}


def test_created_paid_cancelled_refund_are_normalised():
    events = parse_push(body_of(
        message("100", CREATED, "m1"), message("101", PAID, "m2"),
        message("106", CANCELLED, "m3"), message("206", REFUNDED, "m4"),
    ))
    created, paid, cancelled, refund = events
    assert [e.kind for e in events] == ["created", "paid", "cancelled", "refund"]
    assert [e.msg_id for e in events] == ["m1", "m2", "m3", "m4"]

    assert created.tag == "100" and created.name == "订单创建"
    assert created.order_ids == ("6912345678901234568", "6912345678901234569")
    assert created.parent_order_id == "6912345678901234567"
    assert created.shop_id == "4463798"
    assert created.status == 1
    assert created.ordered_at == datetime(2025, 11, 22, 13, 0, tzinfo=UTC)
    assert created.ordered_at.utcoffset().total_seconds() == 0
    assert created.amount_fen is None and created.refund_fen is None

    assert paid.amount_fen == 25980
    assert paid.happened_at == datetime.fromtimestamp(1763816460, UTC)
    assert paid.ordered_at is None  # 101 carries no create_time
    assert paid.status == 2

    assert cancelled.happened_at == datetime.fromtimestamp(1763817000, UTC)
    assert cancelled.data["cancel_reason"] == "买家取消"

    assert refund.order_ids == ("6912345678901234568",)  # the one s_id of an after-sale
    assert refund.refund_fen == 12990
    assert refund.status == 12  # aftersale_status, not order_status
    assert refund.happened_at == datetime.fromtimestamp(1763900000, UTC)


def test_a_single_message_object_is_a_push_of_one():
    (event,) = parse_push(json.dumps(message("101", PAID)).encode())
    assert event.kind == "paid"


def test_tag_zero_is_the_verification_message_whatever_its_data():
    for data in ("{}", "", None, "not json", '{"any": 1}'):
        (event,) = parse_push(json.dumps([{"tag": "0", "msg_id": "0", "data": data}]))
        assert event.kind == "verify" and event.order_ids == ()
    assert SUCCESS_RESPONSE == {"code": 0, "msg": "success"}


def test_numeric_tag_and_ids_given_as_strings_are_read_alike():
    data = dict(CREATED, p_id=str(P_ID), s_ids=[str(s) for s in S_IDS], shop_id="4463798")
    (event,) = parse_push(json.dumps([{"tag": 100, "msg_id": 7, "data": json.dumps(data)}]))
    assert event.tag == "100" and event.msg_id == "7"
    assert event.parent_order_id == str(P_ID) and event.order_ids == tuple(str(s) for s in S_IDS)


def test_data_already_an_object_is_accepted():
    (event,) = parse_push(json.dumps([{"tag": "101", "msg_id": "m", "data": PAID}]))
    assert event.amount_fen == 25980


def test_other_tags_keep_their_data_and_known_fields():
    changed = {"order_status": 2, "p_id": P_ID, "s_ids": S_IDS, "shop_id": 1, "update_time": 1763816500,
               "receiver_msg": {"addr": "…", "name": "…", "tel": "…"}}
    amount = {"p_id": P_ID, "s_ids": S_IDS, "total_amount": 19900, "modify_time": 1763816600, "order_status": 1}
    unknown = {"whatever": True}
    address, modified, mystery = parse_push(body_of(
        message("105", changed), message("109", amount), message("999", unknown)))
    assert address.kind == "other" and address.name == "买家收货信息变更"  # 105 is no cancellation
    assert address.happened_at == datetime.fromtimestamp(1763816500, UTC)
    assert modified.amount_fen == 19900 and modified.name == "订单金额修改"
    assert mystery.kind == "other" and mystery.name == "未知消息 999" and mystery.data == unknown
    assert mystery.raw["tag"] == "999"


def test_after_sale_messages_other_than_refund_success_move_no_money():
    applied = dict(REFUNDED, apply_time=1763890000, aftersale_status=6)
    del applied["success_time"]
    (event,) = parse_push(body_of(message("200", applied)))
    assert event.kind == "other" and event.refund_fen == 12990


def test_zero_times_mean_not_given_and_an_empty_push_is_no_message():
    (event,) = parse_push(body_of(message("100", dict(CREATED, create_time=0))))
    assert event.ordered_at is None and event.happened_at is None
    assert parse_push(b"[]") == []


@pytest.mark.parametrize(
    "body, words",
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b'"text"', "array"),
        (b"42", "array"),
        (b"[1]", "message 0: a message must be a JSON object"),
        (json.dumps([{"tag": "100", "data": "{}"}]).encode(), "msg_id"),
        (json.dumps([{"msg_id": "m", "data": "{}"}]).encode(), "tag"),
        (json.dumps([{"tag": True, "msg_id": "m", "data": "{}"}]).encode(), "tag"),
        (json.dumps([{"tag": "100", "msg_id": "m"}]).encode(), "data is required"),
        (json.dumps([{"tag": "100", "msg_id": "m", "data": "{bad"}]).encode(), "data is not JSON"),
        (json.dumps([{"tag": "100", "msg_id": "m", "data": "[1,2]"}]).encode(), "JSON object"),
        (body_of(message("101", dict(PAID, pay_amount="12.5"))), "pay_amount must be an integer"),
        (body_of(message("101", dict(PAID, pay_amount=-1))), "must not be negative"),
        # Digits Python's int() refuses although str.isdigit() says yes: a 400, not a 500.
        (body_of(message("101", dict(PAID, pay_amount="²"))), "pay_amount must be an integer"),
        (body_of(message("101", dict(PAID, order_status="٣"))), "order_status must be an integer"),
        (body_of(message("101", dict(PAID, pay_amount=1.5))), "pay_amount"),
        (body_of(message("100", dict(CREATED, s_ids=P_ID))), "s_ids must be a list"),
        (body_of(message("100", dict(CREATED, s_ids=[None]))), "empty id"),
        (body_of(message("100", dict(CREATED, p_id=None, s_ids=[]))), "without p_id or s_ids"),
        (body_of(message("100", dict(CREATED, create_time=1763816400000))), "epoch seconds"),
        (body_of(message("100", CREATED), message("101", dict(PAID, p_id={}))), "message 1: p_id"),
    ],
)
def test_malformed_pushes_are_refused_with_a_message(body, words):
    with pytest.raises(DoudianError) as caught:
        parse_push(body)
    assert words in str(caught.value)
    assert caught.value.status == 400


@pytest.mark.parametrize("field", ["tag", "msg_id", "s_ids", "p_id", "shop_id", "room_code", "author_id"])
def test_every_text_field_longer_than_its_column_is_a_400_naming_it(field):
    """Each text the push keeps (or an order made from it keeps) is at most as
    long as its column, and free of NUL: one character more, or a NUL, is a 400
    naming the field, not a database error; exactly the limit is read."""
    from opsroom.domain.integrations.doudian import MAX_LENGTHS

    def body(value):
        msg, data = message("101", dict(PAID, s_ids=[S_IDS[0]])), dict(PAID, s_ids=[S_IDS[0]])
        if field in ("tag", "msg_id"):
            msg[field] = value
        else:
            data[field] = [value] if field == "s_ids" else value
            msg["data"] = json.dumps(data)
        return body_of(msg)

    limit = MAX_LENGTHS[field]
    digits = "9" * limit  # a tag this long is an unknown tag: stored, applied to nothing
    (event,) = parse_push(body(digits))
    assert digits in (event.tag, event.msg_id, event.order_ids[0], event.parent_order_id, event.shop_id,
                      event.room_code, event.author_id)
    for bad, words in (("9" * (limit + 1), f"{field} is longer than {limit} characters"),
                       ("9\x00", f"{field} must not contain NUL")):
        with pytest.raises(DoudianError) as caught:
            parse_push(body(bad))
        assert words in str(caught.value) and caught.value.status == 400
    with pytest.raises(DoudianError, match=f"{field} is longer"):  # sent as a number: the same length
        parse_push(body(int("9" * (limit + 1))))


def test_the_text_limits_are_the_columns_lengths():
    from opsroom.domain.integrations.doudian import MAX_LENGTHS
    from opsroom.models import DoudianMessage, Order

    columns = {"tag": DoudianMessage.tag, "msg_id": DoudianMessage.msg_id, "s_ids": Order.external_id,
               "p_id": Order.parent_id, "room_code": Order.room_code, "author_id": Order.anchor_account}
    assert {f: c.type.length for f, c in columns.items()} == {f: MAX_LENGTHS[f] for f in columns}


def test_deeply_nested_json_is_a_400_not_a_crash():
    with pytest.raises(DoudianError):
        parse_push(b"[" * 100_000 + b"]" * 100_000)


def test_verify_and_parse_checks_the_signature_first():
    body = body_of(message("101", PAID))
    headers = {"app-id": APP_KEY, "event-sign": doudian_sign(APP_KEY, body, APP_SECRET)}
    (event,) = verify_and_parse(body, headers, app_key=APP_KEY, app_secret=APP_SECRET)
    assert event.kind == "paid"

    for bad in ({}, {"app-id": APP_KEY, "event-sign": "0" * 32}, dict(headers, **{"app-id": "other"})):
        with pytest.raises(DoudianError) as caught:
            verify_and_parse(body, bad, app_key=APP_KEY, app_secret=APP_SECRET)
        assert caught.value.status == 401

    # A well-signed body that is no push is a 400, not a 401.
    junk = b"not json"
    signed = {"app-id": APP_KEY, "event-sign": doudian_sign(APP_KEY, junk, APP_SECRET)}
    with pytest.raises(DoudianError) as caught:
        verify_and_parse(junk, signed, app_key=APP_KEY, app_secret=APP_SECRET)
    assert caught.value.status == 400
