"""Tenants' pages: an admin makes a tenant's account on the tenant's page; the
account lands on its home, which shows its own week and yesterday's sales and
nothing of other tenants; the request form shows a broken rule on its field;
tenants carry their priority and quota through the API."""
from __future__ import annotations

import sqlalchemy as sa

from opsroom.models import User
from tests.conftest import at
from tests.support.pages import csrf_from, login


def test_an_admin_makes_a_tenant_account_that_lands_on_its_home(client, make, db_session):
    tenant = make.tenant(name="西柳服装")
    admin = make.user("admin")
    login(client, admin.email)
    page = client.get(f"/tenants/{tenant.id}/edit")
    assert page.status_code == 200 and "商家账号" in page.get_data(as_text=True)
    r = client.post(f"/tenants/{tenant.id}/accounts", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "email": "Shop@XiLiu.example", "name": "刘海燕",
        "password": "a long enough password"})
    assert r.status_code == 302
    user = db_session.scalar(sa.select(User).where(User.email == "shop@xiliu.example"))
    assert (user.role, user.tenant_id) == ("tenant", tenant.id)

    tenant_client = client.application.test_client()
    r = login(tenant_client, "shop@xiliu.example", "a long enough password")
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    assert tenant_client.get("/").headers["Location"].endswith("/tenant/")


def test_the_tenant_home_shows_its_own_only(client, make):
    tenant, rival = make.tenant(name="西柳服装"), make.tenant(name="梓涵服饰")
    room = make.room(code="C301")
    mine = make.booking(room, tenant, starts_at=at(1, 19), title="羽绒服专场")
    make.booking(make.room(), rival, starts_at=at(1, 19), title="对手的专场")
    yesterday = make.booking(room, tenant, starts_at=at(-1, 19), status="ended")
    make.order(yesterday, amount_fen=12990)
    make.order(yesterday, amount_fen=5000, status="refunded")
    user = make.user("tenant", tenant_id=tenant.id)
    login(client, user.email)
    html = client.get("/tenant/").get_data(as_text=True)
    assert mine.title in html and "对手的专场" not in html and "梓涵服饰" not in html
    assert "179.90" in html  # paid and refunded orders count in GMV
    grid = client.get("/board/?date=2026-11-21")  # the staff grid: the rival's session a plain busy block
    assert grid.status_code == 200
    assert "羽绒服专场" in grid.get_data(as_text=True) and "对手的专场" not in grid.get_data(as_text=True)
    assert "梓涵服饰" not in grid.get_data(as_text=True)
    board = client.get("/tenant/board?day=2026-11-21").get_data(as_text=True)
    assert "羽绒服专场" in board and "对手的专场" not in board and "梓涵服饰" not in board
    assert "19:00–21:30" in board  # the rival's session as busy time (its changeover included)


def test_the_request_form_shows_a_broken_rule_on_its_field(client, make):
    tenant = make.tenant()
    make.room(code="C302")
    user = make.user("tenant", tenant_id=tenant.id)
    login(client, user.email)
    page = client.get("/requests/new")
    r = client.post("/requests/new", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "room_id": "0", "room_kind": "", "zone": "",
        "day": "2026-11-21", "window_start": "19:00", "window_end": "20:00", "minutes": "120", "note": ""})
    assert r.status_code == 422
    assert "时长须在时间窗之内。" in r.get_data(as_text=True)  # the park speaks Chinese by default


def test_tenants_carry_priority_and_quota(api):
    coordinator = api("coordinator")
    r = coordinator.post("/tenants", json={"name": "玉德坊", "priority": 1, "prime_quota_hours_per_week": 12})
    assert r.status_code == 201 and (r.json["priority"], r.json["prime_quota_hours_per_week"]) == (1, 12)
    assert coordinator.patch(f"/tenants/{r.json['id']}", json={"priority": 4}).status_code == 422
    r = coordinator.patch(f"/tenants/{r.json['id']}", json={"prime_quota_hours_per_week": None})
    assert r.status_code == 200 and r.json["prime_quota_hours_per_week"] is None and r.json["priority"] == 1
