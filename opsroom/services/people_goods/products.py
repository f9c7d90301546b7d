"""Products (商品): a tenant's catalogue; CSV import reports every bad row."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.domain import csv_rows
from opsroom.models import Product, Tenant
from opsroom.services.permissions import require
from opsroom.services import audit
from opsroom.services.errors import NotFound, ValidationFailed, found
from opsroom.services.transaction import transactional

PRODUCT_FIELDS = ("tenant_id", "sku", "name", "category", "price_fen", "stock", "certifications", "active")
MAX_IMPORT_ROWS = 20000

ROW_MESSAGES = {
    "required": _l("%(column)s is empty."),
    "too_long": _l("%(column)s is too long."),
    "price": _l("The price is not an amount such as 129.90."),
    "stock": _l("The stock is not a whole number."),
    "encoding": _l("The file is neither UTF-8 nor GBK."),
    "duplicate": _l("This SKU appears earlier in the file."),
    "nul": _l("%(column)s contains a NUL character."),
    "csv": _l("This row is not valid CSV (an unclosed quote or a cell that is too long)."),
}


def list_products(session: so.Session, user, *, tenant_id: int | None = None) -> list[Product]:
    """Products, of one tenant if given; a tenant's account sees only its own."""
    require(user, "products.read")
    q = sa.select(Product).options(so.joinedload(Product.tenant)).order_by(Product.tenant_id, Product.sku)
    if user.role == "tenant":
        if tenant_id is not None and tenant_id != user.tenant_id:
            return []
        tenant_id = user.tenant_id
    if tenant_id is not None:
        q = q.where(Product.tenant_id == tenant_id)
    return list(session.scalars(q))


def get_product(session: so.Session, user, product_id: int) -> Product:
    """A product; another tenant's is not found for a tenant's account."""
    require(user, "products.read")
    product = found(session.get(Product, product_id), _l("No such product."))
    if user.role == "tenant" and product.tenant_id != user.tenant_id:
        raise NotFound(_l("No such product."))
    return product


def _own_tenant(user, data: dict, *, creating: bool) -> dict:
    """A tenant's account manages only its own products: the tenant is its own."""
    if user.role != "tenant":
        return data
    if data.get("tenant_id") not in (None, user.tenant_id):
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "tenant_id", "message": _l("No such tenant.")}])
    return {**data, "tenant_id": user.tenant_id} if creating else data


def _check(session: so.Session, product: Product, data: dict) -> None:
    errors = []
    tenant_id = data.get("tenant_id", product.tenant_id)
    if tenant_id is None or session.get(Tenant, tenant_id) is None:
        errors.append({"field": "tenant_id", "message": _l("No such tenant.")})
    sku = data.get("sku", product.sku)
    if tenant_id and session.scalar(sa.select(Product.id).where(
            Product.tenant_id == tenant_id, Product.sku == sku, Product.id != (product.id or 0))):
        errors.append({"field": "sku", "message": _l("This tenant has a product with this SKU already.")})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)


@transactional
def create_product(session: so.Session, user, data: dict) -> Product:
    """A product of a tenant; the SKU is unique per tenant."""
    require(user, "products.write")
    data = _own_tenant(user, data, creating=True)
    product = Product(certifications=[])
    _check(session, product, data)
    for key, value in data.items():
        if key in PRODUCT_FIELDS:
            setattr(product, key, value)
    audit.add_created(session, user, "product", product, PRODUCT_FIELDS)
    return product


@transactional
def update_product(session: so.Session, user, product_id: int, data: dict) -> Product:
    require(user, "products.write")
    data = _own_tenant(user, data, creating=False)
    product = get_product(session, user, product_id)
    _check(session, product, data)
    audit.apply_update(session, user, "product", product, PRODUCT_FIELDS, data)
    return product


@transactional
def import_catalogue(session: so.Session, user, tenant_id: int, data: bytes) -> dict:
    """Create or update a tenant's products from a CSV (UTF-8/GBK, Chinese or
    English headers). Every row that cannot be taken is reported with its
    line and reason; the good rows are applied together."""
    require(user, "products.write")
    if session.get(Tenant, tenant_id) is None or (user.role == "tenant" and tenant_id != user.tenant_id):
        raise ValidationFailed(_l("Please correct the marked fields."), [{"field": "tenant_id", "message": _l("No such tenant.")}])
    try:
        text = csv_rows.decode(data)
    except csv_rows.RowError:
        raise ValidationFailed(_l("The file cannot be read."), [{"field": "file", "message": ROW_MESSAGES["encoding"]}]) from None
    try:
        table = csv_rows.read_table(text, csv_rows.PRODUCT_COLUMNS, required=("sku", "name"))
    except csv_rows.RowError:
        raise ValidationFailed(_l("The file cannot be read."), [
            {"field": "file", "message": _l("The first line is not a CSV header.")}]) from None
    if table.missing:
        raise ValidationFailed(_l("The file cannot be read."), [
            {"field": "file", "message": _l("Missing column: %(column)s", column=name)} for name in table.missing])
    if len(table.rows) > MAX_IMPORT_ROWS:
        raise ValidationFailed(_l("The file cannot be read."), [
            {"field": "file", "message": _l("At most %(n)s rows per file.", n=MAX_IMPORT_ROWS)}])
    good, bad = csv_rows.parse_rows(table, csv_rows.product_row)
    errors = [{"line": line, "message": str(ROW_MESSAGES[e.code]) % {"column": table.columns.get(e.column, e.column)}}
              for line, e in sorted(bad, key=lambda pair: pair[0])]
    existing = {p.sku: p for p in session.scalars(sa.select(Product).where(Product.tenant_id == tenant_id))}
    seen, created, updated = set(), 0, 0
    for line, fields in good:
        if fields["sku"] in seen:
            errors.append({"line": line, "message": str(ROW_MESSAGES["duplicate"])})
            continue
        seen.add(fields["sku"])
        product = existing.get(fields["sku"])
        if product is None:
            session.add(Product(tenant_id=tenant_id, **fields))
            created += 1
        else:
            for key, value in fields.items():
                setattr(product, key, value)
            updated += 1
    audit.record(session, user, "tenant", tenant_id, "catalogue_imported",
                 {"created": created, "updated": updated, "errors": len(errors)})
    return {"created": created, "updated": updated, "errors": sorted(errors, key=lambda e: e["line"])}
