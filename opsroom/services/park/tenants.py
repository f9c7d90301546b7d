"""Resident companies (入驻企业)."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.models import Tenant
from opsroom.services.permissions import require
from opsroom.services import audit
from opsroom.services.errors import ValidationFailed, found
from opsroom.services.transaction import transactional

TENANT_FIELDS = ("name", "short_name", "contact", "credit_code", "status", "priority", "prime_quota_hours_per_week")


def _clean(data: dict) -> dict:
    """A blank short name is no short name (the board then shortens the name)."""
    if "short_name" in data:
        data = {**data, "short_name": (data["short_name"] or "").strip() or None}
    return data


def list_tenants(session: so.Session, user, *, status: str | None = None) -> list[Tenant]:
    require(user, "tenants.read")
    q = sa.select(Tenant).order_by(Tenant.name)
    if status:
        q = q.where(Tenant.status == status)
    return list(session.scalars(q))


def get_tenant(session: so.Session, user, tenant_id: int) -> Tenant:
    require(user, "tenants.read")
    return found(session.get(Tenant, tenant_id), _l("No such tenant."))


def _check_name(session: so.Session, name: str, tenant_id: int | None) -> None:
    if session.scalar(sa.select(Tenant.id).where(Tenant.name == name, Tenant.id != (tenant_id or 0))):
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "name", "message": _l("Another tenant has this name.")}])


@transactional
def create_tenant(session: so.Session, user, data: dict) -> Tenant:
    """Create a tenant; names are unique."""
    require(user, "tenants.write")
    _check_name(session, data["name"], None)
    data = _clean(data)
    tenant = Tenant(**{k: v for k, v in data.items() if k in TENANT_FIELDS})
    audit.add_created(session, user, "tenant", tenant, TENANT_FIELDS)
    return tenant


@transactional
def update_tenant(session: so.Session, user, tenant_id: int, data: dict) -> Tenant:
    """Change a tenant. A suspended or blacklisted tenant can no longer book;
    its future bookings stay and are flagged on the board."""
    require(user, "tenants.write")
    tenant = get_tenant(session, user, tenant_id)
    if "name" in data:
        _check_name(session, data["name"], tenant.id)
    data = _clean(data)
    audit.apply_update(session, user, "tenant", tenant, TENANT_FIELDS, data)
    return tenant
