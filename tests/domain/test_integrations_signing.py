"""Signatures: Standard Webhooks (published vector, rotation, tolerance, tampering),
DingTalk and Feishu robot signatures, the 抖店 push signature.

Expected values not taken from the spec were computed outside Python with
``openssl dgst -sha256 -mac HMAC`` and ``openssl md5``, so a mistake shared by
this module and Python's hmac usage here would still show.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsroom.domain.integrations.signing import (
    SignatureError,
    dingtalk_sign,
    dingtalk_signed_url,
    doudian_sign,
    feishu_sign,
    generate_webhook_secret,
    verify_doudian,
    verify_webhook,
    webhook_headers,
    webhook_key,
    webhook_signature,
)

# The test vector of the Standard Webhooks reference libraries
# (standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py, test_sign_function).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def spec_headers(timestamp: int = SPEC_TS) -> dict[str, str]:
    return webhook_headers(SPEC_SECRET, SPEC_ID, timestamp, SPEC_BODY)


# --- Standard Webhooks ---------------------------------------------------------


def test_signature_matches_the_published_test_vector():
    assert webhook_signature(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE


def test_whsec_secret_is_the_base64_key_and_a_plain_secret_its_utf8_bytes():
    assert webhook_key(SPEC_SECRET) == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert webhook_key("plain-secret") == b"plain-secret"
    # The same bytes given both ways sign alike.
    raw = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert webhook_key("whsec_" + base64.b64encode(raw).decode()) == raw


def test_plain_secret_signature_equals_an_independent_computation():
    # openssl: printf 'evt_1.1700000000.{"a":1}' | openssl dgst -sha256 -mac HMAC -macopt key:s3cr3t -binary | base64
    assert webhook_signature("s3cr3t", "evt_1", 1700000000, '{"a":1}') == (
        "v1,g9ED38XPLx1Y4pKYS9j9BOPgfOlmwjJGjId2hyJlKe4="
    )


def test_headers_are_the_three_spec_headers():
    headers = spec_headers()
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TS),
        "webhook-signature": SPEC_SIGNATURE,
    }


def test_verify_accepts_a_fresh_signed_request_and_returns_its_id():
    assert verify_webhook(SPEC_SECRET, spec_headers(), SPEC_BODY, now=SPEC_TS + 10) == SPEC_ID
    # bytes and str bodies are the same body
    assert verify_webhook(SPEC_SECRET, spec_headers(), SPEC_BODY.encode(), now=SPEC_TS) == SPEC_ID


def test_verify_headers_are_case_insensitive():
    headers = {k.title(): v for k, v in spec_headers().items()}
    assert verify_webhook(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TS) == SPEC_ID


def test_verify_accepts_any_one_valid_v1_signature_among_several():
    # Key rotation: old and new signatures side by side, and an unknown scheme.
    old = webhook_signature("whsec_" + base64.b64encode(b"x" * 24).decode(), SPEC_ID, SPEC_TS, SPEC_BODY)
    headers = spec_headers()
    headers["webhook-signature"] = f"{old} v1a,AAAA {SPEC_SIGNATURE} v2,{SPEC_SIGNATURE[3:]}"
    assert verify_webhook(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TS) == SPEC_ID


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.pop("webhook-id"),
        lambda h: h.pop("webhook-timestamp"),
        lambda h: h.pop("webhook-signature"),
        lambda h: h.update({"webhook-timestamp": "hello"}),
        lambda h: h.update({"webhook-timestamp": "-1614265330"}),
        lambda h: h.update({"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="}),
        lambda h: h.update({"webhook-signature": "v2," + SPEC_SIGNATURE[3:]}),
        lambda h: h.update({"webhook-id": "msg_other"}),
        lambda h: h.update({"webhook-timestamp": str(SPEC_TS + 1)}),
    ],
    ids=["no-id", "no-timestamp", "no-signature", "timestamp-not-int", "negative-timestamp",
         "wrong-signature", "only-other-version", "id-changed", "timestamp-changed"],
)
def test_verify_refuses_missing_or_wrong_headers(change):
    headers = spec_headers()
    change(headers)
    with pytest.raises(SignatureError):
        verify_webhook(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TS)


def test_verify_refuses_a_changed_body_and_another_secret():
    with pytest.raises(SignatureError):
        verify_webhook(SPEC_SECRET, spec_headers(), SPEC_BODY + " ", now=SPEC_TS)
    with pytest.raises(SignatureError):
        verify_webhook("whsec_" + base64.b64encode(b"y" * 24).decode(), spec_headers(), SPEC_BODY, now=SPEC_TS)


def test_timestamp_tolerance_is_inclusive_and_both_ways():
    headers = spec_headers()
    for now in (SPEC_TS - 300, SPEC_TS + 300):
        assert verify_webhook(SPEC_SECRET, headers, SPEC_BODY, now=now, tolerance=300) == SPEC_ID
    for now in (SPEC_TS - 301, SPEC_TS + 301):  # too new (clock ahead) and a replay
        with pytest.raises(SignatureError, match="tolerance"):
            verify_webhook(SPEC_SECRET, headers, SPEC_BODY, now=now, tolerance=300)


def test_signing_refuses_ids_that_would_make_the_signed_string_ambiguous():
    for bad in ("", "a.b", "a b"):
        with pytest.raises(ValueError):
            webhook_signature(SPEC_SECRET, bad, SPEC_TS, SPEC_BODY)
    with pytest.raises(ValueError):
        webhook_key("whsec_not base64!")
    with pytest.raises(ValueError):
        webhook_key("")


def test_generated_secrets_are_whsec_base64_of_24_to_32_random_bytes():
    secret = generate_webhook_secret()
    assert secret.startswith("whsec_")
    assert len(webhook_key(secret)) == 32
    assert generate_webhook_secret() != secret
    fixed = generate_webhook_secret(24, token_bytes=lambda n: b"\x01" * n)
    assert webhook_key(fixed) == b"\x01" * 24
    for bad in (16, 33):
        with pytest.raises(ValueError):
            generate_webhook_secret(bad)


@given(body=st.binary(max_size=200), ts=st.integers(min_value=0, max_value=2**40))
def test_any_body_signed_verifies_and_any_flipped_byte_does_not(body, ts):
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    headers = webhook_headers(secret, "msg_1", ts, body)
    assert verify_webhook(secret, headers, body, now=ts) == "msg_1"
    if body:
        flipped = bytes([body[0] ^ 1]) + body[1:]
        with pytest.raises(SignatureError):
            verify_webhook(secret, headers, flipped, now=ts)


# --- DingTalk ------------------------------------------------------------------

# openssl: printf '1700000000000\nSECa1b2c3d4e5f6' | openssl dgst -sha256 -mac HMAC -macopt key:SECa1b2c3d4e5f6 -binary | base64
DING_SECRET = "SECa1b2c3d4e5f6"
DING_TS = 1700000000000
DING_SIGN = "oJQpdCHfADjAvXpklWV1PzUEobyTlyhOkQWGlZgxWPE="


def test_dingtalk_sign_equals_openssl():
    assert dingtalk_sign(DING_SECRET, DING_TS) == DING_SIGN


def test_dingtalk_url_keeps_access_token_and_appends_urlencoded_timestamp_and_sign():
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc123", DING_SECRET, DING_TS)
    assert url == (
        "https://oapi.dingtalk.com/robot/send?access_token=abc123"
        "&timestamp=1700000000000&sign=oJQpdCHfADjAvXpklWV1PzUEobyTlyhOkQWGlZgxWPE%3D"
    )
    query = parse_qs(urlsplit(url).query)
    assert query["sign"] == [DING_SIGN]  # decodes back to the base64 value


def test_dingtalk_url_replaces_a_stale_signature_instead_of_adding_a_second():
    once = dingtalk_signed_url("http://127.0.0.1:9/robot/send?access_token=t", DING_SECRET, DING_TS)
    again = dingtalk_signed_url(once, DING_SECRET, DING_TS + 1000)
    query = parse_qs(urlsplit(again).query)
    assert query["access_token"] == ["t"]
    assert query["timestamp"] == [str(DING_TS + 1000)]
    assert query["sign"] == [dingtalk_sign(DING_SECRET, DING_TS + 1000)]


def test_dingtalk_sign_characters_that_need_escaping_are_escaped():
    # Find a timestamp whose signature has '+' and '/', which must not reach the URL raw.
    for ts in range(DING_TS, DING_TS + 200):
        sign = dingtalk_sign(DING_SECRET, ts)
        if "+" in sign and "/" in sign:
            break
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", DING_SECRET, ts)
    raw_sign = url.rsplit("sign=", 1)[1]
    assert "+" not in raw_sign and "/" not in raw_sign and "=" not in raw_sign
    assert parse_qs(urlsplit(url).query)["sign"] == [sign]


# --- Feishu --------------------------------------------------------------------


def test_feishu_sign_equals_openssl_with_the_key_and_message_as_feishu_publishes():
    # openssl: printf '' | openssl dgst -sha256 -mac HMAC -macopt key:"$(printf '1700000000\nfeishu-secret')" -binary | base64
    assert feishu_sign("feishu-secret", 1700000000) == "OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU="


# --- 抖店 -----------------------------------------------------------------------

APP_KEY = "3409409348479354011"
APP_SECRET = "2ad2355c-01d0-11f8-91dc-05a8cd1054b1"
PUSH_BODY = b'[{"tag":"0","msg_id":"0","data":"{}"}]'
# openssl: printf '%s%s%s' KEY BODY SECRET | openssl md5
PUSH_SIGN = "356532ab10e2668eb4f1c9b6665b6864"


def test_doudian_sign_is_hex_md5_of_key_body_secret():
    assert doudian_sign(APP_KEY, PUSH_BODY, APP_SECRET) == PUSH_SIGN


def test_doudian_verify_accepts_the_right_sign_in_any_case():
    verify_doudian(APP_KEY, APP_SECRET, {"app-id": APP_KEY, "event-sign": PUSH_SIGN}, PUSH_BODY)
    verify_doudian(APP_KEY, APP_SECRET, {"App-Id": APP_KEY, "Event-Sign": PUSH_SIGN.upper()}, PUSH_BODY)


@pytest.mark.parametrize(
    "headers, body",
    [
        ({"app-id": APP_KEY}, PUSH_BODY),
        ({"event-sign": PUSH_SIGN}, PUSH_BODY),
        ({"app-id": "1234", "event-sign": PUSH_SIGN}, PUSH_BODY),
        ({"app-id": APP_KEY, "event-sign": PUSH_SIGN[:-1] + "0"}, PUSH_BODY),
        ({"app-id": APP_KEY, "event-sign": PUSH_SIGN}, PUSH_BODY.replace(b'"0"', b'"1"', 1)),
        # A re-serialised body (spaces) is another body: the sign covers raw bytes.
        ({"app-id": APP_KEY, "event-sign": PUSH_SIGN}, b'[{"tag": "0", "msg_id": "0", "data": "{}"}]'),
    ],
    ids=["no-sign", "no-app-id", "other-app", "wrong-sign", "changed-body", "reserialised-body"],
)
def test_doudian_verify_refuses(headers, body):
    with pytest.raises(SignatureError):
        verify_doudian(APP_KEY, APP_SECRET, headers, body)


def test_doudian_verify_refuses_when_not_configured():
    with pytest.raises(SignatureError, match="configured"):
        verify_doudian("", "", {"app-id": "", "event-sign": doudian_sign("", PUSH_BODY, "")}, PUSH_BODY)
