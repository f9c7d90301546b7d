"""People and goods per slot (人、货、场) through the API: anchor rules and
clashes, the database guard on assignments, lineups, copying, products and
catalogue import, schedules, check-in and who may see what."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from opsroom import clock
from opsroom.models import Assignment, Booking, Product
from tests.conftest import at


@pytest.fixture
def park(make, api):
    tenant = make.tenant(name="鞍山南果梨合作社")
    return {
        "tenant": tenant,
        "rooms": [make.room(code="C301"), make.room(code="C302")],
        "anchor": make.anchor(name="李梨花", tenant_id=tenant.id),
        "api": api("coordinator"),
    }


def book(park, room_index, start, end, **extra):
    body = {"room_id": park["rooms"][room_index].id, "tenant_id": park["tenant"].id,
            "starts_at": start.isoformat(), "ends_at": end.isoformat()}
    body.update(extra)
    return park["api"].post("/bookings", json=body)


def put_anchors(park, booking_id, *entries):
    return park["api"].put(f"/bookings/{booking_id}/anchors", json=list(entries))


def test_anchor_profile_round_trip(park, make):
    user = make.user("anchor", email="lihua@park.demo")
    r = park["api"].post("/anchors", json={"name": "王小美", "tenant_id": None, "user_email": "lihua@park.demo",
                                           "verified": True, "max_minutes_per_day": 360, "min_rest_minutes": 45,
                                           "platform_accounts": {"douyin": "xiaomei88", "kuaishou": "km_2026"}})
    assert r.status_code == 201, r.json
    body = r.json
    assert body["user_email"] == user.email and body["tenant_id"] is None
    assert body["platform_accounts"] == {"douyin": "xiaomei88", "kuaishou": "km_2026"}
    assert body["feed_url"].startswith("http") and body["feed_url"].endswith(".ics")
    r = park["api"].patch(f"/anchors/{body['id']}", json={"verified": False})
    assert r.status_code == 200 and r.json["verified"] is False


def test_user_email_must_be_an_anchor_user(park, make):
    make.user("coordinator", email="coord@park.demo")
    r = park["api"].post("/anchors", json={"name": "x", "user_email": "coord@park.demo"})
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "user_email"


def test_anchor_in_two_rooms_at_once_is_a_409_naming_the_other_booking(park):
    a = book(park, 0, at(1, 14), at(1, 16), anchors=[{"anchor_id": park["anchor"].id, "role": "host"}]).json
    b = book(park, 1, at(1, 15), at(1, 17)).json
    r = put_anchors(park, b["id"], {"anchor_id": park["anchor"].id, "role": "assistant"})
    assert r.status_code == 409
    detail = r.json["error"]["details"][0]
    assert detail["kind"] == "anchor" and detail["booking_id"] == a["id"] and detail["anchor_id"] == park["anchor"].id


@pytest.mark.parametrize("sqlstate,status", [("40P01", 409), ("40001", 409), ("08006", 503)])
def test_a_transaction_the_database_aborts_for_a_race_is_a_409_not_a_503(park, monkeypatch, sqlstate, status):
    """PostgreSQL may abort one of two concurrent anchor assignments as a deadlock
    (each waiting on the other's exclusion-constraint check; seen once in the
    mixed load as a 503): that is a lost race, answered 409 like any other, while
    a lost connection stays a 503 with Retry-After."""
    from opsroom.services.people_goods import assignments
    from tests.conftest import aborted_by_database

    b = book(park, 0, at(1, 14), at(1, 16)).json
    monkeypatch.setattr(assignments, "set_anchors", aborted_by_database(sqlstate))
    r = put_anchors(park, b["id"], {"anchor_id": park["anchor"].id, "role": "host"})
    assert r.status_code == status
    assert r.json["error"]["code"] == ("conflict" if status == 409 else "unavailable")
    assert ("Retry-After" in r.headers) == (status == 503)


def test_touching_sessions_are_fine_for_an_anchor_without_rest(park, make):
    anchor = make.anchor(min_rest_minutes=0)
    book(park, 0, at(1, 14), at(1, 16), anchors=[{"anchor_id": anchor.id}])
    r = book(park, 1, at(1, 16), at(1, 18), anchors=[{"anchor_id": anchor.id}])
    assert r.status_code == 201, r.json


@pytest.mark.parametrize("kwargs,role,start,end,rule", [
    (dict(verified=False), "host", (1, 14), (1, 16), "anchor_unverified"),
    (dict(max_minutes_per_day=180), "host", (1, 17), (1, 19), "anchor_daily_limit"),
    (dict(min_rest_minutes=60), "host", (1, 16, 30), (1, 18), "anchor_rest"),
])
def test_anchor_rules_are_422(park, make, kwargs, role, start, end, rule):
    """Hosts verified, daily limit per local day, minimum rest: each a 422 naming the rule."""
    anchor = make.anchor(**kwargs)
    if rule != "anchor_unverified":
        book(park, 0, at(1, 14), at(1, 16), anchors=[{"anchor_id": anchor.id, "role": "host"}])
    r = book(park, 1, at(*start), at(*end), anchors=[{"anchor_id": anchor.id, "role": role}])
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "rule_violation"
    assert r.json["error"]["details"][0]["rule"] == rule


def test_unverified_assistant_is_allowed(park, make):
    anchor = make.anchor(verified=False)
    assert book(park, 0, at(1, 14), at(1, 16), anchors=[{"anchor_id": anchor.id, "role": "assistant"}]).status_code == 201


def test_failed_anchor_rule_creates_no_booking(park, make):
    """Anchors given on create follow the same rules; a breach leaves nothing behind."""
    anchor = make.anchor(verified=False)
    r = book(park, 0, at(1, 14), at(1, 16), anchors=[{"anchor_id": anchor.id, "role": "host"}])
    assert r.status_code == 422
    assert park["api"].get("/bookings?from=2026-11-21&to=2026-11-21").json == []


def test_moving_a_booking_rechecks_its_anchors(park):
    book(park, 0, at(1, 14), at(1, 16), anchors=[{"anchor_id": park["anchor"].id}])
    b = book(park, 1, at(1, 19), at(1, 21), anchors=[{"anchor_id": park["anchor"].id}]).json
    r = park["api"].patch(f"/bookings/{b['id']}", json={"starts_at": at(1, 15).isoformat(), "ends_at": at(1, 17).isoformat()})
    assert r.status_code == 409 and r.json["error"]["details"][0]["kind"] == "anchor"


def test_assignment_rows_follow_their_booking(park, db_session):
    """Triggers keep the assignment's times and active flag in step with the booking."""
    b = book(park, 0, at(1, 14), at(1, 16), anchors=[{"anchor_id": park["anchor"].id}]).json
    park["api"].patch(f"/bookings/{b['id']}", json={"starts_at": at(1, 18).isoformat(), "ends_at": at(1, 20).isoformat()})
    db_session.expire_all()
    row = db_session.scalar(sa.select(Assignment).where(Assignment.booking_id == b["id"]))
    assert (row.starts_at, row.ends_at, row.active) == (at(1, 18), at(1, 20), True)
    park["api"].post(f"/bookings/{b['id']}/cancel", json={})
    db_session.expire_all()
    assert db_session.get(Assignment, row.id).active is False


def test_cancelled_session_frees_the_anchor(park):
    a = book(park, 0, at(1, 14), at(1, 16), anchors=[{"anchor_id": park["anchor"].id}]).json
    park["api"].post(f"/bookings/{a['id']}/cancel", json={})
    assert book(park, 1, at(1, 14), at(1, 16), anchors=[{"anchor_id": park["anchor"].id}]).status_code == 201


def test_database_refuses_anchor_overlap_behind_the_services_back(make, db_session):
    tenant, anchor = make.tenant(), make.anchor()
    first = make.booking(make.room(), tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    second = make.booking(make.room(), tenant, starts_at=at(1, 15), ends_at=at(1, 17))
    make.assign(first, anchor)
    db_session.add(Assignment(booking_id=second.id, anchor_id=anchor.id, role="host",
                              starts_at=second.starts_at, ends_at=second.ends_at, active=True))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_database_refuses_moving_a_booking_into_an_anchor_overlap(make, db_session):
    """A raw UPDATE of a booking's times is synced to its assignments and refused there."""
    tenant, anchor = make.tenant(), make.anchor()
    first = make.booking(make.room(), tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    second = make.booking(make.room(), tenant, starts_at=at(1, 18), ends_at=at(1, 20))
    make.assign(first, anchor)
    make.assign(second, anchor)
    with pytest.raises(IntegrityError):
        db_session.execute(sa.update(Booking).where(Booking.id == second.id)
                           .values(starts_at=at(1, 15), ends_at=at(1, 17), occupied_until=at(1, 17, 30)))
    db_session.rollback()


def test_lineup_order_stock_warning_and_tenant_rule(park, make):
    pear = make.product(park["tenant"], name="南果梨礼盒", stock=5)
    jam = make.product(park["tenant"], name="南果梨果酱", stock=500)
    foreign = make.product(make.tenant(), name="岫玉手镯")
    b = book(park, 0, at(1, 14), at(1, 16)).json
    r = park["api"].put(f"/bookings/{b['id']}/lineup", json=[
        {"product_id": jam.id, "planned_start": at(1, 14, 30).isoformat(), "planned_end": at(1, 15).isoformat()},
        {"product_id": pear.id, "planned_quantity": 20}])
    assert r.status_code == 200, r.json
    assert [i["product_id"] for i in r.json["lineup"]] == [jam.id, pear.id]
    assert r.json["lineup"][0]["planned_start"] == "2026-11-21T14:30:00+08:00"
    assert [w["product_id"] for w in r.json["warnings"]] == [pear.id]
    r = park["api"].put(f"/bookings/{b['id']}/lineup", json=[{"product_id": foreign.id}])
    assert r.status_code == 422 and r.json["error"]["details"][0]["rule"] == "product_tenant"
    r = park["api"].put(f"/bookings/{b['id']}/lineup", json=[{"product_id": jam.id, "planned_start": at(1, 17).isoformat()}])
    assert r.status_code == 422 and r.json["error"]["details"][0]["rule"] == "planned_times"


def test_moving_a_booking_moves_planned_product_times(park, make):
    jam = make.product(park["tenant"])
    b = book(park, 0, at(1, 14), at(1, 16), lineup=[{"product_id": jam.id, "planned_start": at(1, 14, 30).isoformat()}]).json
    r = park["api"].patch(f"/bookings/{b['id']}", json={"starts_at": at(1, 18).isoformat(), "ends_at": at(1, 20).isoformat()})
    assert r.json["lineup"][0]["planned_start"] == "2026-11-21T18:30:00+08:00"


def test_copy_anchors_and_lineup_to_a_series_week(park, make):
    jam = make.product(park["tenant"])
    series = book(park, 0, at(1, 20), at(1, 22), recurrence={"freq": "daily", "count": 4}).json["bookings"]
    first = series[0]["id"]
    put_anchors(park, first, {"anchor_id": park["anchor"].id, "role": "host"})
    park["api"].put(f"/bookings/{first}/lineup", json=[{"product_id": jam.id, "planned_start": at(1, 20, 15).isoformat()}])
    blocker = make.anchor()  # make day 3 clash for the anchor in another room
    other = book(park, 1, at(3, 20), at(3, 22), anchors=[{"anchor_id": park["anchor"].id}]).json
    assert other.get("id"), blocker
    r = park["api"].post(f"/bookings/{first}/copy", json={"target_ids": [b["id"] for b in series[1:]]})
    results = {x["booking_id"]: x for x in r.json["results"]}
    assert results[series[1]["id"]]["ok"] and results[series[3]["id"]]["ok"]
    assert not results[series[2]["id"]]["ok"] and results[series[2]["id"]]["error"]["code"] == "conflict"
    copied = park["api"].get(f"/bookings/{series[1]['id']}").json
    assert copied["anchors"][0]["anchor_id"] == park["anchor"].id
    assert copied["lineup"][0]["planned_start"] == "2026-11-22T20:15:00+08:00"


def test_free_anchor_search(park, make):
    busy = park["anchor"]
    free = make.anchor(name="空闲主播")
    unverified = make.anchor(verified=False)
    book(park, 0, at(1, 14), at(1, 16), anchors=[{"anchor_id": busy.id}])
    r = park["api"].get("/anchors/free", query_string={"starts_at": at(1, 15).isoformat(), "ends_at": at(1, 17).isoformat()})
    ids = [a["id"] for a in r.json]
    assert free.id in ids and busy.id not in ids and unverified.id not in ids
    r = park["api"].get("/anchors/free", query_string={"starts_at": at(1, 15).isoformat(), "ends_at": at(1, 17).isoformat(), "role": "assistant"})
    assert unverified.id in [a["id"] for a in r.json]


def test_products_round_trip_and_unique_sku_per_tenant(park, make):
    r = park["api"].post("/products", json={"tenant_id": park["tenant"].id, "sku": "NGL-5KG", "name": "南果梨 5斤装",
                                            "category": "生鲜", "price": "59.9", "stock": 800,
                                            "certifications": ["地理标志", "绿色食品"]})
    assert r.status_code == 201 and r.json["price"] == "59.90"
    dup = park["api"].post("/products", json={"tenant_id": park["tenant"].id, "sku": "NGL-5KG", "name": "x"})
    assert dup.status_code == 422 and dup.json["error"]["details"][0]["field"] == "sku"
    other = park["api"].post("/products", json={"tenant_id": make.tenant().id, "sku": "NGL-5KG", "name": "x"})
    assert other.status_code == 201
    assert [p["sku"] for p in park["api"].get(f"/products?tenant_id={park['tenant'].id}").json] == ["NGL-5KG"]


@pytest.mark.parametrize("encoding,header", [
    ("utf-8-sig", "商品编码,商品名称,类目,价格,库存,认证"),
    ("gbk", "商品编码,商品名称,类目,价格,库存,认证"),
    ("utf-8", "sku,name,category,price,stock,certifications"),
])
def test_catalogue_import_reports_every_bad_row(park, encoding, header, db_session):
    text = "\n".join([
        header,
        "\tNGL001,南果梨 5斤,生鲜,59.90,800,地理标志;绿色食品",
        "NGL002,南果梨果酱,加工食品,abc,10,",
        ",没有编码,生鲜,1.00,1,",
        "NGL003,南果梨干,零食,19.9,x,",
        "NGL004,冻梨,生鲜,\"1,299.00\",5,有机",
        "NGL001,重复,生鲜,1,1,",
    ]) + "\n"
    r = park["api"].client.post("/api/v1/products/import", headers={"Authorization": f"Bearer {park['api'].token}"},
                                data={"tenant_id": str(park["tenant"].id), "file": (io.BytesIO(text.encode(encoding)), "catalogue.csv")},
                                content_type="multipart/form-data")
    assert r.status_code == 200, r.json
    assert r.json["created"] == 2 and r.json["updated"] == 0
    assert [e["line"] for e in r.json["errors"]] == [3, 4, 5, 7]
    product = db_session.scalar(sa.select(Product).where(Product.sku == "NGL001"))
    assert product.price_fen == 5990 and product.certifications == ["地理标志", "绿色食品"]


def test_catalogue_reimport_updates(park, db_session):
    def send(text):
        return park["api"].client.post("/api/v1/products/import", headers={"Authorization": f"Bearer {park['api'].token}"},
                                       data={"tenant_id": str(park["tenant"].id), "file": (io.BytesIO(text.encode()), "c.csv")},
                                       content_type="multipart/form-data")
    send("sku,name,price,stock\nA1,梨,1.00,5\n")
    r = send("sku,name,price,stock\nA1,梨,2.00,6\n")
    assert (r.json["created"], r.json["updated"]) == (0, 1)
    assert db_session.scalar(sa.select(Product.price_fen).where(Product.sku == "A1")) == 200


def test_catalogue_without_required_columns_is_422(park):
    r = park["api"].client.post("/api/v1/products/import", headers={"Authorization": f"Bearer {park['api'].token}"},
                                data={"tenant_id": str(park["tenant"].id), "file": (io.BytesIO(b"foo,bar\n1,2\n"), "c.csv")},
                                content_type="multipart/form-data")
    assert r.status_code == 422


def test_catalogue_lines_that_are_not_csv_are_reported_by_line_and_the_rest_taken(park):
    """A bare carriage return (the fuzzer's find: a 500) ends a line, as in old
    Mac files, and a cell past the csv module's limit is a row error with its
    line; the good rows are still taken. A header that is not CSV is a 422
    naming the file."""
    def send(data: bytes):
        return park["api"].client.post("/api/v1/products/import", headers={"Authorization": f"Bearer {park['api'].token}"},
                                       data={"tenant_id": str(park["tenant"].id), "file": (io.BytesIO(data), "c.csv")},
                                       content_type="multipart/form-data")
    huge = "x" * 200_000
    r = send(f"sku,name\nA1,梨\nA2,苹\r果\nA3,\"{huge}\"\nA4,桃\n".encode())
    assert r.status_code == 200, r.json
    assert r.json["created"] == 3  # A1, A2 (named 苹), A4
    assert [e["line"] for e in r.json["errors"]] == [4, 5]  # 果 alone has no name; A3's cell is too long
    assert "CSV" in r.json["errors"][1]["message"]
    r = send(f"\"{huge}\",name\nA1,梨\n".encode())
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "file"


# --- the anchor's own view -------------------------------------------------


@pytest.fixture
def two_anchors(park, make, api, db_session):
    """Two anchor users, each with a session; returns their API clients and bookings."""
    from opsroom.services.park import users

    out = []
    for i in range(2):
        user = make.user("anchor")
        anchor = make.anchor(user_id=user.id)
        b = book(park, i, at(0, 14), at(0, 16), anchors=[{"anchor_id": anchor.id}]).json
        token = users.create_token(db_session, user)
        db_session.commit()
        from tests.conftest import Api

        out.append({"user": user, "anchor": anchor, "booking": b, "api": Api(park["api"].client, token)})
    return out


def test_anchor_sees_only_their_own_sessions(two_anchors):
    me, other = two_anchors
    assert me["api"].get(f"/bookings/{me['booking']['id']}").status_code == 200
    r = me["api"].get(f"/bookings/{other['booking']['id']}")
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert [b["id"] for b in me["api"].get("/bookings?from=2026-11-20&to=2026-11-21").json] == [me["booking"]["id"]]
    assert me["api"].get(f"/anchors/{me['anchor'].id}/schedule?from=2026-11-20&to=2026-11-27").status_code == 200
    assert me["api"].get(f"/anchors/{other['anchor'].id}/schedule?from=2026-11-20&to=2026-11-27").status_code == 403
    assert me["api"].get(f"/anchors/{other['anchor'].id}").status_code == 403
    assert [a["id"] for a in me["api"].get("/anchors").json] == [me["anchor"].id]
    assert me["api"].get("/me").json["anchor"]["feed_url"].endswith(".ics")


@pytest.mark.parametrize("path,method", [
    ("/tenants", "get"), ("/products", "get"), ("/anchors/free?starts_at=2026-11-21T14:00:00%2B08:00&ends_at=2026-11-21T16:00:00%2B08:00", "get"),
])
def test_anchor_cannot_reach_staff_data(two_anchors, path, method):
    assert getattr(two_anchors[0]["api"], method)(path).status_code == 403


def test_anchor_cannot_change_bookings(two_anchors):
    me = two_anchors[0]
    b = me["booking"]["id"]
    assert me["api"].patch(f"/bookings/{b}", json={"title": "x"}).status_code == 403
    assert me["api"].put(f"/bookings/{b}/anchors", json=[]).status_code == 403
    assert me["api"].put(f"/bookings/{b}/lineup", json=[]).status_code == 403
    assert me["api"].post(f"/bookings/{b}/cancel", json={}).status_code == 403


def test_check_in_window_and_ownership(two_anchors):
    """Check-in opens 30 minutes before the start; only the session's own anchor may."""
    me, other = two_anchors
    b = me["booking"]["id"]
    clock.set_now(at(0, 13, 20))
    r = me["api"].post(f"/bookings/{b}/checkin")
    assert r.status_code == 422 and r.json["error"]["details"][0]["rule"] == "checkin_window"
    clock.set_now(at(0, 13, 35))
    assert other["api"].post(f"/bookings/{b}/checkin").status_code == 403
    r = me["api"].post(f"/bookings/{b}/checkin")
    assert r.status_code == 200 and r.json["checked_in_at"] == "2026-11-20T13:35:00+08:00"
    assert r.json["status"] == "confirmed"  # live only once the session starts (the sweeper)


def test_sweeper_takes_checked_in_sessions_live_and_ends_them(park, make, db_session):
    """Sweeps are idempotent: checked in → live at the start, ended at the end; nobody → no-show."""
    from opsroom.services.bookings import lifecycle

    room, tenant = park["rooms"][0], park["tenant"]
    came = make.booking(room, tenant, starts_at=at(0, 14), ends_at=at(0, 16), checked_in_at=at(0, 13, 50))
    absent = make.booking(park["rooms"][1], tenant, starts_at=at(0, 14), ends_at=at(0, 16))
    clock.set_now(at(0, 14, 20))
    counts = lifecycle.sweep(db_session)
    assert counts["started"] == 1 and counts["no_shows"] == 1
    assert lifecycle.sweep(db_session) == {"expired_holds": 0, "no_shows": 0, "started": 0, "ended": 0}
    db_session.expire_all()
    assert db_session.get(Booking, came.id).status == "live"
    no_show = db_session.get(Booking, absent.id)
    assert no_show.status == "no_show" and no_show.ends_at == at(0, 14, 15)
    clock.set_now(at(0, 16, 5))
    lifecycle.sweep(db_session)
    db_session.expire_all()
    assert db_session.get(Booking, came.id).status == "ended"


def test_listing_bookings_does_not_query_per_booking(park, make, engine):
    """GET /bookings loads anchors and lineups in a fixed number of queries, however many bookings."""
    import sqlalchemy as sa

    def count_queries(n_bookings):
        for i in range(n_bookings):  # each with its own anchor and product
            book(park, i % 2, at(3 + i, 10), at(3 + i, 12), anchors=[{"anchor_id": make.anchor().id}],
                 lineup=[{"product_id": make.product(park["tenant"]).id}])
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            assert len(park["api"].get("/bookings?from=2026-11-20&to=2026-12-31").json) >= n_bookings
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    few = count_queries(2)
    many = count_queries(6)
    assert many == few


def test_create_with_anchors_and_lineup_reads_nothing_after_writing(park, make, engine):
    """A booking given with anchors and a lineup is checked in full before anything is
    written, then written in one go: no statement of its transaction reads after the first
    write (the answer names the anchors and products it already loaded), and the reads do
    not grow with the lineup."""
    anchors = [make.anchor(), make.anchor()]

    def reads_and_writes(day, n_products):
        products = [make.product(park["tenant"]) for _ in range(n_products)]
        statements = []
        listener = lambda *args: statements.append(args[2].lstrip().upper())  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            r = book(park, 0, at(day, 10), at(day, 12), anchors=[{"anchor_id": a.id} for a in anchors],
                     lineup=[{"product_id": p.id} for p in products])
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        assert r.status_code == 201, r.json
        assert [a["name"] for a in r.json["anchors"]] == [a.name for a in anchors]
        assert [i["sku"] for i in r.json["lineup"]] == [p.sku for p in products]
        first_write = next(i for i, s in enumerate(statements) if s.startswith("INSERT"))
        # The create's transaction ends at its commit (a RELEASE of the test's savepoint); the
        # answer's forecast is read after that, in a transaction of its own.
        committed = next(i for i in range(first_write, len(statements)) if statements[i].startswith("RELEASE"))
        assert not [s for s in statements[first_write:committed] if s.startswith("SELECT")], statements[first_write:committed]
        statements = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
        return sum(s.startswith("SELECT") for s in statements)

    assert reads_and_writes(3, 1) == reads_and_writes(4, 5)


def test_database_refuses_anchor_overlap_of_a_create_that_slipped_past_the_check(park, db_session, monkeypatch):
    """Booking and anchors are written by one flush: if the anchor check is beaten by a
    concurrent assignment, the database's guard refuses the whole create, and the 409
    says an anchor was taken (not the room, which is free: no alternatives)."""
    from opsroom.services.people_goods import anchors as anchor_service

    anchor = park["anchor"]
    assert book(park, 0, at(1, 14), at(1, 16), anchors=[{"anchor_id": anchor.id}]).status_code == 201
    monkeypatch.setattr(anchor_service, "evaluate", lambda *a, **k: ([], []))  # the check saw nothing yet
    r = book(park, 1, at(1, 15), at(1, 17), anchors=[{"anchor_id": anchor.id}], lineup=[])
    assert r.status_code == 409 and r.json["error"]["code"] == "conflict"
    assert "alternatives" not in r.json["error"] and r.json["error"]["details"] == []
    db_session.expire_all()
    assert not db_session.scalars(sa.select(Booking).where(Booking.room_id == park["rooms"][1].id)).all()
