"""Products (商品): a tenant's catalogue, by hand or imported from a CSV."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from opsroom.db import get_session
from opsroom.domain.money import MoneyError, format_money, parse_money
from opsroom.views.forms import CatalogueImportForm, ProductForm, options
from opsroom.web.guards import permission_required
from opsroom.services.people_goods import products as service
from opsroom.services.park import tenants as tenant_service
from opsroom.views.helpers import attempt

bp = Blueprint("products", __name__, url_prefix="/products")

# Certifications the park knows (stored as written on the labels), with names.
CERTIFICATIONS = {"绿色食品": _l("Green Food"), "有机": _l("Organic"), "地理标志": _l("Geographical indication")}

MONEY_MESSAGES = {
    "invalid": _l("Enter an amount such as 129.90."),
    "negative": _l("The price cannot be negative."),
    "precision": _l("Use at most two decimals."),
    "too_large": _l("This amount is too large."),
}


@bp.app_template_filter("yuan")
def yuan(fen) -> str:
    """Integer fen as "¥129.90"."""
    return "" if fen is None else "¥" + format_money(int(fen))


@bp.app_template_global()
def certification_label(value: str) -> str:
    return str(CERTIFICATIONS.get(value, value))


def _split(text: str) -> list[str]:
    for sep in ("、", "；", "，", ","):
        text = text.replace(sep, ";")
    return [c.strip() for c in text.split(";") if c.strip()]


def _own_tenant() -> int | None:
    """A tenant's account's own tenant (its pages have no tenant picker: the tenant is implied)."""
    return current_user.tenant_id if current_user.role == "tenant" else None


def _tenant_arg() -> int | None:
    """?tenant_id= as an id; anything a column cannot hold names no tenant.
    A tenant's account: always its own tenant."""
    if (own := _own_tenant()) is not None:
        return own
    value = request.args.get("tenant_id", type=int)
    return value if value is not None and 0 < value < 2**31 else None


def _tenant_choices():
    if _own_tenant() is not None:
        return [(current_user.tenant_id, current_user.tenant.name)]
    return [(t.id, t.name) for t in tenant_service.list_tenants(get_session(), current_user)]


def _imply_tenant(form) -> None:
    """A tenant's account names no tenant: its own is the form's, whatever was posted."""
    if (own := _own_tenant()) is not None:
        form.tenant_id.data = own
        form.tenant_id.raw_data = [str(own)]


def _form() -> ProductForm:
    form = ProductForm()
    form.tenant_id.choices = options(_tenant_choices())
    _imply_tenant(form)
    form.certifications.choices = options([(k, str(v)) for k, v in CERTIFICATIONS.items()])
    return form


def _form_data(form: ProductForm) -> dict | None:
    """The service's fields, or None when the price is not an amount (marked on the field)."""
    try:
        price_fen = parse_money(form.price.data or "")
    except MoneyError as exc:
        form.price.errors = list(form.price.errors) + [str(MONEY_MESSAGES[exc.code])]
        return None
    certifications = list(form.certifications.data or [])
    certifications += [c for c in _split(form.other_certifications.data or "") if c not in certifications]
    return {
        "tenant_id": form.tenant_id.data,
        "sku": form.sku.data.strip(),
        "name": form.name.data.strip(),
        "category": (form.category.data or "").strip(),
        "price_fen": price_fen,
        "stock": form.stock.data or 0,
        "certifications": certifications[:20],
        "active": form.active.data,
    }


@bp.get("/")
@permission_required("products.pages")
def index():
    tenant_id = _tenant_arg()
    products = service.list_products(get_session(), current_user, tenant_id=tenant_id)
    return render_template("products/index.html", products=products, tenant_id=tenant_id, tenants=_tenant_choices(),
                           own_tenant=_own_tenant())


@bp.route("/new", methods=["GET", "POST"])
@permission_required("products.pages")
def create():
    form = _form()
    if not form.is_submitted():
        form.tenant_id.data = _tenant_arg()
    if form.validate_on_submit() and (data := _form_data(form)) is not None:
        ok, product = attempt(form, lambda: service.create_product(get_session(), current_user, data))
        if ok:
            flash(_("Product %(sku)s created.", sku=product.sku))
            return redirect(url_for("products.index", tenant_id=product.tenant_id))
    return render_template("products/form.html", form=form, product=None), 422 if form.errors else 200


@bp.route("/<int:product_id>/edit", methods=["GET", "POST"])
@permission_required("products.pages")
def edit(product_id: int):
    session = get_session()
    product = service.get_product(session, current_user, product_id)
    form = _form()
    if not form.is_submitted():
        form.process(obj=product)
        form.price.data = format_money(product.price_fen)
        known = [c for c in product.certifications or [] if c in CERTIFICATIONS]
        form.certifications.data = known
        form.other_certifications.data = "、".join(c for c in product.certifications or [] if c not in CERTIFICATIONS)
    if form.validate_on_submit() and (data := _form_data(form)) is not None:
        ok, _saved = attempt(form, lambda: service.update_product(session, current_user, product_id, data))
        if ok:
            flash(_("Product %(sku)s saved.", sku=data["sku"]))
            return redirect(url_for("products.index", tenant_id=data["tenant_id"]))
    return render_template("products/form.html", form=form, product=product), 422 if form.errors else 200


@bp.route("/import", methods=["GET", "POST"])
@permission_required("products.pages")
def import_catalogue():
    form = CatalogueImportForm()
    form.tenant_id.choices = options(_tenant_choices())
    _imply_tenant(form)
    if not form.is_submitted():
        form.tenant_id.data = _tenant_arg()
    result = None
    if form.validate_on_submit():
        session = get_session()
        ok, result = attempt(form, lambda: service.import_catalogue(session, current_user, form.tenant_id.data, form.file.data.read()))
        if ok:
            if result["errors"]:
                flash(_("%(n)s rows could not be imported; see the list below.", n=len(result["errors"])), "warning")
            else:
                flash(_("Catalogue imported."))
    status = 422 if form.errors else 200
    return render_template("products/import.html", form=form, result=result), status
