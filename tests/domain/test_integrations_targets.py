"""Where a robot may point: an admin anywhere over http(s); a tenant's robot only
at its platform's own robot host over https (so a tenant cannot make opsroom
call into the park's network)."""
from __future__ import annotations

import pytest

from opsroom.domain.integrations.targets import url_problem

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"


@pytest.mark.parametrize("url, kind, platform_only, problem", [
    (WECOM, "wecom", True, None),
    ("https://oapi.dingtalk.com/robot/send?access_token=x", "dingtalk", True, None),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/x", "feishu", True, None),
    ("https://open.larksuite.com/open-apis/bot/v2/hook/x", "feishu", True, None),
    ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "wecom", True, "platform"),  # not https
    ("https://oapi.dingtalk.com/robot/send", "wecom", True, "platform"),  # another platform's host
    ("https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send", "wecom", True, "platform"),
    ("https://qyapi.weixin.qq.com.evil.example/x", "wecom", True, "platform"),
    ("http://10.0.0.5:8080/erp/hook", "wecom", True, "platform"),
    ("http://10.0.0.5:8080/erp/hook", "wecom", False, None),  # an admin: the park's intranet is fine
    ("http://127.0.0.1:9/robot", None, False, None),
    ("ftp://example.com/x", None, False, "scheme"),
    ("javascript:alert(1)", None, False, "scheme"),
    ("https://user:pw@example.com/x", None, False, "host"),
    ("https:///nohost", None, False, "host"),
    ("https://example.com:99999/x", None, False, "host"),
    ("https://exa mple.com/x", None, False, "host"),
    ("https://\x12bad.example/x", None, False, "host"),
    ("https://bücher.example/x", None, False, "host"),
])
def test_url_problem(url, kind, platform_only, problem):
    assert url_problem(url, kind=kind, platform_only=platform_only) == problem
