"""The zones' order on the board (services/park/zones.py): who may set it, the
0–999 whole-number rule, nothing saved unless all is valid, the audit entry,
and the board listing rooms in that order."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from opsroom.models import AuditEntry, Zone
from opsroom.services.bookings import board
from opsroom.services.errors import Forbidden, ValidationFailed
from opsroom.services.park import zones


@pytest.fixture
def park(make):
    rooms = [make.room(code="A1", zone="服装区"), make.room(code="B1", zone="美妆区"), make.room(code="C1", zone="食品区"),
             make.room(code="C2", zone="食品区"), make.room(code="N1", zone="")]
    return rooms, make.user("manager")


def test_every_named_zone_is_listed_once_with_its_room_count_and_unordered_zones_sort_as_zero(park, make, db_session):
    _, manager = park
    db_session.add(Zone(name="旧区", sort_order=5))  # a row no room names any more is still listed
    db_session.commit()
    listed = zones.list_zones(db_session, manager)
    assert [(z.name, z.sort_order, z.rooms) for z in listed] == [
        ("服装区", 0, 1), ("美妆区", 0, 1), ("食品区", 0, 2), ("旧区", 5, 0)]  # ties by name


def test_a_saved_order_reorders_the_board_and_is_audited(park, db_session):
    _, manager = park
    zones.set_zone_orders(db_session, manager, {"食品区": 1, "服装区": 2, "美妆区": 3})
    zones.set_zone_orders(db_session, manager, {"食品区": 1, "服装区": 4, "美妆区": 3})  # an update, not a new row
    lanes = board.day(db_session, manager, date(2026, 11, 21))
    assert [lane.room.code for lane in lanes] == ["N1", "C1", "C2", "B1", "A1"]  # no zone: 0, first
    assert dict(db_session.execute(sa.select(Zone.name, Zone.sort_order)).all()) == {"食品区": 1, "服装区": 4, "美妆区": 3}
    entries = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.entity == "zones").order_by(AuditEntry.id)).all()
    assert [e.changes for e in entries] == [
        {"食品区": [0, 1], "服装区": [0, 2], "美妆区": [0, 3]}, {"服装区": [2, 4]}]


@pytest.mark.parametrize("value", [-1, 1000, 2.5, "3", True, None])
def test_a_value_that_is_not_a_whole_number_from_0_to_999_saves_nothing(park, db_session, value):
    _, manager = park
    with pytest.raises(ValidationFailed) as refused:
        zones.set_zone_orders(db_session, manager, {"服装区": 7, "美妆区": value})
    assert [d["field"] for d in refused.value.details] == ["美妆区"]
    assert db_session.scalars(sa.select(Zone)).all() == []


def test_the_bounds_are_accepted_and_an_unknown_zone_is_refused(park, db_session):
    _, manager = park
    zones.set_zone_orders(db_session, manager, {"服装区": 0, "美妆区": 999})
    with pytest.raises(ValidationFailed) as refused:
        zones.set_zone_orders(db_session, manager, {"无此区": 1})
    assert refused.value.details[0]["field"] == "无此区"


@pytest.mark.parametrize("role", ["coordinator", "anchor", "tenant"])
def test_only_management_orders_zones(park, make, db_session, role):
    with pytest.raises(Forbidden):
        zones.set_zone_orders(db_session, make.user(role), {"服装区": 1})


def test_the_page_shows_a_bad_value_on_its_field_and_saves_a_good_one(park, client, auth, db_session):
    from opsroom.views.forms import zone_field_name

    _, manager = park
    auth.login(manager.email)
    token = auth.csrf("/rooms/zones")
    food, dress = zone_field_name("食品区"), zone_field_name("服装区")
    r = client.post("/rooms/zones", data={"csrf_token": token, food: "1.5", dress: "2", zone_field_name("美妆区"): "3"})
    assert r.status_code == 422
    assert "请输入 0 到 999 之间的整数。" in r.get_data(as_text=True)  # the field message, in the page's zh_CN
    assert db_session.scalars(sa.select(Zone)).all() == []
    r = client.post("/rooms/zones", data={"csrf_token": token, food: " 1 ", dress: "2", zone_field_name("美妆区"): "3"})
    assert r.status_code == 302
    assert dict(db_session.execute(sa.select(Zone.name, Zone.sort_order)).all()) == {"食品区": 1, "服装区": 2, "美妆区": 3}
