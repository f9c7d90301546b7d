"""The tenant form carries the 简称 (short name): saved and shown in the list,
too long is the form again with the field's message."""
from __future__ import annotations

from opsroom.models import Tenant


def test_the_tenant_form_saves_a_short_name_and_refuses_a_long_one(client, auth, make, db_session):
    auth.login(make.user("coordinator", locale="en").email)
    r = client.post("/tenants/new", data={"csrf_token": auth.csrf("/tenants/new"), "name": "海城市西柳服装有限公司",
                                          "short_name": "西柳服装", "status": "active"})
    assert r.status_code == 302
    tenant = db_session.query(Tenant).filter_by(name="海城市西柳服装有限公司").one()
    assert tenant.short_name == "西柳服装"
    assert "<td>西柳服装</td>" in client.get("/tenants/").get_data(as_text=True)

    r = client.post(f"/tenants/{tenant.id}/edit", data={"csrf_token": auth.csrf("/tenants/new"),
                                                        "name": tenant.name, "short_name": "一" * 17, "status": "active"})
    assert r.status_code == 422
    assert "Field cannot be longer than 16 characters." in r.get_data(as_text=True)
    r = client.post(f"/tenants/{tenant.id}/edit", data={"csrf_token": auth.csrf("/tenants/new"),
                                                        "name": tenant.name, "short_name": "", "status": "active"})
    assert r.status_code == 302
    db_session.expire_all()
    assert db_session.get(Tenant, tenant.id).short_name is None
