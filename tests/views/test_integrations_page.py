"""The admins' integrations page: robots and webhooks are drawn by one macro,
each as a section with its table (or a line saying there is none), the row's
test and remove buttons, and its add form folded away, unfolded when that
form comes back with errors (the other stays folded)."""
from __future__ import annotations

import re

from opsroom.services.integrations import targets
from tests.support.pages import assert_no_inline_code, csrf_from, login

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def sections(html: str) -> dict[str, str]:
    return dict(re.findall(r'<section aria-labelledby="(\w+)-h">(.*?)</section>', html, re.S))


def test_robots_and_webhooks_are_drawn_alike(client, make, db_session):
    admin = make.user("admin")
    login(client, admin.email)
    html = client.get("/admin/integrations").get_data(as_text=True)
    empty = sections(html)
    assert set(empty) == {"robots", "webhooks"}
    for part in empty.values():  # no table, a line saying so, the add form folded
        assert "<table" not in part and '<p class="muted">' in part and re.search(r"<details\s*>", part)

    robot = targets.create_robot(db_session, admin, {"kind": "wecom", "name": "运营群",
                                                     "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
                                                     "secret": "", "events": ["booking.created"]})
    hook = targets.create_webhook(db_session, admin, {"url": "https://erp.example.com/hooks", "secret": SECRET,
                                                      "events": ["booking.created"]})
    db_session.commit()
    html = client.get("/admin/integrations").get_data(as_text=True)
    assert_no_inline_code(html, "/admin/integrations")
    shown = sections(html)
    for key, target in (("robots", robot), ("webhooks", hook)):
        part = shown[key]
        assert part.count("<table") == 1 and part.count("<tr>") == 2  # the head and one row
        assert part.count("<th>") == (5 if key == "robots" else 3)  # robots: platform, name, events, state
        for action in ("test", "delete"):
            assert f'action="/admin/integrations/{key}/{target.id}/{action}"' in part, (key, action)
        assert (robot.name if key == "robots" else hook.url) in part
        assert re.search(r"<details\s*>", part) and f'action="/admin/integrations/{key}"' in part

    # A robot refused on its field: its form comes back unfolded; the webhook's stays folded.
    r = client.post("/admin/integrations/robots", data={"csrf_token": csrf_from(html), "kind": "wecom",
                                                        "url": "not a url", "events": ["booking.created"]})
    assert r.status_code == 422
    back = sections(r.get_data(as_text=True))
    assert re.search(r"<details open\s*>", back["robots"]) and not re.search(r"<details open", back["webhooks"])
    assert 'class="field has-error"' in back["robots"]
