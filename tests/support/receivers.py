"""Real local HTTP servers that stand in for the chat robots and a webhook receiver.

Each runs ``http.server`` in a thread on 127.0.0.1 (port 0, so tests never
collide) and checks a request the way its platform does, written here
independently of ``opsroom.domain.integrations`` so a shared mistake shows:

- ``WeComRobot``: ``key`` in the query (else errcode 93000); text ≤ 2048 and
  markdown ≤ 4096 bytes (else 40058); past 20 messages a minute, 45009.
- ``DingTalkRobot``: ``access_token`` (else 300001, as DingTalk answers an
  unknown token); with a secret, ``timestamp`` (ms, within one hour) and
  ``sign`` in the query (else 310000); optional keywords (else 310000); past 20
  a minute, 130101, after which DingTalk blocks the robot for 10 minutes.
- ``FeishuRobot``: the hook token in the path (else 19001); with a secret,
  ``timestamp`` (s, within one hour) and ``sign`` in the body (else 19021); a
  body over 20 KB is a 400; past 100 a minute or 5 a second (Feishu's own
  limits; ``per_minute=20`` gives the park's), 11232.
- ``WebhookReceiver``: Standard Webhooks headers, secret ``whsec_…`` or plain,
  timestamp within 5 minutes; a bad request is a 401.

The answers to malformed messages (wrong msgtype, empty content, unknown hook
token on Feishu) use codes seen from those platforms but not all published;
tests should assert "refused", not those exact codes. The signature, size and
rate-limit answers are the documented ones.

Every receiver records what it accepted (``accepted``) and everything it saw
(``seen``), can be told to fail (``fail_next``/``fail_for`` with an HTTP status,
``throttle_next``/``throttle_for`` with its throttling answer), and takes a
``clock`` so tests can move time instead of sleeping.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.http import InThread

Answer = tuple[int, Any]  # HTTP status, JSON body (or None for an empty body)


class Clock:
    """A clock tests move by hand: ``clock.now``; ``clock.advance(seconds)``."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclasses.dataclass(frozen=True)
class Seen:
    at: float
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    status: int
    answer: Any
    reason: str  # "accepted", or why not

    def json(self) -> Any:
        return json.loads(self.body)


@dataclasses.dataclass
class _Fault:
    throttle: bool
    status: int
    remaining: int | None
    until: float | None


class Receiver:
    """A stand-in server; subclasses define ``check`` and the answers."""

    per_minute: int | None = None
    per_second: int | None = None
    penalty_seconds: float = 0.0

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.seen: list[Seen] = []
        self._faults: list[_Fault] = []
        self._blocked_until = float("-inf")
        self._lock = threading.Lock()
        self._served: InThread | None = None

    # --- lifecycle --------------------------------------------------------------

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer = receiver._receive(self.command, self.path, dict(self.headers.items()), body)
                data = b"" if answer is None else json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass  # keep test output clean

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        # A short poll interval: stop() waits for the loop to notice the shutdown.
        self._served = InThread(server, poll_interval=0.02)
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        assert self._served is not None, "receiver not started"
        return f"http://127.0.0.1:{self._served.port}"

    # --- faults -----------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer HTTP ``status`` to the next ``n`` requests."""
        with self._lock:
            self._faults.append(_Fault(False, status, n, None))

    def fail_for(self, seconds: float, status: int = 500) -> None:
        with self._lock:
            self._faults.append(_Fault(False, status, None, self.clock() + seconds))

    def throttle_next(self, n: int) -> None:
        """Answer the platform's "too fast" to the next ``n`` requests."""
        with self._lock:
            self._faults.append(_Fault(True, 200, n, None))

    def throttle_for(self, seconds: float) -> None:
        with self._lock:
            self._faults.append(_Fault(True, 200, None, self.clock() + seconds))

    # --- records ----------------------------------------------------------------

    @property
    def accepted(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.reason == "accepted"]

    def most_in_any(self, seconds: float) -> int:
        """The most messages accepted within any ``seconds`` (for rate assertions)."""
        times = sorted(s.at for s in self.accepted)
        return max((sum(1 for t in times if start <= t < start + seconds) for start in times), default=0)

    # --- the request path -------------------------------------------------------

    def _receive(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        lowered = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            now = self.clock()
            status, answer, reason = self._decide(now, method, parts.path, query, lowered, body)
            self.seen.append(Seen(now, method, parts.path, query, lowered, body, status, answer, reason))
        return status, answer

    def _decide(self, now: float, method: str, path: str, query: Mapping[str, list[str]],
                headers: Mapping[str, str], body: bytes) -> tuple[int, Any, str]:
        for fault in list(self._faults):
            if fault.until is not None and now >= fault.until:
                self._faults.remove(fault)
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            if fault.throttle:
                return (*self.too_fast(), "throttle injected")
            return fault.status, None, f"HTTP {fault.status} injected"
        if method != "POST":
            return 405, None, "not POST"
        refusal = self.check(now, path, query, headers, body)
        if refusal is not None:
            return refusal
        if now < self._blocked_until or self._over_limit(now):
            if self.penalty_seconds and now >= self._blocked_until:
                self._blocked_until = now + self.penalty_seconds
            return (*self.too_fast(), "rate limit")
        return 200, self.ok(), "accepted"

    def _over_limit(self, now: float) -> bool:
        times = [s.at for s in self.seen if s.reason == "accepted"]
        minute = self.per_minute is not None and sum(1 for t in times if t > now - 60) >= self.per_minute
        second = self.per_second is not None and sum(1 for t in times if t > now - 1) >= self.per_second
        return minute or second

    # --- per platform -----------------------------------------------------------

    def check(self, now: float, path: str, query: Mapping[str, list[str]],
              headers: Mapping[str, str], body: bytes) -> tuple[int, Any, str] | None:
        """None to accept, else (status, answer, reason)."""
        raise NotImplementedError

    def ok(self) -> Any:
        raise NotImplementedError

    def too_fast(self) -> tuple[int, Any]:
        raise NotImplementedError


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


class WeComRobot(Receiver):
    per_minute = 20

    def __init__(self, key: str = "wecom-key", **kw: Any) -> None:
        super().__init__(**kw)
        self.key = key

    @property
    def url(self) -> str:
        return f"{self.origin}/cgi-bin/webhook/send?key={self.key}"

    def ok(self) -> Any:
        return {"errcode": 0, "errmsg": "ok"}

    def too_fast(self) -> tuple[int, Any]:
        return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}

    def check(self, now, path, query, headers, body):
        if path != "/cgi-bin/webhook/send" or _one(query, "key") != self.key:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, "bad key"
        message = _json_object(body)
        kind = message.get("msgtype") if message else None
        if kind not in ("text", "markdown") or not isinstance(message.get(kind), dict):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}, "bad message"
        content = message[kind].get("content")
        if not isinstance(content, str) or not content:
            return 200, {"errcode": 44004, "errmsg": "empty content"}, "empty content"
        if len(content.encode()) > (2048 if kind == "text" else 4096):
            return 200, {"errcode": 40058, "errmsg": f"{kind}.content exceed max length"}, "too long"
        return None


class DingTalkRobot(Receiver):
    per_minute = 20
    penalty_seconds = 600.0  # "如果超过20条，会限流10分钟"

    def __init__(self, token: str = "ding-token", secret: str | None = None,
                 keywords: Sequence[str] = (), **kw: Any) -> None:
        super().__init__(**kw)
        self.token, self.secret, self.keywords = token, secret, tuple(keywords)

    @property
    def url(self) -> str:
        return f"{self.origin}/robot/send?access_token={self.token}"

    def ok(self) -> Any:
        return {"errcode": 0, "errmsg": "ok"}

    def too_fast(self) -> tuple[int, Any]:
        return 200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}

    def check(self, now, path, query, headers, body):
        if path != "/robot/send" or _one(query, "access_token") != self.token:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}, "bad token"
        if self.secret is not None:
            stamp, sign = _one(query, "timestamp"), _one(query, "sign")
            if not stamp or not stamp.isdigit() or abs(now * 1000 - int(stamp)) > 3_600_000:
                return 200, {"errcode": 310000, "errmsg": "invalid timestamp"}, "bad timestamp"
            expected = base64.b64encode(hmac.new(
                self.secret.encode(), f"{stamp}\n{self.secret}".encode(), hashlib.sha256).digest()).decode()
            if sign is None or not hmac.compare_digest(sign.encode(), expected.encode()):
                return 200, {"errcode": 310000, "errmsg": "sign not match"}, "bad sign"
        message = _json_object(body)
        kind = message.get("msgtype") if message else None
        if kind == "text" and isinstance(message.get("text"), dict):
            content = message["text"].get("content")
        elif kind == "markdown" and isinstance(message.get("markdown"), dict):
            content = message["markdown"].get("text")
            if not message["markdown"].get("title"):
                return 200, {"errcode": 40035, "errmsg": "缺少参数 markdown.title"}, "no title"
        else:
            return 200, {"errcode": 40035, "errmsg": "缺少参数 json"}, "bad message"
        if not isinstance(content, str) or not content:
            return 200, {"errcode": 40035, "errmsg": "缺少参数 content"}, "empty content"
        if self.keywords and not any(word in content for word in self.keywords):
            return 200, {"errcode": 310000, "errmsg": "keywords not in content"}, "no keyword"
        return None


class FeishuRobot(Receiver):
    per_minute = 100
    per_second = 5

    def __init__(self, token: str = "feishu-hook", secret: str | None = None,
                 per_minute: int = 100, **kw: Any) -> None:
        super().__init__(**kw)
        self.token, self.secret, self.per_minute = token, secret, per_minute

    @property
    def url(self) -> str:
        return f"{self.origin}/open-apis/bot/v2/hook/{self.token}"

    def ok(self) -> Any:
        return {"code": 0, "data": {}, "msg": "success"}

    def too_fast(self) -> tuple[int, Any]:
        return 200, {"code": 11232, "data": {}, "msg": "frequency limited"}

    def check(self, now, path, query, headers, body):
        if path != f"/open-apis/bot/v2/hook/{self.token}":
            return 200, {"code": 19001, "data": {}, "msg": "param invalid: incoming webhook access token invalid"}, "bad token"
        if len(body) > 20 * 1024:
            return 400, {"code": 9499, "data": {}, "msg": "request body too large"}, "too large"
        message = _json_object(body)
        if message is None:
            return 400, {"code": 9499, "data": {}, "msg": "Bad Request"}, "not JSON"
        if self.secret is not None:
            stamp, sign = message.get("timestamp"), message.get("sign")
            fail = 200, {"code": 19021, "data": {}, "msg": "sign match fail or timestamp is not within one hour from current time"}
            if not isinstance(stamp, str) or not stamp.isdigit() or abs(now - int(stamp)) > 3600:
                return (*fail, "bad timestamp")
            key = f"{stamp}\n{self.secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if not isinstance(sign, str) or not hmac.compare_digest(sign.encode(), expected.encode()):
                return (*fail, "bad sign")
        kind, content = message.get("msg_type"), message.get("content")
        if kind not in ("text", "post", "interactive") or not isinstance(content, dict):
            return 200, {"code": 19002, "data": {}, "msg": "params error, msg_type need"}, "bad message"
        if kind == "text" and not (isinstance(content.get("text"), str) and content["text"]):
            return 200, {"code": 19002, "data": {}, "msg": "text content empty"}, "empty content"
        return None


class WebhookReceiver(Receiver):
    """A Standard Webhooks consumer; ``per_minute`` unset (receivers have no limit)."""

    def __init__(self, secret: str, *, tolerance: int = 300, **kw: Any) -> None:
        super().__init__(**kw)
        self.secret, self.tolerance = secret, tolerance

    @property
    def url(self) -> str:
        return f"{self.origin}/hooks/opsroom"

    def ok(self) -> Any:
        return None

    def too_fast(self) -> tuple[int, Any]:
        return 429, None

    def _key(self) -> bytes:
        if self.secret.startswith("whsec_"):
            return base64.b64decode(self.secret[len("whsec_"):])
        return self.secret.encode()

    def check(self, now, path, query, headers, body):
        msg_id = headers.get("webhook-id")
        stamp = headers.get("webhook-timestamp")
        signatures = headers.get("webhook-signature")
        if not msg_id or not stamp or not signatures:
            return 401, None, "missing headers"
        if not stamp.isdigit() or abs(now - int(stamp)) > self.tolerance:
            return 401, None, "bad timestamp"
        signed = f"{msg_id}.{stamp}.".encode() + body
        expected = base64.b64encode(hmac.new(self._key(), signed, hashlib.sha256).digest())
        for candidate in signatures.split(" "):
            version, _, value = candidate.partition(",")
            try:
                given = base64.b64decode(value, validate=True)
            except binascii.Error:
                continue
            if version == "v1" and hmac.compare_digest(base64.b64encode(given), expected):
                return None
        return 401, None, "bad signature"

    def ids(self) -> list[str]:
        return [s.headers["webhook-id"] for s in self.accepted]


def post(request: Any, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send an ``robots.HttpRequest`` (url, headers, body) for real; (status, body) back."""
    http = urllib.request.Request(request.url, data=request.body, headers=dict(request.headers), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
