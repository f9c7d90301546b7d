"""The month planner's pages (docs/planner.md): a run started from the page,
its draft reviewed (placed with accept and pin, unplaced with the reason and the
nearest free places), accepted in part, pinned and re-run; the draft hatched on
the booking board apart from booked sessions."""
from __future__ import annotations

from datetime import date, time

import pytest

from opsroom import clock
from opsroom.models import BookingRequest, Plan
from tests.support.pages import assert_no_inline_code


@pytest.fixture
def world(make, db_session):
    room = make.room(code="PL1", open_time=time(8, 0), close_time=time(2, 0), changeover_minutes=0)
    high, low = make.tenant(name="高优先", priority=1), make.tenant(name="低优先", priority=3)
    reqs = {}
    for name, t, day in (("high", high, 9), ("low", low, 9), ("other", low, 10)):
        reqs[name] = make._save(BookingRequest(
            tenant_id=t.id, status="pending", date=date(2026, 12, day), room_id=room.id, window_start=time(20),
            window_end=time(22), minutes=120, anchors=[], note="", created_at=clock.now()))
    user = make.user("coordinator")
    db_session.commit()
    return dict(room=room, user=user, **reqs)


def test_a_coordinator_plans_reviews_accepts_in_part_and_reruns(app, client, auth, world, db_session):
    auth.login(world["user"].email)
    page = client.get("/plans/")
    assert page.status_code == 200 and 'name="month"' in page.get_data(as_text=True)
    assert_no_inline_code(page.get_data(as_text=True), "/plans/")
    token = auth.csrf("/plans/")
    r = client.post("/plans/", data={"csrf_token": token, "month": "2026-12", "time_limit_seconds": "5"})
    assert r.status_code == 302
    plan_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    running = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert 'data-status="running"' in running and "plan-bar" in running
    assert client.get(f"/plans/{plan_id}/status").json["status"] == "running"
    assert app.extensions["opsroom.planner"].drain() == ["done"]

    html = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert_no_inline_code(html, "/plans/<id>")
    assert f'name="request_id" value="{world["high"].id}"' in html
    assert f'name="pin" value="{world["high"].id}@2026-12-09"' in html
    assert f'data-code="taken"' in html and f"#{world['high'].id}" in html  # the low one: who holds its time
    board = client.get(f"/board/?date=2026-12-09&plan={plan_id}").get_data(as_text=True)
    assert f'class="draft gs-81 ge-89" title="草案：申请 #{world["high"].id}"' in board  # 20:00–22:00
    assert client.get("/board/?date=2026-12-09&plan=x").status_code == 400
    assert client.get("/board/?date=2026-12-09&plan=999999").status_code == 404

    r = client.post(f"/plans/{plan_id}/accept", data={"csrf_token": token, "request_id": str(world["high"].id)})
    assert r.status_code == 302
    db_session.expire_all()
    assert db_session.get(BookingRequest, world["high"].id).status == "approved"
    assert db_session.get(BookingRequest, world["other"].id).status == "pending"
    board = client.get(f"/board/?date=2026-12-09&plan={plan_id}").get_data(as_text=True)
    assert 'class="draft' not in board  # accepted: now a booking

    r = client.post(f"/plans/{plan_id}/rerun", data={"csrf_token": token,
                                                      "pin": f"{world['other'].id}@2026-12-10"})
    assert r.status_code == 302
    again = db_session.get(Plan, int(r.headers["Location"].rstrip("/").split("/")[-1]))
    assert again.based_on_id == plan_id and [p["request_id"] for p in again.pins] == [world["other"].id]
    assert app.extensions["opsroom.planner"].drain() == ["done"]
    html = client.get(f"/plans/{again.id}").get_data(as_text=True)
    db_session.expire_all()
    assert f'name="pin" value="{world["other"].id}@2026-12-10"' not in html and "已固定" in html  # pinned
    # The low-priority request's reason now names the booking made for the high one.
    assert 'data-code="taken"' in html


def test_the_plan_pages_refuse_bad_input(client, auth, world):
    auth.login(world["user"].email)
    token = auth.csrf("/plans/")
    r = client.post("/plans/", data={"csrf_token": token, "month": "2026-13"}, follow_redirects=True)
    assert "请选择月份。" in r.get_data(as_text=True)
    r = client.post("/plans/", data={"csrf_token": token, "month": "2026-12", "time_limit_seconds": "9999"},
                    follow_redirects=True)
    assert "应在 1 到 600 秒之间。" in r.get_data(as_text=True)
    assert client.post("/plans/", data={"month": "2026-12"}).status_code == 400  # no CSRF token
