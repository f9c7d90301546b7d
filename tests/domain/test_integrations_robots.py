"""Robot requests and responses: each platform's URL, JSON and signature; mentions;
user markup neutralised; size limits (single notices cut, digests never); signed
webhook attempts; and what every response code means for the sender."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsroom.domain.integrations.messages import Notice, digest
from opsroom.domain.integrations.robots import (
    LIMITS,
    Outcome,
    build_robot_request,
    build_webhook_request,
    classify_response,
    fits,
    webhook_body,
)
from opsroom.domain.integrations.signing import verify_webhook

NOTICE = Notice("场次取消", "A101 直播间 11月22日 20:00–23:00 某某服饰《秋冬新品》已取消", "https://ops.park.cn/bookings/17")
OTHER = Notice("开播", "B2 直播间 某某美妆已开播", "https://ops.park.cn/bookings/18")
NOW = 1700000000.0


def build(kind, notice=NOTICE, **kw):
    url = {"wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1",
           "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=tok",
           "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/hook-1"}[kind]
    return build_robot_request(kind, url, notice, now=kw.pop("now", NOW), **kw)


# --- request shapes ------------------------------------------------------------


def test_wecom_markdown_and_text():
    request = build("wecom")
    assert request.method == "POST"
    assert request.url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.json() == {"msgtype": "markdown", "markdown": {"content": (
        "**场次取消**\nA101 直播间 11月22日 20:00–23:00 某某服饰《秋冬新品》已取消 [查看](https://ops.park.cn/bookings/17)")}}
    assert build("wecom", fmt="text").json() == {"msgtype": "text", "text": {"content": NOTICE.plain()}}
    # Chinese is sent as UTF-8, not \u escapes (the limits count UTF-8 bytes).
    assert "场次取消".encode() in request.body


def test_wecom_mentions_are_phone_numbers_on_a_text_message():
    body = build("wecom", mentions=["13800001111", "@all"]).json()
    # markdown cannot mention by phone number, so the notice goes as text
    assert body["msgtype"] == "text"
    assert body["text"]["mentioned_mobile_list"] == ["13800001111", "@all"]


def test_dingtalk_markdown_signed_url_and_mentions():
    request = build("dingtalk", secret="SECa1b2c3d4e5f6", mentions=["13800001111"])
    query = parse_qs(urlsplit(request.url).query)
    # Independent value (openssl) for this secret and timestamp, see test_integrations_signing.
    assert query == {"access_token": ["tok"], "timestamp": ["1700000000000"],
                     "sign": ["oJQpdCHfADjAvXpklWV1PzUEobyTlyhOkQWGlZgxWPE="]}
    body = request.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "场次取消"
    assert body["markdown"]["text"] == (
        "#### 场次取消\n\nA101 直播间 11月22日 20:00–23:00 某某服饰《秋冬新品》已取消"
        " [查看](https://ops.park.cn/bookings/17) @13800001111")
    assert body["at"] == {"atMobiles": ["13800001111"], "isAtAll": False}


def test_dingtalk_without_secret_keeps_the_url_and_text_format():
    request = build("dingtalk", fmt="text", mentions=["@all"])
    assert request.url == "https://oapi.dingtalk.com/robot/send?access_token=tok"
    assert request.json() == {"msgtype": "text", "text": {"content": NOTICE.plain()},
                              "at": {"atMobiles": [], "isAtAll": True}}


def test_feishu_text_with_signature_in_the_body():
    request = build("feishu", fmt="text", secret="feishu-secret")
    assert request.url == "https://open.feishu.cn/open-apis/bot/v2/hook/hook-1"
    # openssl value, see test_integrations_signing
    assert request.json() == {"timestamp": "1700000000", "sign": "OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU=",
                              "msg_type": "text", "content": {"text": NOTICE.plain()}}


def test_feishu_markdown_is_a_post_with_title_and_link_and_no_signature_without_secret():
    body = build("feishu").json()
    assert "sign" not in body and "timestamp" not in body
    assert body == {"msg_type": "post", "content": {"post": {"zh_cn": {"title": "场次取消", "content": [[
        {"tag": "text", "text": NOTICE.text + " "},
        {"tag": "a", "text": "查看", "href": "https://ops.park.cn/bookings/17"}]]}}}}
    at_all = build("feishu", mentions=["@all"]).json()["content"]["post"]["zh_cn"]["content"][0]
    assert at_all == [{"tag": "at", "user_id": "all"}]
    assert build("feishu", fmt="text", mentions=["@all"]).json()["content"]["text"].startswith(
        '<at user_id="all">所有人</at> ')


def test_digests_keep_every_item_with_its_own_link():
    merged = digest([NOTICE, OTHER])
    wecom = build("wecom", merged).json()["markdown"]["content"]
    assert wecom.splitlines() == [
        "**2 条通知**", "（发送频率受限，已合并）",
        "1. **【场次取消】**A101 直播间 11月22日 20:00–23:00 某某服饰《秋冬新品》已取消 [查看](https://ops.park.cn/bookings/17)",
        "2. **【开播】**B2 直播间 某某美妆已开播 [查看](https://ops.park.cn/bookings/18)",
    ]
    text = build("dingtalk", merged, fmt="text").json()["text"]["content"]
    assert text.splitlines()[1:] == ["1. " + NOTICE.plain(), "2. " + OTHER.plain()]
    rows = build("feishu", merged).json()["content"]["post"]["zh_cn"]["content"]
    assert [row[-1]["href"] for row in rows[1:]] == [NOTICE.url, OTHER.url]


@pytest.mark.parametrize("kind, fmt", [(k, f) for k in ("wecom", "dingtalk", "feishu") for f in ("text", "markdown")])
def test_user_markup_cannot_make_links_tags_or_mentions(kind, fmt):
    hostile = Notice("场次取消", '某某<@all>服饰 [点我](http://evil) <at user_id="all">x</at> **粗** <font color="warning">',
                     "https://ops.park.cn/bookings/17")
    body = build(kind, hostile, fmt=fmt).body.decode()
    assert "<@all>" not in body and "<at user_id" not in body and "<font" not in body
    if fmt == "markdown" and kind != "feishu":  # Feishu's post text is literal already
        assert "[点我](http://evil)" not in body and "**粗**" not in body
        assert "［点我］" in body


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        build_robot_request("slack", "http://x", NOTICE, now=NOW)
    with pytest.raises(ValueError):
        build("wecom", fmt="html")
    with pytest.raises(ValueError):
        build("dingtalk", mentions=["not-a-number"])
    with pytest.raises(ValueError):
        build("dingtalk", mentions="13800001111")


# --- sizes ---------------------------------------------------------------------


def _measured(kind, fmt, request):
    body = request.json()
    if kind == "feishu":
        return len(request.body)
    if kind == "wecom":
        return len(body[body["msgtype"]]["content"].encode())
    return len((body["text"]["content"] if fmt == "text" else body["markdown"]["text"]).encode())


@pytest.mark.parametrize("kind, fmt", [(k, f) for k in ("wecom", "dingtalk", "feishu") for f in ("text", "markdown")])
def test_a_long_notice_is_cut_to_the_platform_limit_and_keeps_its_link(kind, fmt):
    long = Notice("场次取消", "原因：" + "很长的说明" * 3000, "https://ops.park.cn/bookings/17")
    assert not fits(kind, long, fmt)
    request = build(kind, long, fmt=fmt, secret="s" if kind != "wecom" else None)
    assert _measured(kind, fmt, request) <= LIMITS[kind, fmt]
    assert "内容过长" in request.body.decode() and "https://ops.park.cn/bookings/17" in request.body.decode()
    # Not cut further than needed: a few more characters would not fit.
    assert _measured(kind, fmt, request) > LIMITS[kind, fmt] - 200


def test_wecom_limits_are_the_documented_bytes():
    assert LIMITS["wecom", "text"] == 2048 and LIMITS["wecom", "markdown"] == 4096
    assert LIMITS["feishu", "markdown"] <= 20 * 1024


def test_a_digest_that_does_not_fit_is_refused_not_cut():
    many = digest([Notice("场次取消", "说明" * 200, f"https://ops.park.cn/bookings/{n}") for n in range(30)])
    assert not fits("wecom", many)
    with pytest.raises(ValueError, match="digest"):
        build("wecom", many)


@settings(max_examples=60, deadline=None)
@given(text=st.text(min_size=0, max_size=3000), kind=st.sampled_from(["wecom", "dingtalk", "feishu"]),
       fmt=st.sampled_from(["text", "markdown"]))
def test_any_text_builds_a_request_within_the_limit(text, kind, fmt):
    request = build(kind, Notice("测试", text, "https://ops.park.cn/x"), fmt=fmt)
    assert _measured(kind, fmt, request) <= LIMITS[kind, fmt]
    json.loads(request.body)  # valid JSON whatever the text


# --- webhooks ------------------------------------------------------------------


def test_webhook_body_is_type_timestamp_data_and_every_attempt_signs_the_same_bytes():
    body = webhook_body("booking.cancelled", "2026-11-22T19:00:00+08:00", {"id": 17, "title": "秋冬新品"})
    assert json.loads(body) == {"type": "booking.cancelled", "timestamp": "2026-11-22T19:00:00+08:00",
                                "data": {"id": 17, "title": "秋冬新品"}}
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    first = build_webhook_request("http://127.0.0.1:1/hook", secret, msg_id="evt_17_cancel", body=body, now=NOW)
    retry = build_webhook_request("http://127.0.0.1:1/hook", secret, msg_id="evt_17_cancel", body=body, now=NOW + 90)
    assert first.body == retry.body == body
    assert first.headers["webhook-id"] == retry.headers["webhook-id"] == "evt_17_cancel"
    assert first.headers["webhook-timestamp"] == "1700000000" and retry.headers["webhook-timestamp"] == "1700000090"
    assert verify_webhook(secret, retry.headers, retry.body, now=NOW + 90) == "evt_17_cancel"
    assert first.headers["Content-Type"] == "application/json; charset=utf-8"


# --- responses -----------------------------------------------------------------


def answer(**fields) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    "kind, status, body, ok, retry, throttled",
    [
        ("wecom", 200, answer(errcode=0, errmsg="ok"), True, False, False),
        ("wecom", 200, answer(errcode=45009, errmsg="api freq out of limit"), False, True, True),
        ("wecom", 200, answer(errcode=93000, errmsg="invalid webhook url"), False, False, False),
        ("wecom", 200, answer(errcode=40058, errmsg="markdown.content exceed max length 4096"), False, False, False),
        ("wecom", 200, answer(errcode=-1, errmsg="system busy"), False, True, False),
        ("dingtalk", 200, answer(errcode=0, errmsg="ok"), True, False, False),
        ("dingtalk", 200, answer(errcode=130101, errmsg="send too fast, exceed 20 times per minute"), False, True, True),
        ("dingtalk", 200, answer(errcode=310000, errmsg="sign not match"), False, False, False),
        ("feishu", 200, answer(code=0, msg="success", data={}), True, False, False),
        ("feishu", 200, answer(StatusCode=0, StatusMessage="success"), True, False, False),
        ("feishu", 200, answer(code=11232, msg="frequency limited"), False, True, True),
        ("feishu", 200, answer(code=9499, msg="Too Many Request"), False, True, True),
        ("feishu", 400, answer(code=99991400, msg="request trigger frequency limit"), False, False, False),
        ("feishu", 200, answer(code=99991400, msg="request trigger frequency limit"), False, True, True),
        ("feishu", 200, answer(code=19021, msg="sign match fail or timestamp is not within one hour"), False, False, False),
        ("feishu", 200, answer(code=12345, msg="new"), False, True, False),
        ("wecom", 200, b"<html>gateway</html>", False, True, False),
        ("wecom", 200, answer(errmsg="no code"), False, True, False),
        ("dingtalk", 429, b"", False, True, True),
        ("dingtalk", 502, b"", False, True, False),
        ("dingtalk", 408, b"", False, True, False),
        ("feishu", 404, b"", False, False, False),
        ("wecom", None, b"", False, True, False),
        ("webhook", 204, b"", True, False, False),
        ("webhook", 200, b"not json is fine", True, False, False),
        ("webhook", 410, b"", False, False, False),
        ("webhook", 429, b"", False, True, True),
        ("webhook", 400, b"", False, True, False),
        ("webhook", 301, b"", False, True, False),
        ("webhook", 500, b"", False, True, False),
        ("webhook", None, b"", False, True, False),
    ],
)
def test_classify_response(kind, status, body, ok, retry, throttled):
    outcome = classify_response(kind, status, body)
    assert (outcome.ok, outcome.retry, outcome.throttled) == (ok, retry, throttled)
    assert outcome.message


def test_outcome_names_the_code_and_reads_retry_after():
    outcome = classify_response("dingtalk", 200, answer(errcode=130101, errmsg="send too fast"))
    assert outcome == Outcome(False, True, True, "dingtalk 130101: send too fast", 130101)
    assert classify_response("webhook", 503, b"", {"Retry-After": "120"}).retry_after == 120.0
    assert "keyword" in classify_response("dingtalk", 200, answer(errcode=310000)).message
    with pytest.raises(ValueError):
        classify_response("slack", 200, b"")
