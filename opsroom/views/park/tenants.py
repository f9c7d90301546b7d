"""Tenants: coordinators, managers and admins."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opsroom.db import get_session
from opsroom.views.forms import options, TenantAccountForm, TenantForm
from opsroom.services.park import users as user_service
from opsroom.services.permissions import can
from opsroom.labels import TENANT_STATUS_LABELS
from opsroom.web.guards import permission_required
from opsroom.services.park import tenants as service
from opsroom.views.helpers import attempt

bp = Blueprint("tenants", __name__, url_prefix="/tenants")


def _form() -> TenantForm:
    form = TenantForm()
    form.status.choices = options([(k, str(v)) for k, v in TENANT_STATUS_LABELS.items()])
    return form


def _data(form: TenantForm) -> dict:
    return {"name": form.name.data.strip(), "short_name": (form.short_name.data or "").strip() or None,
            "contact": (form.contact.data or "").strip(),
            "credit_code": (form.credit_code.data or "").strip(), "status": form.status.data,
            "priority": form.priority.data, "prime_quota_hours_per_week": form.prime_quota_hours_per_week.data}


@bp.get("/")
@permission_required("tenants.read")
def index():
    return render_template("tenants/index.html", tenants=service.list_tenants(get_session(), current_user))


@bp.route("/new", methods=["GET", "POST"])
@permission_required("tenants.write")
def create():
    form = _form()
    if form.validate_on_submit():
        ok, tenant = attempt(form, lambda: service.create_tenant(get_session(), current_user, _data(form)))
        if ok:
            flash(_("Tenant %(name)s created.", name=tenant.name))
            return redirect(url_for("tenants.index"))
    return render_template("tenants/form.html", form=form, tenant=None), 422 if form.errors else 200


@bp.route("/<int:tenant_id>/edit", methods=["GET", "POST"])
@permission_required("tenants.write")
def edit(tenant_id: int):
    session = get_session()
    tenant = service.get_tenant(session, current_user, tenant_id)
    form = _form()
    if request.method == "GET":
        form.process(obj=tenant)
    if form.validate_on_submit():
        ok, _saved = attempt(form, lambda: service.update_tenant(session, current_user, tenant_id, _data(form)))
        if ok:
            flash(_("Tenant %(name)s saved.", name=form.name.data))
            return redirect(url_for("tenants.index"))
    return _edit_page(form, tenant, TenantAccountForm(formdata=None), 422 if form.errors else 200)


def _edit_page(form, tenant, account_form, status: int):
    accounts = (user_service.tenant_accounts(get_session(), current_user, tenant.id)
                if can(current_user, "users.admin") else [])
    return render_template("tenants/form.html", form=form, tenant=tenant, accounts=accounts,
                           account_form=account_form), status


@bp.post("/<int:tenant_id>/accounts")
@permission_required("users.admin")
def add_account(tenant_id: int):
    """An admin gives a tenant an account (商家账号)."""
    session = get_session()
    tenant = service.get_tenant(session, current_user, tenant_id)
    account_form = TenantAccountForm()
    if account_form.validate_on_submit():
        ok, user = attempt(account_form, lambda: user_service.create_tenant_account(
            session, current_user, tenant.id, email=account_form.email.data, name=account_form.name.data or "",
            password=account_form.password.data))
        if ok:
            flash(_("Account %(email)s created for %(name)s.", email=user.email, name=tenant.name))
            return redirect(url_for("tenants.edit", tenant_id=tenant.id))
    form = _form()
    form.process(obj=tenant)
    return _edit_page(form, tenant, account_form, 422)
