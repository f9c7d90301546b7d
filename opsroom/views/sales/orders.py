"""Orders pages: upload a shop export (with progress), see an import's result
and its rejected rows, and assign unattributed orders to sessions."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField, SelectField


from opsroom import clock
from opsroom.db import get_session
from opsroom.domain import hours
from opsroom.domain.numbers import MAX_INT, whole_number
from opsroom.domain.order_formats import FORMATS, PLATFORMS
from opsroom.views.forms import PostForm, options
from opsroom.web.i18n import park_tz
from opsroom.web.guards import permission_required
from opsroom.services.errors import NotFound, ServiceError
from opsroom.views.helpers import apply_errors
from opsroom.web.extensions import csrf
from opsroom.services.sales.batches import batch_by_key, batch_rejects, get_batch, recent_batches, rejects_csv
from opsroom.services.sales.ingestion import import_export
from opsroom.services.sales.orders import (
    attribute, list_orders, orders_csv, suggest_sessions, unattributed_count, unattributed_page)
from opsroom.web.serialize import batch_json
from opsroom.web.uploads import raise_upload_limit, upload_size

bp = Blueprint("orders", __name__, url_prefix="/orders")

UNATTRIBUTED_PAGE = 50
REJECTS_SHOWN = 200
FIELD_NAMES = {
    "external_id": _l("Order number (the unique key)"), "parent_id": _l("Parent order number"),
    "platform": _l("Platform"), "booking_id": _l("Booking id (assigns the order to that session)"),
    "room_code": _l("Room code (attributes by room and time)"),
    "anchor_account": _l("Anchor's platform account (attributes by anchor and time)"),
    "sku": _l("SKU (links the tenant's product)"), "product_id": _l("Platform product id (not stored)"),
    "product_name": _l("Product"), "quantity": _l("Quantity"), "amount": _l("Amount in yuan"),
    "refund": _l("Refund in yuan"), "ordered_at": _l("Order time (park time unless it has an offset)"),
    "status": _l("Order status"), "after_sale": _l("After-sale / refund status"), "buyer": _l("Buyer"),
}


class OrderImportForm(FlaskForm):
    file = FileField(_l("Order export (CSV)"), validators=[FileRequired(_l("Choose a CSV file."))])
    platform = SelectField(_l("Platform"), choices=options([("", _l("As the file's columns say"))] + list(PLATFORMS.items())),
                           default="")
    upload_key = HiddenField()


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _json_error(status: int, message, details=None):
    response = jsonify({"error": {"code": "validation_error" if status == 422 else "error",
                                  "message": str(message), "details": [
                                      {k: str(v) for k, v in d.items()} for d in (details or [])]}})
    response.status_code = status
    return response


LISTED_DAYS = 93  # the longest range the orders list takes
LISTED_ROWS = 1000  # rows shown on the page (the CSV has them all, up to EXPORTED_ROWS)
EXPORTED_ROWS = 50000


def _list_args() -> tuple[date, date, int | None, dict]:
    """?from=&to= (park-local days, by default the last seven) and ?booking_id=; with the
    messages of what cannot be read, by field."""
    today = clock.now().astimezone(park_tz()).date()
    errors: dict = {}
    days = {}
    for name, default in (("from", today - timedelta(days=6)), ("to", today)):
        raw = request.args.get(name) or ""
        try:
            days[name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            days[name] = default
            errors[name] = _("Enter a date such as 2026-11-20.")
    first, last = days["from"], days["to"]
    if "from" not in errors and "to" not in errors:
        if last < first:
            errors["to"] = _("The last day cannot be before the first.")
        elif (last - first).days >= LISTED_DAYS:
            errors["to"] = _("At most %(n)s days at once.", n=LISTED_DAYS)
        elif not (2000 <= first.year and last.year <= 2100):
            errors["from"] = _("Enter a date such as 2026-11-20.")
    raw_booking = request.args.get("booking_id") or ""
    booking_id = whole_number(raw_booking, maximum=MAX_INT) if raw_booking else None
    if raw_booking and not booking_id:
        errors["booking_id"] = _("No such booking.")
    return first, last, booking_id, errors


@bp.get("/list")
@permission_required("orders.read")
def listing():
    """Orders of sessions in a range of days, or of one session; ?format=csv downloads them.
    A tenant's account sees its own sessions' orders only (another's session: 404)."""
    first, last, booking_id, errors = _list_args()
    fmt = request.args.get("format") or "html"
    if fmt not in ("html", "csv"):
        errors["format"] = _("Choose CSV.")
    args = {"from": first.isoformat(), "to": last.isoformat(), **({"booking_id": booking_id} if booking_id else {})}
    if errors:
        return render_template("orders/list.html", orders=[], args=args, errors=errors, more=False), 422
    session, tz = get_session(), park_tz()
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    limit = EXPORTED_ROWS if fmt == "csv" else LISTED_ROWS + 1
    rows = list_orders(session, current_user, booking_id=booking_id, start=None if booking_id else start,
                       end=None if booking_id else end, limit=limit)
    if fmt == "csv":
        name = f"orders-{booking_id}.csv" if booking_id else f"orders-{first.isoformat()}-{last.isoformat()}.csv"
        return Response(orders_csv(rows, tz), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return render_template("orders/list.html", orders=rows[:LISTED_ROWS], args=args, errors={},
                           more=len(rows) > LISTED_ROWS, total=sum(o.amount_fen for o in rows[:LISTED_ROWS]))


@bp.get("/")
@permission_required("orders.write")
def index():
    session = get_session()
    return render_template("orders/index.html", batches=recent_batches(session, current_user),
                           unattributed=unattributed_count(session, current_user))


# CSRFProtect reads the form before any view runs, which would refuse a large
# upload at the global MAX_CONTENT_LENGTH; this view is exempt from that early
# check, raises the limit for itself, then checks the CSRF token (FlaskForm).
@bp.route("/import", methods=["GET", "POST"])
@csrf.exempt
@permission_required("orders.write")
def upload():
    if request.method == "POST":
        raise_upload_limit()
        try:
            csrf.protect()  # the same check (and 400) as every other form, now that the body may be read
            form = OrderImportForm()
            valid = form.validate_on_submit()
        except RequestEntityTooLarge:
            abort(413)
    else:
        form = OrderImportForm()
        valid = False
    if valid:
        upload_file = form.file.data
        try:
            result = import_export(
                get_session(), current_user, upload_file.stream, platform=form.platform.data or None,
                filename=upload_file.filename or "", size=upload_size(upload_file),
                upload_key=(form.upload_key.data or "").replace("\x00", ""))
        except ServiceError as exc:
            get_session().rollback()
            if _wants_json():
                return _json_error(exc.status, exc.message, exc.details)
            apply_errors(form, exc)
        else:
            url = url_for("orders.batch", batch_id=result["batch_id"])
            if _wants_json():
                return jsonify({"batch_id": result["batch_id"], "url": url})
            return redirect(url)
    elif request.method == "POST" and _wants_json():
        details = [{"field": name, "message": msg} for name, errors in form.errors.items() for msg in errors]
        return _json_error(422 if "csrf_token" not in form.errors else 400, _("Please correct the marked fields."), details)
    status = 422 if form.errors else 200
    return render_template("orders/import.html", form=form, formats=FORMATS, field_names=FIELD_NAMES), status


@bp.get("/imports/progress")
@permission_required("orders.write")
def progress():
    """The progress of the user's upload with this key (polled by the upload page)."""
    key = (request.args.get("key") or "")[:64]
    if not key or "\x00" in key:
        abort(404)
    try:
        batch = batch_by_key(get_session(), current_user, key)
    except NotFound:
        return jsonify({"state": "waiting"}), 404
    return jsonify({**batch_json(batch), "url": url_for("orders.batch", batch_id=batch.id)})


@bp.get("/imports/<int:batch_id>")
@permission_required("orders.write")
def batch(batch_id: int):
    session = get_session()
    found = get_batch(session, current_user, batch_id)
    rejects = batch_rejects(session, current_user, batch_id, limit=REJECTS_SHOWN)
    return render_template("orders/batch.html", batch=found, rejects=rejects, shown=REJECTS_SHOWN)


@bp.get("/imports/<int:batch_id>/rejects.csv")
@permission_required("orders.write")
def rejects(batch_id: int):
    data = rejects_csv(get_session(), current_user, batch_id)
    return send_file(data, mimetype="text/csv", as_attachment=True, download_name=f"import-{batch_id}-rejects.csv")


def _day_arg() -> date | None:
    raw = request.args.get("date") or ""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400)
    if not 2000 <= day.year <= 2100:
        abort(400)
    return day


def _filters() -> dict:
    """The unattributed list's filters from the query string (a bad date is a 400)."""
    text = {k: (request.args.get(k) or "").strip()[:100] for k in ("platform", "room", "account")}
    return {"date": _day_arg(), **text}


def _query(filters: dict, page: int | None = None) -> dict:
    q = {"date": filters["date"].isoformat() if filters["date"] else None, "platform": filters["platform"] or None,
         "room": filters["room"] or None, "account": filters["account"] or None}
    if page and page > 1:
        q["page"] = page
    return {k: v for k, v in q.items() if v is not None}


def _assignments() -> tuple[list[int | None], int | None]:
    """The orders and the session a POST names: one row's suggestion ("pair" =
    order:booking), one row with the chosen session ("only"), or the ticked rows."""
    pair = request.form.get("pair") or ""
    if pair:
        order, _sep, booking = pair.partition(":")
        return [whole_number(order, maximum=MAX_INT)], whole_number(booking, maximum=MAX_INT)
    only = request.form.get("only")
    raw_ids = [only] if only else request.form.getlist("order_ids")
    return ([whole_number(v, maximum=MAX_INT) for v in raw_ids],
            whole_number(request.form.get("booking_id") or "", maximum=MAX_INT))


@bp.route("/unattributed", methods=["GET", "POST"])
@permission_required("orders.write")
def unattributed():
    """Orders no session claimed, a page at a time, filtered by day, platform,
    room code and anchor account; each with the sessions it likely belongs to.
    A coordinator assigns a row to a suggestion, or the ticked rows to one session."""
    session = get_session()
    filters = _filters()
    page = min(whole_number(request.args.get("page") or "1", maximum=MAX_INT) or 1, 10**6)
    form = PostForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        ids, booking_id = _assignments()
        if not ids or any(not i for i in ids):
            flash(_("Tick at least one order."), "error")
        elif not booking_id:
            flash(_("Choose the session to assign the orders to."), "error")
        else:
            try:
                n = attribute(session, current_user, ids, booking_id)
            except ServiceError as exc:
                session.rollback()
                for detail in exc.details or [{"message": exc.message}]:
                    flash(str(detail.get("message", exc.message)), "error")
            else:
                flash(ngettext("%(num)d order assigned.", "%(num)d orders assigned.", n))
                return redirect(url_for("orders.unattributed", **_query(filters, page)))
    start = end = None
    if filters["date"] is not None:
        window = hours.local_day(filters["date"], park_tz())
        start, end = window.start, window.end
    orders, matching = unattributed_page(
        session, current_user, start=start, end=end, platform=filters["platform"], room_code=filters["room"],
        anchor_account=filters["account"], offset=(page - 1) * UNATTRIBUTED_PAGE, limit=UNATTRIBUTED_PAGE)
    suggestions, bookings = suggest_sessions(session, current_user, orders)
    pages = max(1, -(-matching // UNATTRIBUTED_PAGE))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "orders/unattributed.html", orders=orders, bookings=bookings, suggestions=suggestions, filters=filters,
        form=form, matching=matching, total=unattributed_count(session, current_user), page=page, pages=pages,
        first=(page - 1) * UNATTRIBUTED_PAGE + 1, platforms=PLATFORMS,
        prev_url=url_for("orders.unattributed", **_query(filters, page - 1)) if page > 1 else None,
        next_url=url_for("orders.unattributed", **_query(filters, page + 1)) if page < pages else None), status
