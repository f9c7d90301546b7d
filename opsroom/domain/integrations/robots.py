"""Notices -> the HTTP request of each chat robot; webhook requests; what a response means.

Requests (all ``POST``, JSON in UTF-8):

- WeCom (企业微信群机器人, https://developer.work.weixin.qq.com/document/path/91770):
  ``{"msgtype": "text", "text": {"content", "mentioned_mobile_list"?}}`` or
  ``{"msgtype": "markdown", "markdown": {"content"}}``; text ≤ 2048 bytes,
  markdown ≤ 4096 bytes (errcode 40058 past it). Markdown cannot mention by
  phone number, so a markdown notice with mentions is sent as text.
- DingTalk (钉钉自定义机器人, https://open.dingtalk.com/document/robots/custom-robot-access):
  ``{"msgtype": "markdown", "markdown": {"title", "text"}, "at": {"atMobiles", "isAtAll"}}``
  or ``"text"``; a mentioned number must also appear as ``@138…`` in the text
  to be highlighted. The URL is signed (``signing.dingtalk_signed_url``) when a
  secret is set. No published size limit was found: 4096 bytes are kept.
- Feishu (飞书自定义机器人, https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot):
  ``{"msg_type": "text", "content": {"text"}}``, or for markdown a rich-text
  ``post`` (title, one paragraph a line, a link), plus ``timestamp``/``sign`` when
  a secret is set; the request body ≤ 20 KB. Custom bots cannot mention by phone
  number; only ``@all`` is honoured.

User-written text (tenant names, titles, reasons) could carry markup: a link, a
``<font>`` tag, WeCom's ``<@userid>`` or Feishu's ``<at user_id="all">``. Such
characters are replaced by their full-width forms, which read the same to
people and mean nothing to the renderers.

Response codes (``classify_response``):

- WeCom: ``errcode`` 0 ok; 45009 接口调用超过限制 (throttled); 93000 invalid
  webhook URL and 40058 content too long (permanent). Codes: the page above and
  https://developer.work.weixin.qq.com/document/path/90313.
- DingTalk: ``errcode`` 0 ok; 130101 "send too fast, exceed 20 times per
  minute" (throttled; DingTalk then blocks the robot for 10 minutes); 310000
  keywords / sign / IP whitelist refused (permanent).
- Feishu: ``code`` (``StatusCode`` on old answers) 0 ok; 11232 frequency
  limited (documented on the page above), 9499 (treated as "retry later" by
  https://github.com/kubesphere/notification-manager/pull/126) and 99991400
  (https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control)
  throttled; 19021 sign match fail or timestamp not within one hour (permanent).
- Standard Webhooks receivers: 2xx ok; 410 Gone permanent (the spec: stop
  sending); 429 throttled; any other status, or no answer, is retried.
- Every platform: HTTP 429 is throttled; 5xx and 408 are retried; other non-2xx
  statuses are permanent; an unknown non-zero code is retried (the sender's
  attempt limit bounds it) and named in the message.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .messages import Notice
from .signing import dingtalk_signed_url, feishu_sign, webhook_headers

ROBOT_KINDS = ("wecom", "dingtalk", "feishu")
FORMATS = ("text", "markdown")
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
# (kind, what is measured) -> the most bytes allowed.
LIMITS = {
    ("wecom", "text"): 2048,  # text.content
    ("wecom", "markdown"): 4096,  # markdown.content
    ("dingtalk", "text"): 4096,  # text.content (no published limit; a safe bound)
    ("dingtalk", "markdown"): 4096,  # markdown.text
    ("feishu", "text"): 20_000,  # the whole body ("不能超过 20 KB")
    ("feishu", "markdown"): 20_000,
}
_CUT = "…（内容过长，请点击查看）"
_MOBILE = re.compile(r"\+?[0-9]{5,20}")
# Markup characters of the robots' markdown and mention syntaxes -> full-width look-alikes.
_MARKUP = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "*": "＊", "_": "＿",
                         "`": "｀", "#": "＃", "~": "～", "\\": "＼", "|": "｜"})
_MENTION_MARKUP = str.maketrans({"<": "＜", ">": "＞"})


@dataclasses.dataclass(frozen=True)
class HttpRequest:
    """A request to make: the sender POSTs ``body`` to ``url`` with ``headers``."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    method: str = "POST"

    def json(self) -> Any:
        return json.loads(self.body)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a response means for the delivery.

    ``ok``: delivered, done. ``retry``: try again later (``throttled``: because of
    a rate limit, so wait for the window rather than back off blindly).
    Neither: a permanent failure (bad URL, bad secret, refused content) that
    retrying cannot fix. ``retry_after``: seconds the receiver asked to wait.
    """

    ok: bool
    retry: bool
    throttled: bool
    message: str
    code: int | None = None
    retry_after: float | None = None


# --- robots --------------------------------------------------------------------


def build_robot_request(
    kind: str,
    url: str,
    notice: Notice,
    *,
    now: float,
    secret: str | None = None,
    fmt: str = "markdown",
    mentions: Sequence[str] = (),
) -> HttpRequest:
    """The request that posts ``notice`` to a robot; ``now`` is epoch seconds.

    ``mentions`` are phone numbers, or ``"@all"``. A single notice too long for
    the platform is cut (its link still leads to the whole); a digest is never
    cut: ``fits`` must have said it fits (``throttle`` checks).
    """
    _check(kind, fmt, mentions)
    payload = _fitted_payload(kind, notice, fmt, mentions)
    if kind == "dingtalk" and secret:
        url = dingtalk_signed_url(url, secret, int(now * 1000))
    if kind == "feishu" and secret:
        timestamp = int(now)
        payload = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **payload}
    return HttpRequest(url, dict(JSON_HEADERS), _encode(payload))


def fits(kind: str, notice: Notice, fmt: str = "markdown", mentions: Sequence[str] = ()) -> bool:
    """True when ``notice`` goes to this robot whole, without being cut."""
    _check(kind, fmt, mentions)
    fmt = _effective_format(kind, fmt, mentions)
    return _size(kind, fmt, _payload(kind, notice, fmt, mentions)) <= LIMITS[kind, fmt]


def _check(kind: str, fmt: str, mentions: Sequence[str]) -> None:
    if kind not in ROBOT_KINDS:
        raise ValueError(f"unknown robot kind {kind!r}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if isinstance(mentions, str):
        raise ValueError("mentions must be a list of phone numbers")
    for mention in mentions:
        if mention != "@all" and not _MOBILE.fullmatch(mention):
            raise ValueError(f"mention {mention!r} is neither a phone number nor @all")


def _effective_format(kind: str, fmt: str, mentions: Sequence[str]) -> str:
    # WeCom's markdown has no phone mentions: a mention that silently does nothing is worse.
    return "text" if kind == "wecom" and mentions else fmt


def _fitted_payload(kind: str, notice: Notice, fmt: str, mentions: Sequence[str]) -> dict[str, Any]:
    fmt = _effective_format(kind, fmt, mentions)
    limit = LIMITS[kind, fmt]
    payload = _payload(kind, notice, fmt, mentions)
    if _size(kind, fmt, payload) <= limit:
        return payload
    if notice.items:
        raise ValueError("digest too large for this robot; merge fewer notices")
    # Keep the longest prefix of the text that fits (binary search on characters).
    low, high = 0, len(notice.text)
    while low < high:
        middle = (low + high + 1) // 2
        trial = dataclasses.replace(notice, text=notice.text[:middle] + _CUT)
        if _size(kind, fmt, _payload(kind, trial, fmt, mentions)) <= limit:
            low = middle
        else:
            high = middle - 1
    payload = _payload(kind, dataclasses.replace(notice, text=notice.text[:low] + _CUT), fmt, mentions)
    if _size(kind, fmt, payload) > limit:
        raise ValueError("notice title or link alone is too large for this robot")
    return payload


def _size(kind: str, fmt: str, payload: Mapping[str, Any]) -> int:
    if kind == "feishu":
        # Room for the timestamp and sign added after fitting: 10 digits + 44 base64 + keys.
        return len(_encode(payload)) + 80
    if kind == "wecom":
        return len(payload[fmt]["content"].encode("utf-8"))
    return len((payload["text"]["content"] if fmt == "text" else payload["markdown"]["text"]).encode("utf-8"))


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _plain(notice: Notice) -> str:
    return notice.plain().translate(_MENTION_MARKUP)


def _md(text: str) -> str:
    return text.translate(_MARKUP)


def _md_link(label: str, url: str) -> str:
    return f"[{label}]({url.replace('(', '%28').replace(')', '%29').replace(' ', '%20')})"


def _md_lines(notice: Notice, *, bold: str) -> list[str]:
    """One markdown line per notice (per item for a digest), each with its own link."""
    if not notice.items:
        line = _md(notice.text) + (f" {_md_link('查看', notice.url)}" if notice.url else "")
        return [line]
    lines = [_md(notice.text)]
    for n, item in enumerate(notice.items, 1):
        link = f" {_md_link('查看', item.url)}" if item.url else ""
        lines.append(f"{n}. {bold}【{_md(item.title)}】{bold}{_md(item.text)}{link}")
    return lines


def _payload(kind: str, notice: Notice, fmt: str, mentions: Sequence[str]) -> dict[str, Any]:
    mobiles = [m for m in mentions if m != "@all"]
    at_all = "@all" in mentions
    if kind == "wecom":
        if fmt == "markdown":
            lines = [f"**{_md(notice.title)}**", *_md_lines(notice, bold="**")]
            return {"msgtype": "markdown", "markdown": {"content": "\n".join(lines)}}
        text: dict[str, Any] = {"content": _plain(notice)}
        if mentions:
            text["mentioned_mobile_list"] = list(mentions)
        return {"msgtype": "text", "text": text}
    if kind == "dingtalk":
        tags = "".join(f" @{m}" for m in mobiles)
        at = {"atMobiles": mobiles, "isAtAll": at_all}
        if fmt == "markdown":
            # DingTalk's markdown needs a blank line to break a line.
            body = "\n\n".join([f"#### {_md(notice.title)}", *_md_lines(notice, bold="**")]) + tags
            return {"msgtype": "markdown", "markdown": {"title": notice.title, "text": body}, "at": at}
        return {"msgtype": "text", "text": {"content": _plain(notice) + tags}, "at": at}
    # Feishu
    prefix = '<at user_id="all">所有人</at> ' if at_all else ""
    if fmt == "text":
        return {"msg_type": "text", "content": {"text": prefix + _plain(notice)}}
    rows: list[list[dict[str, str]]] = []
    if at_all:
        rows.append([{"tag": "at", "user_id": "all"}])
    for n, item in enumerate(notice.items or (notice,), 1):
        line = f"{n}. 【{item.title}】{item.text} " if notice.items else item.text + " "
        # Post text is literal today; neutralising "<" too costs nothing if that changes.
        row = [{"tag": "text", "text": line.translate(_MENTION_MARKUP)}]
        if item.url:
            row.append({"tag": "a", "text": "查看", "href": item.url})
        rows.append(row)
    if notice.items:
        rows.insert(0, [{"tag": "text", "text": notice.text}])
    post = {"zh_cn": {"title": notice.title.translate(_MENTION_MARKUP), "content": rows}}
    return {"msg_type": "post", "content": {"post": post}}


# --- webhooks ------------------------------------------------------------------


def webhook_body(event_type: str, occurred_at: str, data: Mapping[str, Any]) -> bytes:
    """The delivery body ``{type, timestamp, data}``, made once per event.

    Every attempt sends these same bytes; only the signature headers change.
    """
    payload = {"type": event_type, "timestamp": occurred_at, "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_webhook_request(url: str, secret: str, *, msg_id: str, body: bytes, now: float) -> HttpRequest:
    """One signed attempt: the same ``msg_id`` on every retry, a fresh timestamp."""
    headers = dict(JSON_HEADERS) | webhook_headers(secret, msg_id, int(now), body)
    return HttpRequest(url, headers, body)


# --- responses -----------------------------------------------------------------

_THROTTLED = {"wecom": {45009}, "dingtalk": {130101}, "feishu": {11232, 9499, 99991400}}
_PERMANENT = {
    "wecom": {93000: "webhook URL invalid", 40058: "content too long"},
    "dingtalk": {310000: "keyword, signature or IP whitelist refused"},
    "feishu": {19021: "signature refused or timestamp off by over an hour"},
}


def classify_response(
    kind: str,
    http_status: int | None,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> Outcome:
    """What one answer means; ``http_status`` None = no answer (timeout, refused)."""
    if kind not in (*ROBOT_KINDS, "webhook"):
        raise ValueError(f"unknown kind {kind!r}")
    retry_after = _retry_after(headers or {})
    if http_status is None:
        return Outcome(False, True, False, "no response", None, retry_after)
    if http_status == 429:
        return Outcome(False, True, True, "HTTP 429 too many requests", None, retry_after)
    if not 200 <= http_status < 300:
        if kind == "webhook" and http_status == 410:
            return Outcome(False, False, False, "HTTP 410: the receiver asked to stop", None, retry_after)
        retry = kind == "webhook" or http_status >= 500 or http_status == 408
        return Outcome(False, retry, False, f"HTTP {http_status}", None, retry_after)
    if kind == "webhook":
        return Outcome(True, False, False, f"HTTP {http_status}")
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict):
        return Outcome(False, True, False, "unreadable robot answer")
    if kind == "feishu":
        code, text = answer.get("code", answer.get("StatusCode")), answer.get("msg", answer.get("StatusMessage"))
    else:
        code, text = answer.get("errcode"), answer.get("errmsg")
    if isinstance(code, bool) or not isinstance(code, int):
        return Outcome(False, True, False, "robot answer without a code")
    detail = f"{kind} {code}: {str(text)[:200]}" if text else f"{kind} {code}"
    if code == 0:
        return Outcome(True, False, False, detail, code)
    if code in _THROTTLED[kind]:
        return Outcome(False, True, True, detail, code, retry_after)
    if code in _PERMANENT[kind]:
        return Outcome(False, False, False, f"{detail} ({_PERMANENT[kind][code]})", code)
    return Outcome(False, True, False, detail, code, retry_after)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after" and str(value).strip().isdigit():
            return float(str(value).strip())
    return None
