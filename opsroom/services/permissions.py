"""Who may do what: one table of permissions by role, read by the services
(`require`) and by the faces (`can`, to show only what a user may do)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from opsroom.services.errors import Forbidden

STAFF = frozenset({"admin", "manager", "coordinator"})
MANAGEMENT = frozenset({"admin", "manager"})
# A tenant's account (商家账号) reads and writes only its own tenant's objects:
# each service's get_… answers another tenant's object as not found (404).
TENANT = frozenset({"tenant"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "rooms.read": frozenset({"admin", "manager", "coordinator", "anchor"}) | TENANT,
    "rooms.write": MANAGEMENT,
    "tenants.read": STAFF,
    "tenants.write": STAFF,
    # The board's grid (services/bookings/board): a tenant's account sees its own
    # sessions in full and other tenants' only as busy time.
    "board.view": STAFF | TENANT,
    # Staff only (no page of this branch uses it any more; kept for code merged from elsewhere).
    "board.read": STAFF,
    # A booking's page: a tenant's account its own bookings only (another's: 404).
    "bookings.page": STAFF | TENANT,
    "bookings.read": STAFF | {"anchor"} | TENANT,  # anchors, tenants: only their own sessions (services filter)
    "bookings.write": STAFF,
    "anchors.read": STAFF | {"anchor"},  # anchors: only themselves
    "anchors.write": STAFF,
    "products.read": STAFF | TENANT,  # tenants: their own (services filter)
    "products.write": STAFF | TENANT,
    "products.pages": STAFF | TENANT,  # the catalogue pages (a tenant's account: its own products)
    "lineup.write": STAFF | TENANT,  # a booking's lineup (a tenant's account: its own bookings)
    "schedule.own": frozenset({"anchor"}),
    "reports.read": MANAGEMENT,
    # The utilization and sales report pages: a tenant's account sees only its own
    # bookings, rooms' hours and sales (services/reporting/query forces the filter).
    "reports.own": MANAGEMENT | TENANT,
    # The forecast at booking (services/sales/forecast.py): staff, who book.
    "forecast.read": STAFF,
    "users.admin": frozenset({"admin"}),
    # Orders: staff import and assign; an anchor reads only their own sessions' orders.
    "orders.read": STAFF | {"anchor"} | TENANT,  # anchors, tenants: only their own sessions' orders
    "orders.write": STAFF,
    # Stats, big screen, review: "screen" is the role of a screen token's
    # principal (services/screen.py), which may read the screen and nothing else.
    "screen.read": STAFF | {"screen"},
    "screen.admin": frozenset({"admin"}),
    "reviews.write": STAFF | {"anchor"},  # anchors: only sessions they are on (services check)
    # Operations: every user reads their own inbox; admins see scheduler health and failed emails.
    "notifications.own": frozenset({"admin", "manager", "coordinator", "anchor"}) | TENANT,
    # Requests (预约申请): tenants ask (for themselves), staff ask for any tenant and decide.
    "requests.read": STAFF | TENANT,
    "requests.write": STAFF | TENANT,
    "requests.decide": STAFF,
    "tenant.home": TENANT,
    # The month planner: coordinators and up run it, review its drafts and accept them.
    "plans.read": STAFF,
    "plans.write": STAFF,
    "operations.admin": frozenset({"admin"}),
    # Integrations: admins manage every robot and webhook; "robots.own" lets a
    # user bound to a tenant (user.tenant_id) manage that tenant's group robots
    # (services/integrations/targets.may_manage_robot): give it to the tenant role.
    "integrations.admin": frozenset({"admin"}),
    "robots.own": frozenset(),
}


def can(user, permission: str) -> bool:
    return bool(user) and getattr(user, "is_authenticated", False) and user.role in PERMISSIONS[permission]


def require(user, permission: str) -> None:
    """Raise Forbidden unless `user`'s role holds `permission`."""
    if not can(user, permission):
        raise Forbidden(_l("Your role may not do this."))
