"""The public JSON contract of docs/api.md, walked route by route.

Every route of rooms / tenants / blackouts / me and of the bookings is driven
through the same table of failures (no token, bad token, revoked token, wrong
role, unknown id, malformed JSON, wrong content type, wrong types, missing
fields, naive datetimes); each answer must carry exactly the error body of
docs/api.md and no input may produce a 5xx. Happy paths check field names and
the park-time output of docs/api.md.
"""
from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsroom import clock
from opsroom.models import ApiToken
from tests.conftest import NOW, at

ROLES = ("admin", "manager", "coordinator", "anchor")
EVERYONE = frozenset(ROLES)
MANAGEMENT = frozenset({"admin", "manager"})
STAFF = frozenset({"admin", "manager", "coordinator"})


# ---------------------------------------------------------------------------
# Helpers


def assert_error(response, status: int, code: str, *, exact: bool = True) -> dict:
    """The response is `status` with exactly {"error": {"code", "message", "details": [...]}}."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json, response.headers.get("Content-Type")
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    if exact:
        assert set(error) == {"code", "message", "details"}, error
    else:
        assert {"code", "message", "details"} <= set(error), error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["details"], list), error
    return error


def detail_fields(error: dict) -> list[str]:
    for d in error["details"]:
        assert set(d) == {"field", "message"}, d
        assert isinstance(d["message"], str) and d["message"], d
    return [d["field"] for d in error["details"]]


def call(client, method: str, path: str, *, token: str | None = None, body=None, raw: bytes | str | None = None,
         content_type: str | None = None, headers: dict | None = None):
    """One request to /api/v1 with the given token, JSON body or raw body."""
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    kwargs = {"headers": hdrs}
    if raw is not None:
        kwargs["data"] = raw
        kwargs["content_type"] = content_type or "application/json"
    elif body is not None:
        kwargs["json"] = body
    return client.open("/api/v1" + path, method=method, **kwargs)


def iso(dt) -> str:
    return dt.isoformat()


class Route:
    """One API route: method, path template ({room}, {tenant}, {booking}, {blackout}),
    a valid body builder (None: no body) and the roles that may call it."""

    def __init__(self, method, path, body=None, roles=EVERYONE, required=()):
        self.method, self.path, self.body, self.roles, self.required = method, path, body, roles, required

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def has_id(self) -> bool:
        return "{" in self.path

    def url(self, world, unknown: int | None = None) -> str:
        ids = {k: (unknown if unknown is not None else v) for k, v in world["ids"].items()}
        return self.path.format(**ids)

    def valid_body(self, world):
        return self.body(world) if self.body else None


def room_body(w):
    return {"code": "NEW-1", "name": "新直播间", "open_time": "08:00", "close_time": "23:00"}


def blackout_body(w):
    return {"starts_at": iso(at(3, 9)), "ends_at": iso(at(3, 10)), "reason": "设备检修"}


def booking_body(w):
    return {"room_id": w["ids"]["room"], "tenant_id": w["ids"]["tenant"],
            "starts_at": iso(at(2, 14)), "ends_at": iso(at(2, 16))}


ROUTES = [
    Route("GET", "/me"),
    Route("GET", "/rooms"),
    Route("POST", "/rooms", room_body, MANAGEMENT, required=("code", "name", "open_time", "close_time")),
    Route("GET", "/rooms/{room}"),
    Route("PATCH", "/rooms/{room}", lambda w: {"name": "改名的直播间"}, MANAGEMENT),
    Route("GET", "/rooms/{room}/availability?date=2026-11-21"),
    Route("GET", "/rooms/{room}/blackouts"),
    Route("POST", "/rooms/{room}/blackouts", blackout_body, MANAGEMENT, required=("starts_at", "ends_at")),
    Route("DELETE", "/blackouts/{blackout}", None, MANAGEMENT),
    Route("GET", "/tenants", None, STAFF),
    Route("POST", "/tenants", lambda w: {"name": "新入驻商家"}, STAFF, required=("name",)),
    Route("GET", "/tenants/{tenant}", None, STAFF),
    Route("PATCH", "/tenants/{tenant}", lambda w: {"contact": "李经理 13900000000"}, STAFF),
    Route("GET", "/bookings"),  # an anchor may list, but sees only their own sessions
    Route("POST", "/bookings", booking_body, STAFF, required=("room_id", "tenant_id", "starts_at", "ends_at")),
    Route("GET", "/bookings/{booking}", None, STAFF),
    Route("PATCH", "/bookings/{booking}", lambda w: {"title": "改个标题"}, STAFF),
    Route("POST", "/bookings/{booking}/confirm", None, STAFF),
    Route("POST", "/bookings/{booking}/cancel", lambda w: {"reason": "商家改期"}, STAFF),
    Route("POST", "/bookings/{booking}/checkin", None, STAFF),
]
BODY_ROUTES = [r for r in ROUTES if r.body]
ID_ROUTES = [r for r in ROUTES if r.has_id]
ids = lambda routes: [r.id for r in routes]  # noqa: E731


@pytest.fixture
def world(make):
    """One of each object, so every route template has real ids to point at."""
    room = make.room(code="A101", open_time=time(8, 0), close_time=time(22, 0), changeover_minutes=30)
    tenant = make.tenant(name="西柳服装")
    booking = make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16), status="hold",
                           hold_expires_at=NOW + timedelta(hours=1))
    blackout = make.blackout(room, starts_at=at(4, 9), ends_at=at(4, 10))
    return {"room": room, "tenant": tenant, "booking": booking, "blackout": blackout,
            "ids": {"room": room.id, "tenant": tenant.id, "booking": booking.id, "blackout": blackout.id}}


@pytest.fixture
def token_of(make, db_session):
    """token_of(role) → a fresh bearer token of a new user with that role."""
    from opsroom.services.park import users

    def make_token(role: str) -> str:
        token = users.create_token(db_session, make.user(role), "contract")
        db_session.commit()
        return token

    return make_token


# ---------------------------------------------------------------------------
# Authentication: 401


@pytest.mark.parametrize("route", ROUTES, ids=ids(ROUTES))
def test_no_token_is_401(client, world, route):
    """Every route refuses a request without a token: 401 unauthorized with the error body and a Bearer challenge."""
    r = call(client, route.method, route.url(world), body=route.valid_body(world))
    assert_error(r, 401, "unauthorized")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


BAD_HEADERS = {
    "unknown-token": "Bearer ops_this-token-was-never-issued",
    "empty-bearer": "Bearer ",
    "basic-auth": "Basic dXNlcjpwYXNzd29yZA==",
    "no-scheme": "ops_this-token-was-never-issued",
}


@pytest.mark.parametrize("header", list(BAD_HEADERS.values()), ids=list(BAD_HEADERS))
@pytest.mark.parametrize("route", ROUTES, ids=ids(ROUTES))
def test_bad_token_is_401(client, world, route, header):
    """A token that was never issued, or a non-Bearer scheme, is a 401 on every route."""
    r = call(client, route.method, route.url(world), body=route.valid_body(world), headers={"Authorization": header})
    assert_error(r, 401, "unauthorized")


def test_valid_token_in_wrong_scheme_is_401(client, world, token_of):
    """A real token sent with another scheme than Bearer is not accepted."""
    token = token_of("admin")
    r = call(client, "GET", "/me", headers={"Authorization": f"Token {token}"})
    assert_error(r, 401, "unauthorized")
    assert call(client, "GET", "/me", headers={"Authorization": f"bearer {token}"}).status_code == 200


@pytest.mark.parametrize("route", ROUTES, ids=ids(ROUTES))
def test_revoked_token_is_401(client, world, route, token_of, db_session):
    """Once revoked a token opens nothing: 401 on every route (and it worked before)."""
    token = token_of("admin")
    assert call(client, "GET", "/me", token=token).status_code == 200
    from opsroom.services.park import users

    row = db_session.query(ApiToken).filter_by(token_hash=users.hash_token(token)).one()
    row.revoked_at = clock.now()
    db_session.commit()
    r = call(client, route.method, route.url(world), token=token, body=route.valid_body(world))
    assert_error(r, 401, "unauthorized")


def test_inactive_user_token_is_401(client, make, db_session, token_of):
    """A deactivated user's tokens stop working."""
    from opsroom.services.park import users

    token = token_of("manager")
    user = users.user_for_token(db_session, token)
    user.active = False
    db_session.commit()
    assert_error(call(client, "GET", "/me", token=token), 401, "unauthorized")


def test_me_is_one_statement_and_a_write_adopts_the_token_user(client, world, token_of, engine, db_session):
    """GET /me reads the token's user and anchor id in one statement and nothing else
    (no ORM session); a write route works with that same user in its session."""
    import sqlalchemy as sa

    token = token_of("admin")
    statements = []
    listener = lambda *args: statements.append(args[2].lstrip().upper())  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        r = call(client, "GET", "/me", token=token)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert r.status_code == 200 and r.json["role"] == "admin"
    reads = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN"))]
    assert len(reads) == 1 and "API_TOKENS" in reads[0], reads
    r = call(client, "POST", "/tenants", token=token, body={"name": "采样商户"})
    assert r.status_code == 201, r.json


# ---------------------------------------------------------------------------
# Authorization: 403


WRONG_ROLE = [(r, role) for r in ROUTES for role in ROLES if role not in r.roles]
RIGHT_ROLE = [(r, role) for r in ROUTES for role in ROLES if role in r.roles]


@pytest.mark.parametrize("route,role", WRONG_ROLE, ids=[f"{r.id}-{role}" for r, role in WRONG_ROLE])
def test_wrong_role_is_403(client, world, token_of, route, role):
    """A role outside the route's permission gets 403 forbidden, and nothing is changed."""
    token = token_of(role)
    r = call(client, route.method, route.url(world), token=token, body=route.valid_body(world))
    assert_error(r, 403, "forbidden")


@pytest.mark.parametrize("route", [r for r in BODY_ROUTES if r.roles != EVERYONE],
                         ids=ids([r for r in BODY_ROUTES if r.roles != EVERYONE]))
def test_wrong_role_is_403_whatever_the_body(client, world, token_of, route):
    """The role is checked before the body: an anchor sending garbage still gets 403, not 400/422."""
    r = call(client, route.method, route.url(world), token=token_of("anchor"), raw='{"broken": ')
    assert_error(r, 403, "forbidden")


@pytest.mark.parametrize("route,role", RIGHT_ROLE, ids=[f"{r.id}-{role}" for r, role in RIGHT_ROLE])
def test_permitted_role_is_let_through(client, world, token_of, route, role):
    """A role that holds the permission is neither refused (401/403) nor breaks anything (5xx)."""
    r = call(client, route.method, route.url(world), token=token_of(role), body=route.valid_body(world))
    assert r.status_code not in (401, 403) and r.status_code < 500, (r.status_code, r.get_json())
    if r.status_code >= 400:  # e.g. a rule of the park: still the error body
        assert_error(r, r.status_code, r.get_json()["error"]["code"], exact=False)


# ---------------------------------------------------------------------------
# Unknown ids: 404


UNKNOWN_IDS = [999999, 2**31, 10**20]


@pytest.mark.parametrize("unknown", UNKNOWN_IDS, ids=["missing", "past-int32", "past-int64"])
@pytest.mark.parametrize("route", ID_ROUTES, ids=ids(ID_ROUTES))
def test_unknown_id_is_404(client, world, token_of, route, unknown):
    """An id that names nothing (however large) is 404 not_found, never a database error."""
    r = call(client, route.method, route.url(world, unknown=unknown), token=token_of("admin"),
             body=route.valid_body(world))
    assert_error(r, 404, "not_found")


def test_unknown_path_and_method_keep_the_error_body(client, token_of):
    """Outside the routes the API still answers with its error body (404, 405)."""
    token = token_of("admin")
    assert_error(call(client, "GET", "/no-such-thing", token=token), 404, "not_found")
    assert_error(call(client, "PUT", "/rooms", token=token, body={}), 405, "method_not_allowed")


# ---------------------------------------------------------------------------
# Bodies: 400


MALFORMED = {
    "truncated": '{"name": ',
    "trailing-comma": '{"name": "x",}',
    "single-quotes": "{'name': 'x'}",
    "not-utf8": b"\xff\xfe\x00{",
    "empty": "",
    "null": "null",
}


@pytest.mark.parametrize("raw", list(MALFORMED.values()), ids=list(MALFORMED))
@pytest.mark.parametrize("route", BODY_ROUTES, ids=ids(BODY_ROUTES))
def test_malformed_json_is_400(client, world, token_of, route, raw):
    """A body that is not JSON (with the JSON content type) is 400 bad_request."""
    r = call(client, route.method, route.url(world), token=token_of("admin"), raw=raw)
    if route.id == "POST /bookings/{booking}/cancel" and raw == "":
        # An empty body is allowed on cancel: all its fields are optional.
        assert r.status_code < 500
        return
    assert_error(r, 400, "bad_request")


WRONG_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"]


@pytest.mark.parametrize("content_type", WRONG_TYPES)
@pytest.mark.parametrize("route", BODY_ROUTES, ids=ids(BODY_ROUTES))
def test_wrong_content_type_is_400(client, world, token_of, route, content_type):
    """A valid JSON text sent under another content type is 400 bad_request."""
    raw = json.dumps(route.valid_body(world))
    r = call(client, route.method, route.url(world), token=token_of("admin"), raw=raw, content_type=content_type)
    assert_error(r, 400, "bad_request")


@pytest.mark.parametrize("payload", [[], [1, 2], "a string", 42, True], ids=["list", "list2", "string", "number", "bool"])
@pytest.mark.parametrize("route", BODY_ROUTES, ids=ids(BODY_ROUTES))
def test_body_that_is_not_an_object_is_422(client, world, token_of, route, payload):
    """Well-formed JSON that is not an object is a 422 validation_error."""
    r = call(client, route.method, route.url(world), token=token_of("admin"), raw=json.dumps(payload))
    error = assert_error(r, 422, "validation_error")
    detail_fields(error)


# ---------------------------------------------------------------------------
# Fields: 422


WRONG_FIELD = [
    # route id, field, value
    ("POST /rooms", "code", 123),
    ("POST /rooms", "code", ""),
    ("POST /rooms", "code", "x" * 33),
    ("POST /rooms", "name", ["A"]),
    ("POST /rooms", "open_time", "8am"),
    ("POST /rooms", "open_time", "24:00"),
    ("POST /rooms", "close_time", 800),
    ("POST /rooms", "changeover_minutes", "30"),
    ("POST /rooms", "changeover_minutes", -1),
    ("POST /rooms", "min_minutes", 1.5),
    ("POST /rooms", "max_minutes", True),
    ("POST /rooms", "area_m2", "big"),
    ("POST /rooms", "equipment", "补光灯"),
    ("POST /rooms", "equipment", [1, 2]),
    ("POST /rooms", "active", "yes"),
    ("POST /rooms", "order_capacity_per_hour", 10**30),
    ("POST /rooms", "name", "bad\u0000name"),
    ("PATCH /rooms/{room}", "name", None),
    ("PATCH /rooms/{room}", "open_time", "25:61"),
    ("PATCH /rooms/{room}", "active", 1),
    ("POST /rooms/{room}/blackouts", "starts_at", 1700000000),
    ("POST /rooms/{room}/blackouts", "ends_at", "tomorrow"),
    ("POST /rooms/{room}/blackouts", "reason", 5),
    ("POST /rooms/{room}/blackouts", "starts_at", "0001-01-01T00:00:00+08:00"),
    ("POST /tenants", "name", 5),
    ("POST /tenants", "name", "   "),
    ("POST /tenants", "status", "closed"),
    ("POST /tenants", "contact", {"phone": 1}),
    ("POST /tenants", "credit_code", "9" * 19),
    ("PATCH /tenants/{tenant}", "status", None),
    ("POST /bookings", "room_id", "1"),
    ("POST /bookings", "room_id", 2**40),
    ("POST /bookings", "tenant_id", True),
    ("POST /bookings", "tenant_id", 0),
    ("POST /bookings", "starts_at", 12345),
    ("POST /bookings", "ends_at", "2026-11-22"),
    ("POST /bookings", "ends_at", "9999-12-31T23:59:59-12:00"),
    ("POST /bookings", "title", 5),
    ("POST /bookings", "status", "live"),
    ("POST /bookings", "on_conflict", "overwrite"),
    ("POST /bookings", "recurrence", {"freq": "hourly"}),
    ("POST /bookings", "recurrence", "weekly"),
    ("PATCH /bookings/{booking}", "starts_at", "2026-13-01T10:00:00+08:00"),
    ("PATCH /bookings/{booking}", "room_id", -3),
    ("PATCH /bookings/{booking}", "title", None),
    ("POST /bookings/{booking}/cancel", "scope", "all"),
    ("POST /bookings/{booking}/cancel", "reason", ["x"]),
]
ROUTE_BY_ID = {r.id: r for r in ROUTES}


@pytest.mark.parametrize("route_id,field,value", WRONG_FIELD,
                         ids=[f"{r}-{f}-{json.dumps(v)[:20]}" for r, f, v in WRONG_FIELD])
def test_wrong_type_is_422_naming_the_field(client, world, token_of, route_id, field, value):
    """A malformed field is 422 validation_error whose details name exactly that field."""
    route = ROUTE_BY_ID[route_id]
    body = {**(route.valid_body(world) or {}), field: value}
    r = call(client, route.method, route.url(world), token=token_of("admin"), body=body)
    error = assert_error(r, 422, "validation_error")
    assert detail_fields(error) == [field]


@pytest.mark.parametrize("route", [r for r in ROUTES if r.required], ids=ids([r for r in ROUTES if r.required]))
def test_missing_required_fields_are_each_listed(client, world, token_of, route):
    """An empty object is a 422 listing every required field, once each."""
    r = call(client, route.method, route.url(world), token=token_of("admin"), body={})
    error = assert_error(r, 422, "validation_error")
    assert sorted(detail_fields(error)) == sorted(route.required)


def test_several_wrong_fields_are_all_listed(client, world, token_of):
    """Errors are collected, not reported one at a time."""
    body = {"code": 1, "name": "", "open_time": "x", "close_time": "08:00", "active": "no"}
    r = call(client, "POST", "/rooms", token=token_of("admin"), body=body)
    error = assert_error(r, 422, "validation_error")
    assert sorted(detail_fields(error)) == ["active", "code", "name", "open_time"]


NAIVE = [
    ("POST /bookings", "2026-11-22T14:00:00"),
    ("POST /bookings", "2026-11-22 14:00"),
    ("POST /rooms/{room}/blackouts", "2026-11-22T14:00:00"),
    ("PATCH /bookings/{booking}", "2026-11-22T14:00:00"),
]


@pytest.mark.parametrize("route_id,value", NAIVE, ids=[f"{r}-{v}" for r, v in NAIVE])
def test_naive_datetime_is_422_on_starts_at(client, world, token_of, route_id, value):
    """docs/api.md: a datetime without an offset is a 422 on its field."""
    route = ROUTE_BY_ID[route_id]
    body = {**(route.valid_body(world) or {}), "starts_at": value}
    r = call(client, route.method, route.url(world), token=token_of("admin"), body=body)
    error = assert_error(r, 422, "validation_error")
    assert detail_fields(error) == ["starts_at"]


QUERY_ERRORS = [
    ("/rooms/{room}/availability", "date"),
    ("/rooms/{room}/availability?date=2026-02-30", "date"),
    ("/rooms/{room}/availability?date=21.11.2026", "date"),
    ("/bookings?from=yesterday", "from"),
    ("/bookings?to=2026-11-22T10:00:00", "to"),
    ("/bookings?room_id=abc", "room_id"),
    ("/bookings?room_id=99999999999", "room_id"),
    ("/bookings?tenant_id=-1", "tenant_id"),
    ("/bookings?status=finished", "status"),
    ("/tenants?status=closed", "status"),
    ("/rooms?zone=%00", "zone"),
]


@pytest.mark.parametrize("path,field", QUERY_ERRORS, ids=[p for p, _ in QUERY_ERRORS])
def test_bad_query_parameter_is_422_naming_it(client, world, token_of, path, field):
    """A malformed or missing query parameter is a 422 naming the parameter."""
    r = call(client, "GET", path.format(**world["ids"]), token=token_of("admin"))
    error = assert_error(r, 422, "validation_error")
    assert detail_fields(error) == [field]


# ---------------------------------------------------------------------------
# Happy paths


FULL_ROOM = {
    "code": "B201", "name": "珠宝直播间", "zone": "岫玉区", "kind": "珠宝", "area_m2": 45.5,
    "equipment": ["补光灯", "提词器"], "open_time": "09:30", "close_time": "01:00",
    "changeover_minutes": 20, "min_minutes": 60, "max_minutes": 360, "order_capacity_per_hour": 300, "active": True,
}
ROOM_FIELDS = {"id", "code", "name", "zone", "kind", "area_m2", "equipment", "open_time", "close_time",
               "changeover_minutes", "min_minutes", "max_minutes", "order_capacity_per_hour", "active"}


def test_room_create_read_patch_round_trip(client, token_of):
    """POST/GET/PATCH /rooms use docs/api.md's field names; times of day are "HH:MM"; PATCH changes only
    what it names."""
    token = token_of("manager")
    r = call(client, "POST", "/rooms", token=token, body=FULL_ROOM)
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert set(created) == ROOM_FIELDS
    assert {k: created[k] for k in FULL_ROOM} == FULL_ROOM
    room_id = created["id"]

    shown = call(client, "GET", f"/rooms/{room_id}", token=token).get_json()
    assert shown == created

    r = call(client, "PATCH", f"/rooms/{room_id}", token=token, body={"name": "翡翠直播间", "close_time": "23:45", "active": False})
    assert r.status_code == 200, r.get_json()
    patched = r.get_json()
    assert patched == {**created, "name": "翡翠直播间", "close_time": "23:45", "active": False}
    assert call(client, "GET", f"/rooms/{room_id}", token=token).get_json() == patched

    listed = call(client, "GET", "/rooms", token=token).get_json()
    assert patched in listed
    assert call(client, "GET", "/rooms?zone=岫玉区", token=token).get_json() == [patched]
    assert call(client, "GET", "/rooms?kind=服装", token=token).get_json() == []


def test_room_defaults(client, token_of):
    """Optional room fields take the documented defaults."""
    r = call(client, "POST", "/rooms", token=token_of("admin"), body=room_body(None))
    assert r.status_code == 201, r.get_json()
    room = r.get_json()
    assert room["equipment"] == [] and room["active"] is True
    assert room["open_time"] == "08:00" and room["close_time"] == "23:00"


def test_duplicate_room_code_is_422_on_code(client, world, token_of):
    """A second room with a taken code (on create or by PATCH) is a 422 naming `code`."""
    token = token_of("admin")
    r = call(client, "POST", "/rooms", token=token, body={**room_body(world), "code": "A101"})
    assert detail_fields(assert_error(r, 422, "validation_error")) == ["code"]
    other = call(client, "POST", "/rooms", token=token, body=room_body(world)).get_json()
    r = call(client, "PATCH", f"/rooms/{other['id']}", token=token, body={"code": "A101"})
    assert detail_fields(assert_error(r, 422, "validation_error")) == ["code"]
    # Keeping one's own code is no clash.
    r = call(client, "PATCH", f"/rooms/{other['id']}", token=token, body={"code": other["code"], "name": "新名字"})
    assert r.status_code == 200, r.get_json()


def test_room_min_longer_than_max_is_422(client, token_of):
    """max_minutes below min_minutes is refused on max_minutes."""
    r = call(client, "POST", "/rooms", token=token_of("admin"), body={**room_body(None), "min_minutes": 120, "max_minutes": 60})
    assert detail_fields(assert_error(r, 422, "validation_error")) == ["max_minutes"]


def test_tenant_create_read_patch_round_trip(client, token_of):
    """Tenants round-trip with docs/api.md's fields; a coordinator may write them; status filter works."""
    token = token_of("coordinator")
    body = {"name": "岫岩玉器坊", "contact": "张经理 13700000000", "credit_code": "91210300MA0XXXXX1K", "status": "active"}
    r = call(client, "POST", "/tenants", token=token, body=body)
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert set(created) == {"id", "name", "short_name", "contact", "credit_code", "status", "priority",
                            "prime_quota_hours_per_week"}
    assert {k: created[k] for k in body} == body and created["short_name"] is None
    tid = created["id"]
    assert call(client, "GET", f"/tenants/{tid}", token=token).get_json() == created
    r = call(client, "PATCH", f"/tenants/{tid}", token=token, body={"status": "suspended"})
    assert r.status_code == 200 and r.get_json() == {**created, "status": "suspended"}
    assert created["id"] in [t["id"] for t in call(client, "GET", "/tenants?status=suspended", token=token).get_json()]
    assert tid not in [t["id"] for t in call(client, "GET", "/tenants?status=active", token=token).get_json()]


def test_tenant_short_name_is_set_cleared_and_bounded(client, token_of):
    """简称 (short_name): up to 16 characters, blank or null clears it; 17 is a 422 on short_name."""
    token = token_of("manager")
    r = call(client, "POST", "/tenants", token=token, body={"name": "海城市西柳服装有限公司", "short_name": " 西柳服装 "})
    assert r.status_code == 201 and r.get_json()["short_name"] == "西柳服装"
    tid = r.get_json()["id"]
    r = call(client, "PATCH", f"/tenants/{tid}", token=token, body={"short_name": "一" * 17})
    assert detail_fields(assert_error(r, 422, "validation_error")) == ["short_name"]
    assert call(client, "PATCH", f"/tenants/{tid}", token=token, body={"short_name": "一" * 16}).get_json()["short_name"] == "一" * 16
    assert call(client, "PATCH", f"/tenants/{tid}", token=token, body={"short_name": "  "}).get_json()["short_name"] is None
    assert call(client, "PATCH", f"/tenants/{tid}", token=token, body={"short_name": "西柳"}).get_json()["short_name"] == "西柳"
    assert call(client, "PATCH", f"/tenants/{tid}", token=token, body={"short_name": None}).get_json()["short_name"] is None


def test_duplicate_tenant_name_is_422_on_name(client, world, token_of):
    """Tenant names are unique: a clash is a 422 naming `name`."""
    r = call(client, "POST", "/tenants", token=token_of("admin"), body={"name": "西柳服装"})
    assert detail_fields(assert_error(r, 422, "validation_error")) == ["name"]


def test_blackout_create_list_delete_round_trip(client, world, token_of):
    """A blackout is created (201, instants output at +08:00 whatever the input offset), listed, and deleted (204)."""
    token = token_of("manager")
    room_id = world["ids"]["room"]
    body = {"starts_at": "2026-11-23T01:00:00Z", "ends_at": "2026-11-23T03:30:00+00:00", "reason": "消防检查"}
    r = call(client, "POST", f"/rooms/{room_id}/blackouts", token=token, body=body)
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["starts_at"] == "2026-11-23T09:00:00+08:00"
    assert created["ends_at"] == "2026-11-23T11:30:00+08:00"
    assert created["reason"] == "消防检查" and created["room_id"] == room_id
    listed = call(client, "GET", f"/rooms/{room_id}/blackouts", token=token).get_json()
    assert created in listed
    r = call(client, "DELETE", f"/blackouts/{created['id']}", token=token)
    assert r.status_code == 204 and r.get_data() == b""
    listed = call(client, "GET", f"/rooms/{room_id}/blackouts", token=token).get_json()
    assert created["id"] not in [b["id"] for b in listed]
    assert_error(call(client, "DELETE", f"/blackouts/{created['id']}", token=token), 404, "not_found")


def test_blackout_ending_before_it_starts_is_422(client, world, token_of):
    """ends_at at or before starts_at is a 422 on ends_at."""
    room_id = world["ids"]["room"]
    body = {"starts_at": iso(at(3, 10)), "ends_at": iso(at(3, 10))}
    r = call(client, "POST", f"/rooms/{room_id}/blackouts", token=token_of("admin"), body=body)
    assert detail_fields(assert_error(r, 422, "validation_error")) == ["ends_at"]


def test_blackout_over_active_booking_is_409_with_room_clash(client, world, make, token_of):
    """Closing a room over an active booking is refused (409 conflict) and names the booking as a `room` clash;
    a cancelled booking does not block it."""
    token = token_of("admin")
    room_id = world["ids"]["room"]
    body = {"starts_at": iso(at(1, 15)), "ends_at": iso(at(1, 18)), "reason": "漏水"}
    r = call(client, "POST", f"/rooms/{room_id}/blackouts", token=token, body=body)
    error = assert_error(r, 409, "conflict", exact=False)
    assert len(error["details"]) == 1
    clash = error["details"][0]
    assert clash["kind"] == "room" and clash["booking_id"] == world["ids"]["booking"]
    assert clash["starts_at"] == "2026-11-21T14:00:00+08:00" and clash["ends_at"] == "2026-11-21T16:00:00+08:00"
    listed = call(client, "GET", f"/rooms/{room_id}/blackouts", token=token).get_json()
    assert "漏水" not in [b["reason"] for b in listed]  # nothing was saved

    world["booking"].status = "cancelled"
    make.session.commit()
    r = call(client, "POST", f"/rooms/{room_id}/blackouts", token=token, body=body)
    assert r.status_code == 201, r.get_json()


def test_availability_is_open_hours_minus_blackouts_minus_bookings_with_changeover(client, make, token_of):
    """GET availability: the free windows of the park-local day, with the changeover after each active booking."""
    room = make.room(open_time=time(8, 0), close_time=time(22, 0), changeover_minutes=30)
    tenant = make.tenant()
    make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    make.booking(room, tenant, starts_at=at(1, 18), ends_at=at(1, 19), status="cancelled")  # no effect
    make.booking(room, tenant, starts_at=at(1, 20), ends_at=at(1, 21), status="hold",
                 hold_expires_at=NOW + timedelta(hours=1))
    make.blackout(room, starts_at=at(1, 9), ends_at=at(1, 10))
    make.blackout(room, starts_at=at(2, 9), ends_at=at(2, 10))  # another day
    r = call(client, "GET", f"/rooms/{room.id}/availability?date=2026-11-21", token=token_of("anchor"))
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"free": [
        {"starts_at": "2026-11-21T08:00:00+08:00", "ends_at": "2026-11-21T09:00:00+08:00"},
        {"starts_at": "2026-11-21T10:00:00+08:00", "ends_at": "2026-11-21T14:00:00+08:00"},
        {"starts_at": "2026-11-21T16:30:00+08:00", "ends_at": "2026-11-21T20:00:00+08:00"},
        {"starts_at": "2026-11-21T21:30:00+08:00", "ends_at": "2026-11-21T22:00:00+08:00"},
    ]}


def test_availability_of_an_empty_day_is_the_open_hours(client, make, token_of):
    """With nothing booked the free window is exactly the opening time, in park time."""
    room = make.room(open_time=time(9, 0), close_time=time(21, 0))
    r = call(client, "GET", f"/rooms/{room.id}/availability?date=2026-11-25", token=token_of("coordinator"))
    assert r.get_json() == {"free": [{"starts_at": "2026-11-25T09:00:00+08:00", "ends_at": "2026-11-25T21:00:00+08:00"}]}


def test_me_describes_the_token_user(client, make, db_session):
    """GET /me answers {id, email, name, role, anchor} of the token's user."""
    from opsroom.services.park import users

    user = make.user("coordinator", email="me@test.example", name="小王")
    token = users.create_token(db_session, user)
    db_session.commit()
    body = call(client, "GET", "/me", token=token).get_json()
    assert {k: body[k] for k in ("id", "email", "name", "role")} == {
        "id": user.id, "email": "me@test.example", "name": "小王", "role": "coordinator"}
    assert "anchor" in body and body["anchor"] is None


def test_anchor_lists_only_own_sessions(client, world, token_of):
    """An anchor may call GET /bookings but never sees sessions they are not assigned to
    (and GET /bookings/{id} of such a session is a 403, see the wrong-role table)."""
    staff = call(client, "GET", "/bookings", token=token_of("coordinator")).get_json()
    assert world["ids"]["booking"] in [b["id"] for b in staff]
    r = call(client, "GET", "/bookings", token=token_of("anchor"))
    assert r.status_code == 200 and world["ids"]["booking"] not in [b["id"] for b in r.get_json()]


def test_booking_output_uses_park_offset(client, world, token_of):
    """Bookings read back with docs/api.md's fields and +08:00 instants."""
    r = call(client, "GET", f"/bookings/{world['ids']['booking']}", token=token_of("coordinator"))
    b = r.get_json()
    assert {"id", "room_id", "tenant_id", "title", "starts_at", "ends_at", "status", "hold_expires_at",
            "series_id", "anchors", "lineup", "checked_in_at", "created_at"} <= set(b)
    assert b["starts_at"] == "2026-11-21T14:00:00+08:00" and b["hold_expires_at"].endswith("+08:00")


# ---------------------------------------------------------------------------
# OpenAPI


def _openapi_path(route: Route) -> str:
    path = route.path.split("?")[0]
    for name in ("room", "tenant", "booking", "blackout"):
        path = path.replace("{" + name + "}", "{id}")
    return path


def test_openapi_lists_every_route(client):
    """GET /api/v1/openapi.json (no token) is an OpenAPI 3 document listing every route above,
    with responses, and every $ref resolves."""
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.is_json
    doc = r.get_json()
    assert str(doc["openapi"]).startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    for route in ROUTES:
        path = _openapi_path(route)
        assert path in doc["paths"], path
        op = doc["paths"][path].get(route.method.lower())
        assert op is not None, route.id
        assert op["responses"] and all(str(code).isdigit() for code in op["responses"])
        if route.method in ("POST", "PATCH") and route.body and route.id != "POST /bookings/{booking}/cancel":
            assert "application/json" in op["requestBody"]["content"], route.id
        if "{id}" in path:
            params = doc["paths"][path].get("parameters", []) + op.get("parameters", [])
            assert any(p["name"] == "id" and p["in"] == "path" for p in params), path

    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    for ref in refs(doc):
        assert ref.startswith("#/")
        target = doc
        for part in ref[2:].split("/"):
            assert part in target, ref
            target = target[part]


def test_openapi_bodies_name_the_required_fields(client):
    """The documented request schemas agree with the fields the API requires."""
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    for route in ROUTES:
        if not route.required:
            continue
        op = doc["paths"][_openapi_path(route)][route.method.lower()]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[ref.rsplit("/", 1)[1]]
        for field in route.required:
            assert field in schema["properties"], (route.id, field)


# ---------------------------------------------------------------------------
# Fuzzing: no input produces a 5xx


FIELD_NAMES = sorted({*FULL_ROOM, "name", "contact", "credit_code", "status", "room_id", "tenant_id", "starts_at",
                      "ends_at", "title", "recurrence", "on_conflict", "freq", "interval", "weekdays", "until", "count"})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
    | st.sampled_from(["08:00", "2026-11-22T14:00:00+08:00", "2026-11-22", "weekly", "hold", "1", "\x00"]),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=10), children, max_size=6),
    max_leaves=20,
)
json_bodies = json_values | st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=json_bodies, target=st.sampled_from(["/rooms", "/tenants", "/bookings"]))
def test_random_json_never_causes_a_5xx(client, api, payload, target):
    """Whatever JSON value is posted to POST /rooms, /tenants or /bookings, the answer is below 500,
    and an error always has the error body."""
    from flask import json as flask_json

    raw = flask_json.dumps(payload)  # floats may be NaN/Infinity: not strict JSON either
    r = api("admin").post(target, data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code < 500, (r.status_code, payload, r.get_data(as_text=True)[:300])
    if r.status_code >= 400:
        assert_error(r, r.status_code, r.get_json()["error"]["code"], exact=False)
