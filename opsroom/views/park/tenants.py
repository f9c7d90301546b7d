"""Tenants: coordinators, managers and admins."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opsroom.db import get_session
from opsroom.views.forms import options, TenantForm
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
            "credit_code": (form.credit_code.data or "").strip(), "status": form.status.data}


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
    return render_template("tenants/form.html", form=form, tenant=tenant), 422 if form.errors else 200
