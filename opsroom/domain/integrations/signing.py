"""Signatures of outbound webhooks, chat robots and the 抖店 push.

Rules:

- Standard Webhooks (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
  headers ``webhook-id``, ``webhook-timestamp`` (integer seconds) and
  ``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``.
  A secret written ``whsec_<base64>`` is the key's bytes; any other secret is
  used as its UTF-8 bytes. The header may carry several space-separated
  signatures (key rotation); one valid ``v1`` signature is enough. Verification
  compares in constant time and refuses a timestamp further than ``tolerance``
  seconds from now, either way (replays, and clocks far ahead).
- DingTalk custom robot (加签): ``sign = urlencode(base64(HMAC-SHA256(key=secret,
  msg="{timestamp_ms}\\n{secret}")))`` and ``timestamp`` (milliseconds) are added
  to the webhook URL's query; DingTalk refuses a timestamp more than an hour off.
- Feishu custom bot (签名校验): ``sign = base64(HMAC-SHA256(key="{timestamp}\\n{secret}",
  msg=b""))`` with ``timestamp`` in seconds, both placed in the JSON body. The
  key and message are the other way round from DingTalk's: that is Feishu's
  published algorithm, not a mistake here.
- WeCom group robot: no signature; the credential is the ``key`` in the URL.
- 抖店 push: header ``event-sign`` = hex ``md5(app_key + raw_body + app_secret)``
  over the raw bytes (never a re-serialised body), compared case-insensitively in
  constant time, and header ``app-id`` must equal the app key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from urllib.parse import quote_plus, urlsplit, urlunsplit

WEBHOOK_SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 5 * 60
# The spec asks for at least 24 random bytes; 32 is the generator's default.
MIN_SECRET_BYTES = 24
MAX_GENERATED_SECRET_BYTES = 32


class SignatureError(ValueError):
    """A request whose signature, timestamp or sender header does not check out.

    The message says which part failed, for the log; a route answers 401 and
    does not echo it.
    """


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # HTTP header names are case-insensitive; callers pass plain dicts or WSGI headers.
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


# --- Standard Webhooks ---------------------------------------------------------


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a webhook secret: the decoded bytes of ``whsec_<base64>``,
    else the UTF-8 bytes of the secret as written."""
    if not secret:
        raise ValueError("webhook secret is empty")
    if secret.startswith(WEBHOOK_SECRET_PREFIX):
        try:
            key = base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX):], validate=True)
        except binascii.Error as exc:
            raise ValueError("whsec_ secret is not valid base64") from exc
        if not key:
            raise ValueError("whsec_ secret decodes to no bytes")
        return key
    return secret.encode("utf-8")


def generate_webhook_secret(
    nbytes: int = MAX_GENERATED_SECRET_BYTES,
    *,
    token_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> str:
    """A new secret ``whsec_`` + base64 of ``nbytes`` (24–32) random bytes."""
    if not MIN_SECRET_BYTES <= nbytes <= MAX_GENERATED_SECRET_BYTES:
        raise ValueError(f"nbytes must be {MIN_SECRET_BYTES}..{MAX_GENERATED_SECRET_BYTES}")
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(token_bytes(nbytes)).decode("ascii")


def webhook_signature(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """``v1,<base64 signature>`` of one delivery attempt."""
    if not msg_id or "." in msg_id or any(ch.isspace() for ch in msg_id):
        # A "." would let "{id}.{ts}" be split two ways; the spec forbids it.
        raise ValueError("webhook id must be non-empty, without '.' or spaces")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("webhook timestamp must be a non-negative int (seconds)")
    signed = f"{msg_id}.{timestamp}.".encode("ascii") + _as_bytes(body)
    digest = hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt (``timestamp`` = now, seconds).

    Every retry of one event keeps ``msg_id`` and takes a fresh ``timestamp``,
    so the receiver can de-duplicate while the signature stays fresh.
    """
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(secret, msg_id, timestamp, body),
    }


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Check a Standard Webhooks request; returns its ``webhook-id``.

    Raises ``SignatureError`` naming the first thing missing or wrong.
    """
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id or stamp is None or not signatures:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    stamp = stamp.strip()
    if not stamp.isascii() or not stamp.isdigit():
        raise SignatureError("webhook-timestamp is not an integer")
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        raise SignatureError("webhook-timestamp outside the tolerance")
    try:
        expected = webhook_signature(secret, msg_id, timestamp, body).split(",", 1)[1]
    except ValueError as exc:
        raise SignatureError(str(exc)) from exc
    matched = False
    for item in signatures.split():
        version, _, value = item.partition(",")
        # Keep looping after a match: the time taken must not depend on its position.
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            matched = True
    if not matched:
        raise SignatureError("no valid v1 signature")
    return msg_id


# --- DingTalk ------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64 HMAC-SHA256(key=secret, msg="{timestamp_ms}\\n{secret}"), not yet URL-encoded."""
    message = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The webhook URL with ``&timestamp=…&sign=…`` appended.

    The existing query (``access_token``) is kept byte for byte; a stale
    ``timestamp`` or ``sign`` already in it is replaced, never duplicated.
    """
    parts = urlsplit(url)
    kept = [
        piece for piece in parts.query.split("&")
        if piece and piece.split("=", 1)[0] not in ("timestamp", "sign")
    ]
    kept += [f"timestamp={timestamp_ms}", "sign=" + quote_plus(dingtalk_sign(secret, timestamp_ms))]
    return urlunsplit(parts._replace(query="&".join(kept)))


# --- Feishu --------------------------------------------------------------------


def feishu_sign(secret: str, timestamp: int) -> str:
    """base64 HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b"") with ``timestamp`` in seconds."""
    key = f"{timestamp}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


# --- 抖店 -----------------------------------------------------------------------


def doudian_sign(app_key: str, body: bytes | str, app_secret: str) -> str:
    """Hex md5 of app_key + raw body + app_secret (lower case)."""
    data = app_key.encode("utf-8") + _as_bytes(body) + app_secret.encode("utf-8")
    # md5 is 抖店's choice for this header, not ours; it is not used for anything else.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def verify_doudian(app_key: str, app_secret: str, headers: Mapping[str, str], body: bytes | str) -> None:
    """Check the ``app-id`` and ``event-sign`` headers of a push; raises ``SignatureError``."""
    if not app_key or not app_secret:
        raise SignatureError("抖店 app key or secret not configured")
    app_id = _header(headers, "app-id")
    sign = _header(headers, "event-sign")
    if not app_id or not sign:
        raise SignatureError("missing app-id or event-sign")
    same_app = hmac.compare_digest(app_id.strip().encode(), app_key.encode())
    expected = doudian_sign(app_key, body, app_secret)
    same_sign = hmac.compare_digest(sign.strip().lower().encode(), expected.encode())
    if not same_app:
        raise SignatureError("app-id is not this app's key")
    if not same_sign:
        raise SignatureError("event-sign does not match")
