"""The stand-in receivers accept what robots.py and signing.py build, over real
HTTP on 127.0.0.1, and refuse it wrongly signed, stale, oversized or too fast;
their injected failures and rate limits answer what classify_response expects."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from opsroom.domain.integrations.messages import Notice, notice_for
from opsroom.domain.integrations.robots import (
    HttpRequest,
    build_robot_request,
    build_webhook_request,
    classify_response,
    webhook_body,
)
from opsroom.domain.integrations.signing import (
    dingtalk_sign,
    generate_webhook_secret,
    webhook_signature,
)
from opsroom.domain.integrations.throttle import plan
from tests.support.receivers import (
    Clock,
    DingTalkRobot,
    FeishuRobot,
    WebhookReceiver,
    WeComRobot,
    post,
)

BOOKING = {"id": 17, "room_code": "A101", "tenant": "某某服饰", "title": "秋冬新品",
           "starts_at": "2026-11-22T20:00:00+08:00", "ends_at": "2026-11-22T23:00:00+08:00"}
NOTICE = notice_for("booking.cancelled", BOOKING | {"reason": "商家调整"}, base_url="http://ops.local")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def wecom(clock):
    with WeComRobot(clock=clock) as robot:
        yield robot


@pytest.fixture
def dingtalk(clock):
    with DingTalkRobot(secret="SECa1b2c3d4e5f6", clock=clock) as robot:
        yield robot


@pytest.fixture
def feishu(clock):
    with FeishuRobot(secret="feishu-secret", clock=clock) as robot:
        yield robot


def send(kind, robot, clock, notice=NOTICE, **kw):
    request = build_robot_request(kind, robot.url, notice, now=kw.pop("now", clock.now), **kw)
    status, body = post(request)
    return classify_response(kind, status, body), request


# --- accepted when right, refused when wrong -----------------------------------


@pytest.mark.parametrize("fmt", ["markdown", "text"])
def test_wecom_accepts_a_built_message_and_records_it(wecom, clock, fmt):
    outcome, request = send("wecom", wecom, clock, fmt=fmt)
    assert outcome.ok
    (seen,) = wecom.accepted
    assert seen.json() == request.json() and seen.query == {"key": ["wecom-key"]}


def test_wecom_refuses_another_key_and_an_oversized_markdown(wecom, clock):
    wrong = build_robot_request("wecom", wecom.url.replace("wecom-key", "other"), NOTICE, now=clock.now)
    outcome = classify_response("wecom", *post(wrong))
    assert not outcome.ok and not outcome.retry and outcome.code == 93000
    big = {"msgtype": "markdown", "markdown": {"content": "长" * 1400}}  # 4200 bytes
    oversized = HttpRequest(wecom.url, {"Content-Type": "application/json"}, json.dumps(big).encode())
    outcome = classify_response("wecom", *post(oversized))
    assert outcome.code == 40058 and not outcome.retry
    assert wecom.accepted == []


@pytest.mark.parametrize("fmt", ["markdown", "text"])
def test_dingtalk_accepts_a_signed_message(dingtalk, clock, fmt):
    outcome, request = send("dingtalk", dingtalk, clock, secret="SECa1b2c3d4e5f6", fmt=fmt, mentions=["13800001111"])
    assert outcome.ok
    (seen,) = dingtalk.accepted
    assert seen.json() == request.json()
    assert seen.query["access_token"] == ["ding-token"]


@pytest.mark.parametrize(
    "secret, now_shift",
    [("SECwrong", 0), (None, 0), ("SECa1b2c3d4e5f6", -3601), ("SECa1b2c3d4e5f6", 3601)],
    ids=["wrong-secret", "unsigned", "an-hour-old", "an-hour-ahead"],
)
def test_dingtalk_refuses_wrong_missing_or_stale_signatures(dingtalk, clock, secret, now_shift):
    outcome, _ = send("dingtalk", dingtalk, clock, secret=secret, now=clock.now + now_shift)
    assert not outcome.ok and outcome.code == 310000 and not outcome.retry
    assert dingtalk.accepted == []


def test_dingtalk_refuses_a_sign_that_was_not_url_encoded(dingtalk, clock):
    # A '+' sent raw decodes to a space on the platform: the encoding is not optional.
    stamp = int(clock.now * 1000)
    while "+" not in dingtalk_sign("SECa1b2c3d4e5f6", stamp):
        stamp += 1
    sign = dingtalk_sign("SECa1b2c3d4e5f6", stamp)
    body = build_robot_request("dingtalk", dingtalk.url, NOTICE, now=clock.now).body
    raw = HttpRequest(f"{dingtalk.url}&timestamp={stamp}&sign={sign}", {"Content-Type": "application/json"}, body)
    assert classify_response("dingtalk", *post(raw)).code == 310000
    encoded = HttpRequest(f"{dingtalk.url}&timestamp={stamp}&sign={quote(sign, safe='')}", raw.headers, body)
    assert classify_response("dingtalk", *post(encoded)).ok


def test_dingtalk_keywords(clock):
    with DingTalkRobot(keywords=("opsroom",), clock=clock) as robot:
        outcome, _ = send("dingtalk", robot, clock)
        assert outcome.code == 310000 and "keywords" in outcome.message
        ok, _ = send("dingtalk", robot, clock, notice=Notice("opsroom 通知", "测试", None))
        assert ok.ok


@pytest.mark.parametrize("fmt", ["markdown", "text"])
def test_feishu_accepts_a_signed_message(feishu, clock, fmt):
    outcome, request = send("feishu", feishu, clock, secret="feishu-secret", fmt=fmt)
    assert outcome.ok
    (seen,) = feishu.accepted
    assert seen.json() == request.json() and seen.json()["timestamp"] == str(int(clock.now))


@pytest.mark.parametrize(
    "secret, now_shift",
    [("wrong", 0), (None, 0), ("feishu-secret", -3601)],
    ids=["wrong-secret", "unsigned", "an-hour-old"],
)
def test_feishu_refuses_wrong_missing_or_stale_signatures(feishu, clock, secret, now_shift):
    outcome, _ = send("feishu", feishu, clock, secret=secret, now=clock.now + now_shift)
    assert outcome.code == 19021 and not outcome.retry
    assert feishu.accepted == []


def test_feishu_refuses_a_body_over_20_kb(clock):
    with FeishuRobot(clock=clock) as robot:
        big = json.dumps({"msg_type": "text", "content": {"text": "x" * 21_000}}).encode()
        status, _ = post(HttpRequest(robot.url, {"Content-Type": "application/json"}, big))
        assert status == 400 and robot.accepted == []


# --- webhooks ------------------------------------------------------------------


@pytest.fixture
def hook_secret():
    return generate_webhook_secret()


@pytest.fixture
def hook(clock, hook_secret):
    with WebhookReceiver(hook_secret, clock=clock) as receiver:
        yield receiver


def test_webhook_receiver_accepts_a_signed_delivery_and_its_retry(hook, clock, hook_secret):
    body = webhook_body("booking.cancelled", "2026-11-22T19:00:00+08:00", BOOKING)
    first = build_webhook_request(hook.url, hook_secret, msg_id="evt_1", body=body, now=clock.now)
    assert classify_response("webhook", *post(first)).ok
    clock.advance(90)
    retry = build_webhook_request(hook.url, hook_secret, msg_id="evt_1", body=body, now=clock.now)
    assert classify_response("webhook", *post(retry)).ok
    assert hook.ids() == ["evt_1", "evt_1"]  # same id: the receiver can de-duplicate
    assert hook.accepted[0].json()["data"]["title"] == "秋冬新品"


def test_webhook_receiver_accepts_a_plain_secret_and_rotation(clock):
    with WebhookReceiver("plain-secret", clock=clock) as receiver:
        request = build_webhook_request(receiver.url, "plain-secret", msg_id="evt_2", body=b"{}", now=clock.now)
        old = webhook_signature("older-secret", "evt_2", int(clock.now), b"{}")
        rotated = HttpRequest(request.url, dict(request.headers) | {
            "webhook-signature": f"{old} {request.headers['webhook-signature']}"}, request.body)
        assert post(rotated)[0] == 200


@pytest.mark.parametrize("tamper", ["secret", "body", "stale", "id", "no-signature"])
def test_webhook_receiver_refuses_what_does_not_verify(hook, clock, hook_secret, tamper):
    secret = "whsec_" + base64.b64encode(b"z" * 32).decode() if tamper == "secret" else hook_secret
    now = clock.now - 301 if tamper == "stale" else clock.now
    request = build_webhook_request(hook.url, secret, msg_id="evt_3", body=b'{"a":1}', now=now)
    headers, body = dict(request.headers), request.body
    if tamper == "body":
        body = b'{"a":2}'
    if tamper == "id":
        headers["webhook-id"] = "evt_4"
    if tamper == "no-signature":
        del headers["webhook-signature"]
    status, _ = post(HttpRequest(request.url, headers, body))
    assert status == 401
    outcome = classify_response("webhook", status, b"")
    assert outcome.retry and not outcome.ok  # a receiver's 4xx other than 410 is retried
    assert hook.accepted == []


# --- injected failures and rate limits -----------------------------------------


def test_fail_next_answers_the_status_then_recovers(wecom, clock):
    wecom.fail_next(2, status=502)
    outcomes = [send("wecom", wecom, clock)[0] for _ in range(3)]
    assert [(o.ok, o.retry) for o in outcomes] == [(False, True), (False, True), (True, False)]
    assert len(wecom.accepted) == 1 and len(wecom.seen) == 3


def test_fail_for_lasts_the_given_time(hook, clock, hook_secret):
    hook.fail_for(30, status=503)
    request = lambda: build_webhook_request(hook.url, hook_secret, msg_id="evt_5", body=b"{}", now=clock.now)
    assert post(request())[0] == 503
    clock.advance(29)
    assert post(request())[0] == 503
    clock.advance(1)
    assert post(request())[0] == 200


@pytest.mark.parametrize("kind, robot_class, code", [
    ("wecom", WeComRobot, 45009), ("dingtalk", DingTalkRobot, 130101), ("feishu", FeishuRobot, 11232)])
def test_injected_throttling_is_the_platforms_own_answer(clock, kind, robot_class, code):
    with robot_class(clock=clock) as robot:
        robot.throttle_next(1)
        throttled, _ = send(kind, robot, clock)
        assert throttled.throttled and throttled.retry and throttled.code == code
        assert send(kind, robot, clock)[0].ok
        robot.throttle_for(10)
        assert send(kind, robot, clock)[0].throttled
        clock.advance(10)
        assert send(kind, robot, clock)[0].ok


def test_wecom_allows_twenty_a_minute(wecom, clock):
    for _ in range(20):
        assert send("wecom", wecom, clock)[0].ok
        clock.advance(1)
    assert send("wecom", wecom, clock)[0].code == 45009
    clock.advance(40.001)  # the first send leaves the minute
    assert send("wecom", wecom, clock)[0].ok
    assert wecom.most_in_any(60) == 20


def test_dingtalk_past_twenty_blocks_the_robot_for_ten_minutes(dingtalk, clock):
    for _ in range(20):
        assert send("dingtalk", dingtalk, clock, secret="SECa1b2c3d4e5f6")[0].ok
    assert send("dingtalk", dingtalk, clock, secret="SECa1b2c3d4e5f6")[0].code == 130101
    clock.advance(61)
    assert send("dingtalk", dingtalk, clock, secret="SECa1b2c3d4e5f6")[0].code == 130101
    clock.advance(540)
    assert send("dingtalk", dingtalk, clock, secret="SECa1b2c3d4e5f6")[0].ok


def test_feishu_allows_five_a_second(feishu, clock):
    for _ in range(5):
        assert send("feishu", feishu, clock, secret="feishu-secret")[0].ok
    assert send("feishu", feishu, clock, secret="feishu-secret")[0].code == 11232
    clock.advance(1)
    assert send("feishu", feishu, clock, secret="feishu-secret")[0].ok


def test_a_burst_planned_by_throttle_never_trips_the_limit_and_loses_nothing(dingtalk, clock):
    queue = [Notice("开播", f"B{n} 直播间已开播", f"http://ops.local/bookings/{n}") for n in range(45)]
    sent_at: list[float] = []
    delivered: list[Notice] = []
    while queue:
        decision = plan("dingtalk", sent_at, queue, now=clock.now)
        if decision.take:
            outcome, _ = send("dingtalk", dingtalk, clock, notice=decision.notice, secret="SECa1b2c3d4e5f6")
            assert outcome.ok, outcome.message
            sent_at.append(clock.now)
            delivered.extend(decision.notice.items or (decision.notice,))
            del queue[: decision.take]
        if decision.next_at is not None:
            clock.now = max(clock.now, decision.next_at)
    assert [n.url for n in delivered] == [f"http://ops.local/bookings/{n}" for n in range(45)]
    assert dingtalk.most_in_any(60) <= 20
    assert all(s.reason == "accepted" for s in dingtalk.seen)
