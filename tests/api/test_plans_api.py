"""Plans through the API (docs/api.md, docs/planner.md): POST /plans answers 202
at once and the run goes on outside the request; GET shows progress, then the
draft with a reason for every unplaced request; accept books, cancel stops."""
from __future__ import annotations

from datetime import date, time

import pytest

from opsroom import clock
from opsroom.models import BookingRequest


@pytest.fixture
def planner(app):
    """Runs submitted by the API are kept until the test runs them (one shared connection)."""
    p = app.extensions["opsroom.planner"]
    p.deferred = True
    return p


@pytest.fixture
def month(make, db_session):
    room = make.room(code="M1", open_time=time(8, 0), close_time=time(2, 0), changeover_minutes=0)
    high, low = make.tenant(name="高", priority=1), make.tenant(name="低", priority=3)
    reqs = [make._save(BookingRequest(
        tenant_id=t.id, status="pending", date=date(2026, 12, 9), room_id=room.id, window_start=time(20, 0),
        window_end=time(22, 0), minutes=120, anchors=[], note="", created_at=clock.now())) for t in (low, high)]
    db_session.commit()
    return dict(room=room, low=reqs[0], high=reqs[1])


def test_a_plan_runs_outside_the_request_then_shows_its_draft_and_is_accepted(api, planner, month):
    c = api("coordinator")
    r = c.post("/plans", json={"month": "2026-12", "time_limit_seconds": 5})
    assert r.status_code == 202 and r.json["status"] == "running"
    plan_id = r.json["id"]
    running = c.get(f"/plans/{plan_id}").json
    assert running["status"] == "running" and running["placed"] == [] and running["progress"]["placed"] == 0
    assert planner.drain() == ["done"]
    done = c.get(f"/plans/{plan_id}").json
    assert done["status"] == "done" and done["month"] == "2026-12"
    assert [(p["request_id"], p["starts_at"]) for p in done["placed"]] == [(month["high"].id,
                                                                            "2026-12-09T20:00:00+08:00")]
    (left,) = done["unplaced"]
    assert left["request_id"] == month["low"].id and left["reason"]["code"] == "taken"
    assert {"kind": "request", "id": month["high"].id} in left["reason"]["blocking"]
    assert f"#{month['high'].id}" in left["reason"]["message"]
    assert done["progress"]["gap"] == 0 and done["progress"]["bound"] >= done["progress"]["objective"]

    bad = c.post(f"/plans/{plan_id}/accept", json={"request_ids": [month["low"].id]})
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["field"] == "request_ids"
    ok = c.post(f"/plans/{plan_id}/accept")
    assert ok.status_code == 200 and ok.json == {"created": 1, "conflicts": []}
    request = c.get(f"/requests/{month['high'].id}").json
    assert request["status"] == "approved" and len(request["booking_ids"]) == 1
    again = c.post(f"/plans/{plan_id}/accept", json={"request_ids": [month["high"].id]}).json
    assert again["created"] == 0 and again["conflicts"][0]["details"][0]["code"] == "request_status"


def test_cancel_and_the_refusals(api, planner, month):
    c = api("coordinator")
    plan_id = c.post("/plans", json={"month": "2026-12"}).json["id"]
    assert c.post(f"/plans/{plan_id}/accept").status_code == 409  # no draft yet
    assert c.post(f"/plans/{plan_id}/cancel").json == {"id": plan_id, "status": "cancelled"}
    assert c.post(f"/plans/{plan_id}/cancel").status_code == 409
    assert planner.drain() == [None]  # a cancelled run is not claimed
    assert c.post("/plans", json={"month": "2026-13"}).status_code == 422
    assert c.post("/plans", json={"month": "2026-12", "time_limit_seconds": 0}).status_code == 422
    r = c.post("/plans", json={"month": "2026-12", "request_ids": [999999]})
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "request_ids"
    assert c.get("/plans/999999").status_code == 404
    for role in ("anchor", "tenant"):
        assert api(role).post("/plans", json={"month": "2026-12"}).status_code == 403
        assert api(role).get(f"/plans/{plan_id}").status_code == 403
