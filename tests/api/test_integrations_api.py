"""The integrations API: robots and webhooks (admin), test sends to real local
receivers, the delivery log and "send again"; and the 抖店 push: verified by its
md5 `event-sign`, answered {"code":0,"msg":"success"}, stored once per msg_id,
applied to orders by sub-order id (a refund to an imported order), a new order
created from a paid message, a bad signature refused with nothing changed."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from config import TestConfig
from opsroom import clock
from opsroom.models import Delivery, DoudianMessage, Order
from tests.conftest import at
from tests.support.receivers import WebhookReceiver, WeComRobot

KEY, APP_SECRET = TestConfig.DOUDIAN_APP_KEY, TestConfig.DOUDIAN_APP_SECRET
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def park_clock() -> float:
    return clock.now().timestamp()


@pytest.fixture
def wecom():
    robot = WeComRobot(clock=park_clock).start()
    yield robot
    robot.stop()


@pytest.fixture
def receiver():
    hook = WebhookReceiver(SECRET, clock=park_clock).start()
    yield hook
    hook.stop()


def test_robot_crud_and_test_send(api, wecom):
    admin = api("admin")
    made = admin.post("/robots", json={"kind": "wecom", "url": wecom.url, "events": ["booking.cancelled"],
                                       "name": "运营群"})
    assert made.status_code == 201, made.json
    robot = made.json
    assert robot["kind"] == "wecom" and robot["events"] == ["booking.cancelled"] and robot["has_secret"] is False
    assert [r["id"] for r in admin.get("/robots").json] == [robot["id"]]

    sent = admin.post(f"/robots/{robot['id']}/test")
    assert sent.status_code == 200 and sent.json["state"] == "sent" and sent.json["last_status"] == 200
    assert len(wecom.accepted) == 1 and "测试消息" in wecom.accepted[0].json()["markdown"]["content"]
    log = admin.get(f"/robots/{robot['id']}/deliveries").json
    assert [d["event"]["type"] for d in log] == ["robot.test"]

    assert admin.delete(f"/robots/{robot['id']}").status_code == 204
    assert admin.get("/robots").json == []
    assert admin.post(f"/robots/{robot['id']}/test").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"kind": "wecom", "url": "ftp://x.example/robot", "events": ["booking.created"]}, "url"),
    ({"kind": "wecom", "url": "http://x.example/robot", "events": ["booking.exploded"]}, "events"),
    ({"kind": "wecom", "url": "http://x.example/robot", "events": []}, "events"),
    ({"kind": "line", "url": "http://x.example/robot", "events": ["booking.created"]}, "kind"),
    ({"kind": "wecom", "url": "http://x.example/robot", "events": ["booking.created"], "mentions": ["bob"]},
     "mentions"),
])
def test_robot_fields_are_checked(api, body, field):
    answer = api("admin").post("/robots", json=body)
    assert answer.status_code == 422
    assert field in {d["field"] for d in answer.json["error"]["details"]}


def test_only_admins_manage_integrations(api):
    for role in ("manager", "coordinator", "anchor"):
        assert api(role).post("/robots", json={}).status_code == 403
        assert api(role).get("/webhooks").status_code == 403


def test_webhook_test_send_is_signed_and_logged_and_can_be_sent_again(api, receiver):
    admin = api("admin")
    hook = admin.post("/webhooks", json={"url": receiver.url, "secret": SECRET, "events": ["booking.created"]}).json
    assert "secret" not in hook
    first = admin.post(f"/webhooks/{hook['id']}/test").json
    assert first["state"] == "sent"
    assert receiver.ids() == [first["msg_id"]]
    assert json.loads(receiver.accepted[0].body)["type"] == "webhook.test"

    again = admin.post(f"/deliveries/{first['id']}/resend").json
    assert again["state"] == "pending" and again["msg_id"] == first["msg_id"]
    log = admin.get(f"/webhooks/{hook['id']}/deliveries").json
    assert [d["id"] for d in log] == [first["id"]]
    assert admin.post("/webhooks", json={"url": receiver.url, "secret": "whsec_!!", "events": ["booking.created"]}
                      ).status_code == 422


def test_a_refused_test_send_is_a_failed_delivery_with_the_answer(api, receiver):
    admin = api("admin")
    hook = admin.post("/webhooks", json={"url": receiver.url, "secret": "another-secret",
                                         "events": ["booking.created"]}).json
    failed = admin.post(f"/webhooks/{hook['id']}/test").json
    assert failed["state"] == "failed" and failed["last_status"] == 401
    assert admin.get(f"/webhooks/{hook['id']}/deliveries?failed=true").json[0]["id"] == failed["id"]


# --- the 抖店 push --------------------------------------------------------------------


def push(client, payload, *, sign: str | None = None, app_id: str = KEY):
    raw = json.dumps(payload, ensure_ascii=False).encode()
    sign = sign if sign is not None else hashlib.md5(KEY.encode() + raw + APP_SECRET.encode()).hexdigest().upper()
    return client.post("/api/v1/push/doudian", data=raw, content_type="application/json",
                       headers={"app-id": app_id, "event-sign": sign})


def message(tag: str, msg_id: str, **data) -> dict:
    return {"tag": tag, "msg_id": msg_id, "data": json.dumps(data)}


def test_the_verification_message_is_answered(client):
    answer = push(client, [{"tag": "0", "msg_id": "verify-1", "data": "{}"}])
    assert answer.status_code == 200 and answer.json == {"code": 0, "msg": "success"}


def test_a_refund_reaches_an_imported_order_once(client, make, db_session):
    booking = make.booking(starts_at=at(0, 8))
    order = make.order(booking, external_id="4987000000000001", amount_fen=12900)
    refund = message("206", "m-206-1", p_id="4987000000000000", s_id="4987000000000001", refund_amount=5000,
                     aftersale_status=12, success_time=int(clock.now().timestamp()))
    assert push(client, refund).json == {"code": 0, "msg": "success"}  # the single-message form
    assert push(client, [refund]).status_code == 200  # pushed again: stored once, applied once
    db_session.expire_all()
    order = db_session.get(Order, order.id)
    assert (order.status, order.refund_fen, order.amount_fen) == ("refunded", 5000, 12900)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(DoudianMessage)) == 1


def test_a_bad_signature_is_refused_and_changes_nothing(client, make, db_session):
    booking = make.booking(starts_at=at(0, 8))
    order = make.order(booking, external_id="4987000000000002")
    cancel = [message("106", "m-106-1", p_id="1", s_ids=["4987000000000002"], cancel_time=1)]
    assert push(client, cancel, sign="0" * 32).status_code == 401
    assert push(client, cancel, app_id="someone-else").status_code == 401
    raw = json.dumps(cancel).encode()
    assert client.post("/api/v1/push/doudian", data=raw, content_type="application/json").status_code == 401
    db_session.expire_all()
    assert db_session.get(Order, order.id).status == "paid"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(DoudianMessage)) == 0


def test_cancel_and_a_new_paid_order(client, make, db_session):
    booking = make.booking(starts_at=at(0, 8))
    make.order(booking, external_id="4987000000000003")
    paid_at = int((booking.starts_at + timedelta(minutes=20)).timestamp())
    answer = push(client, [
        message("106", "m-106-2", p_id="4987000000000009", s_ids=["4987000000000003"], cancel_time=paid_at),
        message("101", "m-101-1", p_id="5000", s_ids=["4987000000000004"], pay_amount=8800, pay_time=paid_at,
                create_time=paid_at, room_code=booking.room.code),
    ])
    assert answer.status_code == 200
    db_session.expire_all()
    cancelled = db_session.scalar(sa.select(Order).where(Order.external_id == "4987000000000003"))
    assert cancelled.status == "cancelled"
    new = db_session.scalar(sa.select(Order).where(Order.external_id == "4987000000000004"))
    assert (new.status, new.amount_fen, new.booking_id, new.parent_id) == ("paid", 8800, booking.id, "5000")


def test_a_malformed_push_is_a_400(client):
    assert push(client, {"tag": "101"}).status_code == 400
    assert push(client, "not a message").status_code == 400


@pytest.mark.parametrize("field, limit", [("tag", 10), ("msg_id", 128), ("s_ids", 64), ("p_id", 64),
                                          ("room_code", 32), ("author_id", 100)])
def test_a_push_text_longer_than_its_column_is_a_400_naming_the_field(client, make, db_session, field, limit):
    """A tag of 11 characters (or any kept text past its column) is refused
    before the database: 400 naming the field, nothing stored; at the limit the
    message is kept (an unknown tag stored, a new order created)."""
    booking = make.booking(starts_at=at(0, 8))
    paid_at = int((booking.starts_at + timedelta(minutes=20)).timestamp())

    def one(value, msg_id):
        fields = {"p_id": "5001", "s_ids": ["4987000000000077"], "pay_amount": 100, "pay_time": paid_at,
                  "room_code": booking.room.code}
        if field == "s_ids":
            fields["s_ids"] = [value]
        elif field not in ("tag", "msg_id"):
            fields[field] = value
        msg = message("101", msg_id, **fields)
        if field in ("tag", "msg_id"):
            msg[field] = value
        return push(client, [msg])

    answer = one("1" * (limit + 1), "m-long")
    assert answer.status_code == 400, answer.json
    assert f"{field} is longer than {limit} characters" in answer.json["error"]["message"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(DoudianMessage)) == 0
    assert one("1" * limit, "m-" + "2" * (limit - 2) if field == "msg_id" else "m-limit").status_code == 200
    db_session.expire_all()
    kept = db_session.scalar(sa.select(DoudianMessage))
    assert kept.tag == ("1" * limit if field == "tag" else "101")
    if field not in ("tag", "msg_id"):
        assert kept.result.startswith("created"), kept.result
