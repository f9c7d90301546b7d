"""Where a robot or webhook may point, by who makes it (docs/api.md, Integrations).

An admin's target may be any http(s) URL (parks run on intranets; tests use
local receivers). A tenant's robot may point only at its platform's own robot
host over https, so a tenant cannot make opsroom call into the park's network.
"""
from __future__ import annotations

from urllib.parse import urlsplit

# The hosts of each platform's group-robot webhooks.
PLATFORM_HOSTS = {
    "wecom": ("qyapi.weixin.qq.com",),
    "dingtalk": ("oapi.dingtalk.com",),
    "feishu": ("open.feishu.cn", "open.larksuite.com"),
}
MAX_URL = 500


def url_problem(url: str, *, kind: str | None, platform_only: bool) -> str | None:
    """None when `url` is an acceptable target, else a short reason (English, for
    the caller to translate by its code): "scheme", "host", "platform"."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return "host"
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        return "scheme" if parts.scheme not in ("http", "https") else "host"
    # Printable ASCII only (an international host is given in its xn-- form): no
    # space, control character or look-alike reaches the HTTP client.
    if not all("!" <= ch <= "~" for ch in url) or parts.username or parts.password:
        return "host"
    if platform_only:
        hosts = PLATFORM_HOSTS.get(kind or "", ())
        if parts.scheme != "https" or parts.hostname.lower() not in hosts or port not in (None, 443):
            return "platform"
    return None
