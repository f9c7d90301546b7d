"""The access matrix: every route of `app.url_map` (API and HTML) ×
every role (admin, manager, coordinator, anchor, no login, a screen token) ×
the object's owner where the model has one → the status in EXPECT below.

A route without an entry in EXPECT fails the test, so a new route must state
who may use it. Each request runs inside a savepoint that is rolled back, so
every case sees the same world.

Owners: an anchor is "own" on a session they are assigned to, and "other" on
another anchor's session; the same for anchor profiles, notifications (each
user's own inbox) and API tokens (each user's own). Coordinators are park
staff, not bound to a tenant, in this model: a tenant's objects are open to
every coordinator, so tenants have no owner column here.

Leaks: beyond the statuses, no answer given to the anchor or a tenant's
account (on any route, as "own" or "other") and no answer given to a screen token outside the screen
carries a marker planted in another anchor's session, profile, notification,
review note or order.
"""
from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from opsroom.services.sales import screen as screen_service
from opsroom.services.park import users
from tests.conftest import NOW
from tests.support.pages import csrf_from

ROLES = ("admin", "manager", "coordinator", "anchor", "tenant", "anonymous", "screen")
MARK = "LEAK-MARK-"  # planted in other owners' objects

# -- Expectations -------------------------------------------------------------
# A role not listed: 403. Anonymous and screen tokens: 401 on the API, the login
# redirect ("login") on HTML pages, unless listed. An anchor's entry may be a
# pair: (on their own object, on another's).

L = "login"
STAFF = ("admin", "manager", "coordinator")
MGMT = ("admin", "manager")
T = "tenant"


def rule(ok: dict, **extra) -> dict:
    return {**ok, **extra}


def allow(roles, status, **extra) -> dict:
    return {**{r: status for r in roles}, **extra}


EXPECT: dict[tuple[str, str], dict] = {
    # --- JSON API ---------------------------------------------------------------
    ("GET", "api.openapi"): allow(ROLES, 200),
    ("GET", "api.health"): allow(("admin", "manager", "coordinator", "anchor", T, "anonymous"), 200, screen=401),
    ("GET", "api.me"): allow(("admin", "manager", "coordinator", "anchor", T), 200),
    ("GET", "api.screen"): allow(STAFF + ("screen",), 200),
    ("GET", "api.rooms_index"): allow(STAFF + ("anchor", T), 200),
    ("POST", "api.rooms_create"): allow(MGMT, 422),
    ("GET", "api.rooms_show"): allow(STAFF + ("anchor", T), 200),
    ("PATCH", "api.rooms_update"): allow(MGMT, 200),
    ("GET", "api.rooms_availability"): allow(STAFF + ("anchor", T), 200),
    ("GET", "api.blackouts_index"): allow(STAFF + ("anchor", T), 200),
    ("POST", "api.blackouts_create"): allow(MGMT, 422),
    ("DELETE", "api.blackouts_delete"): allow(MGMT, 204),
    ("GET", "api.tenants_index"): allow(STAFF, 200),
    ("POST", "api.tenants_create"): allow(STAFF, 422),
    ("GET", "api.tenants_show"): allow(STAFF, 200),
    ("PATCH", "api.tenants_update"): allow(STAFF, 200),
    ("GET", "api.bookings_index"): allow(STAFF + ("anchor", T), 200),
    ("POST", "api.bookings_create"): allow(STAFF, 422),
    ("GET", "api.bookings_show"): allow(STAFF, 200, anchor=(200, 403), tenant=(200, 404)),
    ("PATCH", "api.bookings_update"): allow(STAFF, 200),
    ("POST", "api.bookings_confirm"): allow(STAFF, 200),  # confirmed already: unchanged
    ("POST", "api.bookings_cancel"): allow(STAFF, 200),
    ("POST", "api.bookings_checkin"): allow(STAFF, 200, anchor=(200, 403)),
    ("GET", "api.bookings_audit"): allow(STAFF, 200, anchor=(200, 403), tenant=(200, 404)),
    ("PUT", "api.bookings_set_anchors"): allow(STAFF, 422),
    ("PUT", "api.bookings_set_lineup"): allow(STAFF + (T,), 422),  # a tenant: its own bookings (a bad body first)
    ("POST", "api.bookings_copy"): allow(STAFF, 422),
    ("GET", "api.booking_stats"): allow(STAFF, 200, anchor=(200, 403), tenant=(200, 404)),
    ("GET", "api.anchors_index"): allow(STAFF + ("anchor",), 200),
    ("POST", "api.anchors_create"): allow(STAFF, 422),
    ("GET", "api.anchors_show"): allow(STAFF, 200, anchor=(200, 403)),
    ("PATCH", "api.anchors_update"): allow(STAFF, 200),
    ("POST", "api.anchors_reset_feed"): allow(STAFF, 200, anchor=(200, 403)),
    ("GET", "api.anchors_schedule"): allow(STAFF, 200, anchor=(200, 403)),
    ("GET", "api.anchors_free"): allow(STAFF, 200),
    ("GET", "api.products_index"): allow(STAFF + (T,), 200),  # a tenant: its own
    ("POST", "api.products_create"): allow(STAFF + (T,), 422),
    ("GET", "api.products_show"): allow(STAFF, 200, tenant=(200, 404)),  # another tenant's product: 404
    ("PATCH", "api.products_update"): allow(STAFF, 200, tenant=(200, 404)),
    ("POST", "api.products_import"): allow(STAFF + (T,), 400),
    ("POST", "api.orders_ingest"): allow(STAFF, 422),
    ("GET", "api.orders_index"): allow(STAFF, 200, anchor=(200, 403), tenant=(200, 404)),
    ("POST", "api.orders_import"): allow(STAFF, 400),
    ("POST", "api.orders_attribute"): allow(STAFF, 422),
    ("GET", "api.orders_batch"): allow(STAFF, 200),
    ("GET", "api.orders_batch_rejects"): allow(STAFF, 200),
    ("GET", "api.reports_utilization"): allow(MGMT + (T,), 200),  # a tenant: its own figures only
    ("GET", "api.forecast_show"): allow(STAFF, 422),  # no query: the four required parameters are missing
    ("GET", "api.list_notifications"): allow(STAFF + ("anchor", T), 200),
    ("POST", "api.read_notification"): allow(STAFF + ("anchor", T), (200, 404)),
    ("POST", "api.read_all_notifications"): allow(STAFF + ("anchor", T), 200),
    # Requests: a tenant's account its own (another tenant's is a 404); staff decide.
    ("GET", "api.requests_index"): allow(STAFF + (T,), 200),
    ("POST", "api.requests_create"): allow(STAFF + (T,), 422),
    ("GET", "api.requests_show"): allow(STAFF, 200, tenant=(200, 404)),
    ("POST", "api.requests_approve"): allow(STAFF, 200),
    ("POST", "api.requests_reject"): allow(STAFF, 422),
    ("POST", "api.requests_withdraw"): allow(STAFF, 200, tenant=(200, 404)),
    ("POST", "api.requests_wait"): allow(STAFF, 200, tenant=(200, 404)),
    ("POST", "api.requests_accept"): allow(STAFF, 422, tenant=(422, 404)),  # nothing offered
    # Integrations: admins (a tenant's user for its own robots, once that role exists).
    ("GET", "api.robots_index"): allow(("admin",), 200),
    ("POST", "api.robots_create"): allow(("admin",), 422),
    ("DELETE", "api.robots_delete"): allow(("admin",), 204),
    ("POST", "api.robots_test"): allow(("admin",), 200),
    ("GET", "api.robots_deliveries"): allow(("admin",), 200),
    ("GET", "api.webhooks_index"): allow(("admin",), 200),
    ("POST", "api.webhooks_create"): allow(("admin",), 422),
    ("DELETE", "api.webhooks_delete"): allow(("admin",), 204),
    ("POST", "api.webhooks_test"): allow(("admin",), 200),
    ("GET", "api.webhooks_deliveries"): allow(("admin",), 200),
    ("POST", "api.deliveries_resend"): allow(("admin",), 200),
    # The 抖店 push has no token: 抖店's signature, missing here, is a 401 for anyone.
    ("POST", "api.push_doudian"): allow(ROLES, 401),
    # The month planner (coordinators and up); the world's plan is done with an empty draft.
    ("POST", "api.plans_create"): allow(STAFF, 422),
    ("GET", "api.plans_show"): allow(STAFF, 200),
    ("POST", "api.plans_accept"): allow(STAFF, 200),
    ("POST", "api.plans_cancel"): allow(STAFF, 409),  # not running
}
# The calendar feed is addressed by its secret token, not a login: the anchor's
# own token opens it for anyone, another (unknown) token for no one.
EXPECT[("GET", "calendar.anchor_feed")] = allow(ROLES, (200, 404))
EXPECT[("GET", "static")] = allow(ROLES, 200)


def _pages():
    """HTML routes: (method, endpoint) → expectation."""
    ev = STAFF + ("anchor", T)
    p = {
        ("GET", "auth.home"): allow(ev, 302),
        ("GET", "auth.login"): allow(ev, 302, anonymous=200, screen=200),
        ("POST", "auth.login"): allow(ev, 302, anonymous=400, screen=400),
        ("POST", "auth.logout"): allow(ev, 302, anonymous=302, screen=302),
        ("POST", "auth.language"): allow(ROLES, 302),
        ("GET", "auth.reauth"): allow(ev, 200),
        ("POST", "auth.reauth"): allow(ev, 400),
        ("GET", "auth.change_password"): allow(ev, 200),
        ("POST", "auth.change_password"): allow(ev, 400),
        ("GET", "auth.tokens"): allow(ev, 200),
        ("POST", "auth.tokens"): allow(ev, 200),
        ("POST", "auth.revoke_token"): allow(ev, (302, 404), admin=302),  # an admin may revoke anyone's
        ("GET", "admin.operations"): allow(("admin",), 200),
        ("POST", "admin.retry_email"): allow(("admin",), 404),
        ("GET", "admin.integrations"): allow(("admin",), 200),
        ("POST", "admin.add_robot"): allow(("admin",), 422),
        ("POST", "admin.add_webhook"): allow(("admin",), 422),
        ("POST", "admin.test_robot"): allow(("admin",), 302),
        ("POST", "admin.test_webhook"): allow(("admin",), 302),
        ("POST", "admin.delete_robot"): allow(("admin",), 302),
        ("POST", "admin.delete_webhook"): allow(("admin",), 302),
        ("POST", "admin.resend_delivery"): allow(("admin",), 302),
        ("GET", "rooms.index"): allow(ev, 200),
        ("GET", "rooms.show"): allow(ev, 200),
        ("GET", "rooms.zones"): allow(MGMT, 200),
        ("POST", "rooms.zones"): allow(MGMT, 302),  # absent fields keep the zones' order
        ("GET", "rooms.create"): allow(MGMT, 200),
        ("POST", "rooms.create"): allow(MGMT, 422),
        ("GET", "rooms.edit"): allow(MGMT, 200),
        ("POST", "rooms.edit"): allow(MGMT, 302),  # absent fields keep the room's values
        ("POST", "rooms.add_blackout"): allow(MGMT, 422),
        ("POST", "rooms.delete_blackout"): allow(MGMT, 302),
        ("GET", "tenants.index"): allow(STAFF, 200),
        ("GET", "tenants.create"): allow(STAFF, 200),
        ("POST", "tenants.create"): allow(STAFF, 422),
        ("GET", "tenants.edit"): allow(STAFF, 200),
        ("POST", "tenants.edit"): allow(STAFF, 422),
        ("POST", "tenants.add_account"): allow(("admin",), 422),
        ("GET", "anchors.index"): allow(STAFF, 200),
        ("GET", "anchors.create"): allow(STAFF, 200),
        ("POST", "anchors.create"): allow(STAFF, 422),
        ("GET", "anchors.edit"): allow(STAFF, 200),
        ("POST", "anchors.edit"): allow(STAFF, 422),
        # Products: a tenant's account its own (no tenant picker; another tenant's product is the 404 page).
        ("GET", "products.index"): allow(STAFF + (T,), 200),
        ("GET", "products.create"): allow(STAFF + (T,), 200),
        ("POST", "products.create"): allow(STAFF + (T,), 422),
        ("GET", "products.edit"): allow(STAFF, 200, tenant=(200, 404)),
        ("POST", "products.edit"): allow(STAFF, 422, tenant=(422, 404)),
        ("GET", "products.import_catalogue"): allow(STAFF + (T,), 200),
        ("POST", "products.import_catalogue"): allow(STAFF + (T,), 422),
        ("GET", "board.day"): allow(STAFF + (T,), 200),  # a tenant: others as busy blocks (no leak mark)
        ("GET", "board.week"): allow(STAFF + (T,), 200),
        ("GET", "bookings.create"): allow(STAFF, 200),
        ("POST", "bookings.create"): allow(STAFF, 422),
        ("GET", "bookings.show"): allow(STAFF, 200, tenant=(200, 404)),  # a tenant: its own booking's page
        ("GET", "bookings.edit"): allow(STAFF, 200),
        ("POST", "bookings.edit"): allow(STAFF, 422),
        ("GET", "bookings.runsheet"): allow(STAFF, 200, tenant=(200, 404)),
        ("GET", "bookings.free_anchors"): allow(STAFF, 200),
        ("POST", "bookings.set_anchors"): allow(STAFF, 302),
        ("POST", "bookings.add_anchor"): allow(STAFF, 302),
        ("POST", "bookings.cancel"): allow(STAFF, 422),  # no reason, no confirmation: the form again
        ("POST", "bookings.end"): allow(STAFF, 422),
        ("POST", "bookings.checkin"): allow(STAFF, 302),
        ("POST", "bookings.confirm"): allow(STAFF, 302),
        ("POST", "bookings.copy_setup"): allow(STAFF, 422),
        ("POST", "bookings.lineup_item"): allow(STAFF, 302, tenant=(302, 404)),  # a tenant: its own lineups
        ("POST", "bookings.lineup_add"): allow(STAFF, 422, tenant=(422, 404)),
        ("POST", "bookings.lineup_order"): allow(STAFF, 302, tenant=(302, 404)),
        ("GET", "review.show"): allow(STAFF, 200, anchor=(200, 403), tenant=(200, 404)),  # its own 复盘
        ("POST", "review.add_note"): allow(STAFF, 422, anchor=(422, 403)),
        ("GET", "me.schedule"): allow(("anchor",), 200),
        ("POST", "me.reset_feed"): allow(("anchor",), 302),
        ("GET", "me.session_detail"): allow((), 403, anchor=(200, 403)),
        ("POST", "me.checkin"): allow((), 403, anchor=(302, 403)),
        ("GET", "notifications.index"): allow(ev, 200),
        ("POST", "notifications.mark_read"): allow(ev, (302, 404)),
        ("POST", "notifications.mark_all_read"): allow(ev, 302),
        ("POST", "notifications.settings"): allow(ev, 302),
        ("GET", "favicon"): allow(ROLES, 301),
        ("GET", "orders.index"): allow(STAFF, 200),
        # Orders of sessions (list, CSV): a tenant's account its own sessions' only (no leak mark);
        # an anchor names one of its sessions (?booking_id=), without one: 403.
        ("GET", "orders.listing"): allow(STAFF + (T,), 200),
        ("GET", "orders.upload"): allow(STAFF, 200),
        ("POST", "orders.upload"): allow(STAFF, 422),
        ("GET", "orders.batch"): allow(STAFF, 200),
        ("GET", "orders.rejects"): allow(STAFF, 200),
        ("GET", "orders.progress"): allow(STAFF, 200, admin=404, manager=404),  # the uploader's own key only
        ("GET", "orders.unattributed"): allow(STAFF, 200),
        ("POST", "orders.unattributed"): allow(STAFF, 422),
        ("GET", "reports.index"): allow(MGMT + (T,), 200),  # a tenant: its own figures (no leak mark)
        ("GET", "forecast.index"): allow(MGMT, 200),
        ("GET", "forecast.panel"): allow(STAFF, 422),  # no query: nothing to forecast yet
        ("GET", "reports.export"): allow(MGMT + (T,), 200),
        ("GET", "screen.index"): allow(STAFF, 200, screen=200),
        ("GET", "screen.data"): allow(STAFF, 200),
        ("GET", "screen.tokens"): allow(("admin",), 200),
        ("POST", "screen.tokens"): allow(("admin",), 200),
        ("POST", "screen.revoke"): allow(("admin",), 302),
        # A tenant's home and requests: its own (another tenant's request is the 404 page).
        ("GET", "tenant.index"): allow((T,), 200),
        ("GET", "tenant.board"): allow((T,), 200),  # others' sessions as busy time only (no leak mark)
        ("GET", "requests.index"): allow(STAFF + (T,), 200),
        ("GET", "requests.create"): allow(STAFF + (T,), 200),
        ("POST", "requests.create"): allow(STAFF + (T,), 422),
        ("GET", "requests.show"): allow(STAFF, 200, tenant=(200, 404)),
        ("POST", "requests.approve"): allow(STAFF, 302),
        ("POST", "requests.reject"): allow(STAFF, 302),  # no reason: shown again with the message
        ("POST", "requests.withdraw"): allow(STAFF, 302, tenant=(302, 404)),
        ("POST", "requests.wait"): allow(STAFF, 302, tenant=(302, 404)),
        ("POST", "requests.accept"): allow(STAFF, 302, tenant=(302, 404)),
        ("GET", "plans.index"): allow(STAFF, 200),
        ("POST", "plans.create"): allow(STAFF, 302),  # no month: back with the message
        ("GET", "plans.show"): allow(STAFF, 200),
        ("GET", "plans.status"): allow(STAFF, 200),
        ("POST", "plans.accept"): allow(STAFF, 302),
        ("POST", "plans.rerun"): allow(STAFF, 302),
        ("POST", "plans.cancel"): allow(STAFF, 302),
    }
    return p


EXPECT.update(_pages())


def expected(method: str, endpoint: str, role: str, owner: str):
    row = EXPECT[(method, endpoint)]
    if role in row:
        value = row[role]
    elif role == "anonymous":
        value = 401 if endpoint.startswith("api.") else L
    elif role == "screen":  # a valid screen token, refused outside the screen
        value = 403 if endpoint.startswith("api.") else L
    else:
        value = 403
    if isinstance(value, tuple):
        value = value[0] if owner == "own" else value[1]
    return value


# -- The world ----------------------------------------------------------------

OWNED = {"booking_id", "anchor_id", "notification_id", "token_id", "feed_token", "request_id", "product_id"}


@pytest.fixture
def world(app, db_session, make):
    from opsroom.models import ImportBatch, LineupItem, Notification, ReviewNote
    from opsroom.services.people_goods.anchors import feed_token

    room, room2 = make.room(), make.room()
    tenant, tenant2 = make.tenant(), make.tenant()
    people = {role: make.user(role, **({"tenant_id": tenant.id} if role == "tenant" else {}))
              for role in ("admin", "manager", "coordinator", "anchor", "tenant")}
    other_user = make.user("anchor")
    me = make.anchor(name="我的主播", user_id=people["anchor"].id, tenant_id=None)
    other = make.anchor(name=MARK + "anchor", user_id=other_user.id)
    product = make.product(tenant)
    their_product = make.product(tenant2, name=MARK + "product")
    live_start = NOW - timedelta(minutes=30)
    own = make.booking(room, tenant, starts_at=live_start, ends_at=live_start + timedelta(hours=2), title="我的场次")
    theirs = make.booking(room2, tenant2, starts_at=live_start, ends_at=live_start + timedelta(hours=2),
                          title=MARK + "booking")
    from opsroom.models import BookingRequest
    from datetime import date, time

    requests = {}
    for owner, t in (("own", tenant), ("other", tenant2)):
        requests[owner] = BookingRequest(tenant_id=t.id, room_id=room.id, date=date(2026, 11, 21),
                                         window_start=time(19), window_end=time(23), minutes=120,
                                         anchors=[], note=MARK + "request" if owner == "other" else "我的申请",
                                         created_by_id=people["coordinator"].id)
        db_session.add(requests[owner])
    from opsroom.models import Plan

    plan = Plan(month=date(2026, 12, 1), status="done", time_limit_seconds=5, pins=[], progress={}, accepted=[],
                result={"placed": [], "unplaced": [], "stats": {}}, error="", created_by_id=people["coordinator"].id)
    db_session.add(plan)
    make.assign(own, me)
    make.assign(theirs, other)
    item = LineupItem(booking_id=own.id, product_id=product.id, position=1)
    db_session.add(item)
    make.order(own)
    make.order(theirs, external_id=MARK + "order")
    db_session.add(ReviewNote(booking_id=theirs.id, user_id=other_user.id, body=MARK + "note"))
    notes = {}
    for i, user in enumerate(list(people.values()) + [other_user]):
        n = Notification(user_id=user.id, kind="reminder", key=f"acc-{i}", booking_id=None,
                         title=(MARK + "notification") if user is other_user else f"通知 {i}", body="")
        db_session.add(n)
        notes[user.id] = n
    batch = ImportBatch(user_id=people["coordinator"].id, source="csv", platform="douyin", filename="a.csv",
                        state="done", upload_key="acc-upload")
    db_session.add(batch)
    blackout = make.blackout(room, starts_at=NOW + timedelta(days=3), ends_at=NOW + timedelta(days=3, hours=2))
    # A robot and a webhook pointing at a closed local port (a test send fails at once), and a failed delivery.
    from opsroom.models import Delivery, OutboxEvent, Robot, Webhook

    robot = Robot(kind="wecom", url="http://127.0.0.1:9/cgi-bin/webhook/send?key=k", events=["booking.created"])
    webhook = Webhook(url="http://127.0.0.1:9/hook", secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                      events=["booking.created"])
    event = OutboxEvent(type="booking.created", data={"id": own.id})
    db_session.add_all([robot, webhook, event])
    db_session.flush()
    delivery = Delivery(event_id=event.id, webhook_id=webhook.id, msg_id="msg_acc", state="failed")
    db_session.add(delivery)
    db_session.commit()
    tokens = {role: users.create_token(db_session, u, "acc") for role, u in people.items()}
    users.create_token(db_session, other_user, "other")
    screen_token = screen_service.create_token(db_session, people["admin"], "hall")
    db_session.commit()
    from opsroom.models import ApiToken, ScreenToken
    import sqlalchemy as sa

    token_ids = {u.id: db_session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == u.id))
                 for u in list(people.values()) + [other_user]}
    screen_id = db_session.scalar(sa.select(ScreenToken.id))
    return dict(people=people, other_user=other_user, room=room, tenant=tenant, me=me, other=other,
                product=product, their_product=their_product, own=own, theirs=theirs, item=item, notes=notes, batch=batch, blackout=blackout,
                tokens=tokens, screen_token=screen_token, token_ids=token_ids, screen_id=screen_id,
                requests=requests, plan=plan,
                robot=robot, webhook=webhook, delivery=delivery,
                feed=feed_token(db_session, me))


def _value(name: str, endpoint: str, world, role: str, owner: str):
    own = owner == "own"
    user = world["people"].get(role)
    if name == "booking_id":
        return (world["own"] if own else world["theirs"]).id
    if name == "anchor_id":
        return (world["me"] if own else world["other"]).id
    if name == "notification_id":
        if own and user is not None:
            return world["notes"][user.id].id
        return world["notes"][world["other_user"].id].id
    if name == "token_id":
        if endpoint.startswith("screen."):
            return world["screen_id"]
        if own and user is not None:
            return world["token_ids"][user.id]
        return world["token_ids"][world["other_user"].id]
    if name == "feed_token":
        return world["feed"] if own else "1.forged"
    if name == "request_id":
        return world["requests"]["own" if own else "other"].id
    if name == "product_id":
        return (world["product"] if own else world["their_product"]).id
    return {"room_id": world["room"].id, "tenant_id": world["tenant"].id,
            "blackout_id": world["blackout"].id, "batch_id": world["batch"].id, "item_id": world["item"].id,
            "plan_id": world["plan"].id, "action": "down", "filename": "css/app.css", "robot_id": world["robot"].id,
            "webhook_id": world["webhook"].id, "delivery_id": world["delivery"].id}[name]


QUERY = {
    "api.rooms_availability": "?date=2026-11-20",
    "api.anchors_schedule": "?from=2026-11-20&to=2026-11-21",
    "api.orders_index": lambda w, owner: f"?booking_id={(w['own'] if owner == 'own' else w['theirs']).id}",
    "orders.progress": "?key=acc-upload",
    "api.anchors_free": "?starts_at=2026-11-21T20:00:00%2B08:00&ends_at=2026-11-21T22:00:00%2B08:00",
    "api.reports_utilization": "?from=2026-11-01&to=2026-11-20",
    "reports.export": "?from=2026-11-01&to=2026-11-20&format=csv",
}
BODY = {  # a body that reaches the service's rules (or the first field check) and changes nothing lasting
    "api.rooms_update": {"name": "改名"}, "api.tenants_update": {"contact": "x"},
    "api.bookings_update": {"title": "改名"}, "api.anchors_update": {"verified": True},
    "api.products_update": {"stock": 5}, "api.bookings_cancel": {"reason": "x"},
    "api.requests_reject": {"reason": ""},
}


def _cases():
    from config import TestConfig
    from opsroom import create_app

    app = create_app(TestConfig, DATABASE_URL="sqlite://")
    rules = list(app.url_map.iter_rules())
    app.extensions["opsroom.engine"].dispose()
    out = []
    for r in rules:
        for method in sorted(r.methods - {"HEAD", "OPTIONS"}):
            owners = ("own", "other") if set(r.arguments) & OWNED else ("-",)
            out.append((method, r.endpoint, r.rule, tuple(sorted(r.arguments)), owners))
    return out


CASES = _cases()


def test_every_route_has_an_entry():
    """A new route must say who may use it."""
    served = {(m, e) for m, e, *_ in CASES}
    assert served - set(EXPECT) == set(), "routes without an access rule"
    assert set(EXPECT) - served == set(), "access rules for routes that do not exist"


def test_access_matrix(app, client, world, auth):
    import sqlalchemy as sa  # noqa: F401

    connection = app.extensions["opsroom.sessionmaker"].kw["bind"]
    clients = {}
    for role, user in world["people"].items():
        c = app.test_client()
        page = c.get("/login")
        c.post("/login", data={"email": user.email, "password": "correct horse battery",
                               "csrf_token": csrf_from(page.get_data(as_text=True))})
        clients[role] = c
    clients["anonymous"] = clients["screen"] = app.test_client()
    csrf = {}
    for role, c in clients.items():
        csrf[role] = csrf_from(c.get("/login" if role in ("anonymous", "screen") else "/account/tokens").get_data(as_text=True))

    wrong, leaks, counted, staff_saw = [], [], 0, 0
    for method, endpoint, rule, args, owners in CASES:
        for role in ROLES:
            for owner in owners:
                url = rule
                for name in args:
                    url = re.sub(r"<(?:[^>:]+:)?" + name + r"(?:\([^)]*\))?>", str(_value(name, endpoint, world, role, owner)), url)
                query = QUERY.get(endpoint, "")
                url += query(world, owner) if callable(query) else query
                c = clients[role]
                headers = {}
                if role == "screen":
                    headers["Authorization"] = f"Bearer {world['screen_token']}"
                    if endpoint == "screen.index":
                        url += "?token=" + world["screen_token"]
                elif role in world["tokens"] and rule.startswith("/api/"):
                    headers["Authorization"] = f"Bearer {world['tokens'][role]}"
                kw = {}
                if rule.startswith("/api/") and method in ("POST", "PUT", "PATCH"):
                    if endpoint not in ("api.products_import", "api.orders_import"):
                        kw["json"] = BODY.get(endpoint, {})
                elif method == "POST":
                    kw["data"] = {"csrf_token": csrf[role]}
                cookies = dict(c._cookies)
                savepoint = connection.begin_nested()
                try:
                    response = c.open(url, method=method, headers=headers, **kw)
                finally:
                    savepoint.rollback()
                    c._cookies.clear()
                    c._cookies.update(cookies)
                counted += 1
                want = expected(method, endpoint, role, owner)
                got = response.status_code
                if want == L:
                    ok = got == 302 and "/login" in response.headers.get("Location", "")
                else:
                    ok = got == want
                if not ok:
                    wrong.append(f"{method} {url} as {role} ({owner}): {got}, want {want}")
                body = response.get_data(as_text=True) if response.status_code < 400 else ""
                if MARK in body and role in STAFF:
                    staff_saw += 1
                if MARK in body and (role in ("anchor", T) or (role == "screen" and "screen" not in endpoint)):
                    leaks.append(f"{method} {url} as {role} ({owner}) shows {re.findall(MARK + r'[a-z]+', body)}")
    print(json.dumps({"cases": counted, "routes": len({(m, e) for m, e, *_ in CASES})}))
    if os.environ.get("OPSROOM_MATRIX_DUMP"):
        Path(os.environ["OPSROOM_MATRIX_DUMP"]).write_text("\n".join(wrong))
    assert leaks == []
    assert staff_saw >= 20  # the markers are there to be seen, by those who may
    assert wrong == [], "\n".join(wrong)
    assert counted == len(ROLES) * sum(len(owners) for *_, owners in CASES) >= 1270


def test_405_names_the_allowed_methods(client):
    """A method a route does not take: 405 with Allow (JSON under /api/, the error page elsewhere)."""
    api = client.open("/api/v1/rooms/1", method="TRACE")
    assert api.status_code == 405 and api.json["error"]["code"] == "method_not_allowed"
    assert set(api.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "PATCH"}
    page = client.put("/login")
    assert page.status_code == 405 and page.mimetype == "text/html"
    assert set(page.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
