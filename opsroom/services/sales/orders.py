"""Orders (订单): ingestion from JSON batches and shop exports, attribution to
sessions, the unattributed list and assignment by hand (DESIGN.md §4).

- One row per platform sub-order, unique on (platform, external_id). Writing
  is one `INSERT … ON CONFLICT (platform, external_id) DO UPDATE … WHERE
  <changed> RETURNING` per chunk on both engines, never read-then-write: two
  clients importing the same orders at once store each order once, and a
  re-import changes only status, amounts and quantity (and fills in a
  missing attribution), so it never double counts.
- Attribution, first match wins: the row's explicit booking id; else its
  room code and a session of that room (not cancelled) whose
  [starts_at, ends_at + grace) holds the order time; else the anchor whose
  platform account it names and a session they are assigned to, same window;
  else unattributed, kept for a coordinator to assign. Nothing is dropped:
  a row that cannot be taken is a reject with its line/index and reason.
- Every ingestion is an ImportBatch (who, when, counts, state) with its
  rejects. A JSON batch is one transaction; a shop export is streamed and
  committed chunk by chunk, each chunk all or nothing (a retry after a crash
  changes nothing that was already taken).
"""
from __future__ import annotations

import csv
import io
import tempfile
from datetime import datetime, timedelta
from typing import IO, Any, Iterable, Iterator

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from opsroom import clock
from opsroom.domain.cells import safe_cell
from opsroom.domain import orders as rules
from opsroom.domain.csv_rows import RowError
from opsroom.domain.order_exports import ExportError, ExportReader
from opsroom.domain.order_formats import FORMATS, PLATFORMS
from opsroom.i18n import park_tz
from opsroom.models import Anchor, Assignment, Booking, ImportBatch, ImportReject, Order, Product, Room
from opsroom.services.permissions import require
from opsroom.services import audit
from opsroom.services.bookings.core import get_booking
from opsroom.services.errors import Forbidden, NotFound, RuleViolation, ValidationFailed

ORDERS = Order.__table__
REJECTS = ImportReject.__table__
# Statement size for the upsert: rows per INSERT … VALUES (…), (…) (SQLite
# allows 32,766 parameters; an order row has 17).
UPSERT_ROWS = 1000
UPSERT_COLUMNS = ("platform", "external_id", "parent_id", "booking_id", "attributed_by", "room_code",
                  "anchor_account", "sku", "product_id", "product_name", "buyer", "quantity", "amount_fen",
                  "refund_fen", "status", "ordered_at")

FIELD_LABELS = {
    "external_id": _l("order number"), "parent_id": _l("parent order number"), "platform": _l("platform"),
    "booking_id": _l("booking"), "room_code": _l("room code"), "anchor_account": _l("anchor account"),
    "sku": _l("SKU"), "product_name": _l("product"), "buyer": _l("buyer"), "quantity": _l("quantity"),
    "amount": _l("amount"), "refund": _l("refund"), "ordered_at": _l("order time"), "status": _l("status"),
    "after_sale": _l("after-sale status"), "": _l("row"),
}
ROW_MESSAGES = {
    "required": _l("%(field)s is missing."),
    "invalid": _l("%(field)s has the wrong type."),
    "too_long": _l("%(field)s is too long."),
    "nul": _l("%(field)s contains a NUL character."),
    "scientific": _l("%(field)s was turned into a number by a spreadsheet (e.g. 4.87E+18); export the IDs as text."),
    "amount": _l("%(field)s is not an amount in yuan such as 129.90 (at most two decimals, not negative)."),
    "refund": _l("%(field)s is not an amount in yuan such as 129.90."),
    "refund_above_amount": _l("The refund is larger than the amount."),
    "quantity": _l("%(field)s is not a whole number."),
    "booking_id": _l("%(field)s is not a booking id."),
    "no_booking": _l("No booking has this id."),
    "cancelled_booking": _l("Orders cannot be assigned to a cancelled session."),
    "time": _l("%(field)s is not a time such as 2026-11-20 20:05:00."),
    "naive": _l("%(field)s needs an offset, e.g. 2026-11-20T20:05:00+08:00."),
    "year": _l("%(field)s has an implausible year."),
    "status": _l("%(field)s is not a known order status."),
    "after_sale": _l("%(field)s is not a known after-sale status."),
    "platform": _l("%(field)s must be a platform code such as douyin."),
    "encoding": _l("This line is not in the file's encoding (UTF-8 or GBK)."),
    "csv": _l("This row is not valid CSV (an unclosed quote or a cell that is too long)."),
}
FILE_MESSAGES = {
    "empty": _l("The file is empty."),
    "encoding": _l("The file is neither UTF-8 nor GBK/GB18030."),
    "utf16": _l("The file is UTF-16 (\"Unicode text\"); save it as CSV (UTF-8) or CSV (GBK)."),
    "header": _l("The first line is not a CSV header."),
    "binary": _l("This is not a CSV text file."),
    "columns": _l("The file lacks columns an order export needs."),
}


def row_message(exc: RowError) -> str:
    label = FIELD_LABELS.get(exc.column, exc.column)
    return str(ROW_MESSAGES.get(exc.code, ROW_MESSAGES["invalid"])) % {"field": str(label)}


def _grace() -> timedelta:
    return timedelta(minutes=current_app.config["ORDER_ATTRIBUTION_GRACE_MINUTES"])


# ---------------------------------------------------------------------------
# Ingestion


def ingest_rows(session: so.Session, user, rows: list[dict], *, source: str = "json",
                platform: str | None = None, batch: ImportBatch | None = None) -> dict:
    """Store parsed order rows (see domain.orders.ROW_KEYS) atomically, with
    attribution; rows that fail the checks are reported by 0-based index and
    skipped. `platform` fills rows that carry none. With `batch` the counts
    add to that batch (left running); without, a batch of its own is recorded.
    Commits. → {"created", "updated", "unchanged", "unattributed", "errors", "batch_id"}."""
    require(user, "orders.write")
    good, bad = [], []
    for i, row in enumerate(rows):
        try:
            good.append((i, rules.check_row(row, platform)))
        except RowError as exc:
            bad.append((i, _ext(row), row_message(exc)))
    return _ingest_batch(session, user, good, bad, source=source, platform=platform, batch=batch)


def import_json(session: so.Session, user, items: list) -> dict:
    """POST /orders: each element parsed on its own (domain.orders.order_from_json),
    the good ones applied together in one transaction. Commits."""
    require(user, "orders.write")
    limit = current_app.config["ORDER_BATCH_MAX_ROWS"]
    if not isinstance(items, list):
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "orders", "message": _l("Expected a list of orders.")}])
    if len(items) > limit:
        raise ValidationFailed(_l("Too many orders in one call."),
                               [{"field": "orders", "message": _l("At most %(n)s orders per call.", n=limit)}])
    good, bad = [], []
    for i, item in enumerate(items):
        try:
            good.append((i, rules.order_from_json(item)))
        except RowError as exc:
            bad.append((i, _ext(item), row_message(exc)))
    platforms = {row["platform"] for _, row in good}
    return _ingest_batch(session, user, good, bad, source="json",
                         platform=platforms.pop() if len(platforms) == 1 else "")


def _ext(row: Any) -> str:
    value = row.get("external_id") if isinstance(row, dict) else None
    return str(value).replace("\x00", "")[:64] if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _ingest_batch(session, user, good, bad, *, source, platform, batch=None) -> dict:
    own = batch is None
    if own:
        batch = ImportBatch(user_id=getattr(user, "id", None), source=source, platform=platform or "",
                            state="running", started_at=clock.now())
        session.add(batch)
        session.flush()
    counts = apply_chunk(session, batch, good, bad)
    batch.rows_seen += len(good) + len(bad)
    if own:
        batch.state, batch.finished_at = "done", clock.now()
    session.commit()
    late = counts.pop("late_errors")
    return {**counts, "batch_id": batch.id,
            "errors": [{"index": i, "message": m} for i, _e, m in sorted(bad + late)]}


def apply_chunk(session: so.Session, batch: ImportBatch, good: list[tuple[int, dict]],
                bad: list[tuple[int, str, str]]) -> dict:
    """Attribute and upsert one chunk of checked rows, store its rejects and add
    its counts to `batch`. Does not commit: the caller decides the transaction.

    `good` = [(position, row)], `bad` = [(position, external_id, reason)]."""
    now = clock.now()
    # One row per order: a later row of the same order in the chunk supersedes
    # an earlier one (and counts as an update only if it changes the figures).
    unique: dict[tuple[str, str], tuple[int, dict]] = {}
    dup_same = dup_changed = 0
    for pos, row in good:
        key = (row["platform"], row["external_id"])
        seen = unique.get(key)
        if seen is not None:
            if rules.same_order(seen[1], row):
                dup_same += 1
            else:
                dup_changed += 1
        unique[key] = (pos, row)
    late_errors: list[tuple[int, str, str]] = []
    rows = _attribute(session, list(unique.values()), late_errors)
    _link_products(session, rows)
    created = updated = unattributed = 0
    if rows:
        records = [{
            "platform": r["platform"], "external_id": r["external_id"], "parent_id": r["parent_id"],
            "booking_id": r["booking_id"], "attributed_by": r["attributed_by"], "room_code": r["room_code"],
            "anchor_account": r["anchor_account"], "sku": r["sku"], "product_id": r["product_id"],
            "product_name": r["product_name"], "buyer": r["buyer"], "quantity": r["quantity"],
            "amount_fen": r["amount_fen"], "refund_fen": r["refund_fen"], "status": r["status"],
            "ordered_at": r["ordered_at"],
        } for r in sorted(rows, key=lambda r: (r["platform"], r["external_id"]))]
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            _binary_arrays(session)
        stmt = _upsert(session, batch.id, now)
        for start in range(0, len(records), UPSERT_ROWS):
            part = records[start:start + UPSERT_ROWS]
            # PostgreSQL: one statement with an array per column (unnest), far
            # cheaper than a VALUES list of thousands of parameters.
            params = {c: [r[c] for r in part] for c in UPSERT_COLUMNS} if postgres else part
            for updated_at, booking_id in session.execute(stmt, params):
                if updated_at is None:
                    created += 1
                    unattributed += booking_id is None
                else:
                    updated += 1
    returned = created + updated
    rejects = bad + late_errors
    if rejects:
        session.execute(REJECTS.insert(), [
            {"batch_id": batch.id, "position": pos, "external_id": ext[:64], "reason": reason[:500]}
            for pos, ext, reason in rejects])
    counts = {"created": created, "updated": updated + dup_changed,
              "unchanged": len(rows) - returned + dup_same, "unattributed": unattributed}
    batch.created += counts["created"]
    batch.updated += counts["updated"]
    batch.unchanged += counts["unchanged"]
    batch.unattributed += counts["unattributed"]
    batch.rejected += len(rejects)
    return {**counts, "late_errors": late_errors}


def _binary_arrays(session: so.Session) -> None:
    """Send Python lists to PostgreSQL as binary arrays: psycopg's default text
    arrays quote every element with a regular expression, which costs more
    than the insert itself. (Lists reach the database only as array
    parameters, so this changes nothing else on the connection.)"""
    from psycopg.types.array import ListBinaryDumper

    session.connection().connection.dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def _upsert(session: so.Session, batch_id: int, now: datetime):
    """INSERT … ON CONFLICT (platform, external_id) DO UPDATE, only when the
    figures change or an attribution is filled in; RETURNING tells a new row
    (updated_at still NULL) from an updated one. The batch and the instant are
    the same for every row: bound once, not per row."""
    if session.get_bind().dialect.name == "postgresql":
        rows = sa.select(*[sa.func.unnest(sa.bindparam(c, type_=ARRAY(ORDERS.c[c].type))).label(c)
                           for c in UPSERT_COLUMNS],
                         sa.literal(batch_id, sa.Integer).label("batch_id"),
                         sa.literal(now, ORDERS.c.created_at.type).label("created_at"))
        stmt = pg_insert(ORDERS).from_select([*UPSERT_COLUMNS, "batch_id", "created_at"], rows)
    else:
        stmt = sqlite_insert(ORDERS).values(batch_id=sa.literal(batch_id, sa.Integer),
                                            created_at=sa.literal(now, ORDERS.c.created_at.type))
    new, old = stmt.excluded, ORDERS.c
    # A re-import fills in a missing attribution, or replaces an automatic one
    # by an explicit booking id; it never undoes a coordinator's assignment.
    take = sa.and_(new.booking_id.is_not(None), sa.or_(
        old.booking_id.is_(None),
        sa.and_(new.attributed_by == "booking", old.attributed_by != "booking", old.attributed_by != "manual")))
    changed = sa.or_(old.status != new.status, old.amount_fen != new.amount_fen,
                     old.refund_fen != new.refund_fen, old.quantity != new.quantity, take)
    return stmt.on_conflict_do_update(
        index_elements=[old.platform, old.external_id],
        set_={
            "status": new.status, "amount_fen": new.amount_fen, "refund_fen": new.refund_fen,
            "quantity": new.quantity,
            "booking_id": sa.case((take, new.booking_id), else_=old.booking_id),
            "attributed_by": sa.case((take, new.attributed_by), else_=old.attributed_by),
            "product_id": sa.case((take, new.product_id), else_=old.product_id),
            "batch_id": new.batch_id,
            "updated_at": new.created_at,
        },
        where=changed,
    ).returning(old.updated_at, old.booking_id)


def _attribute(session: so.Session, items: list[tuple[int, dict]], late_errors: list) -> list[dict]:
    """Set booking_id, attributed_by and tenant_id on each row, with a few
    set-based queries for the whole chunk (none per row)."""
    grace = _grace()
    rows: list[dict] = []
    explicit = {row["booking_id"] for _, row in items if row["booking_id"]}
    tenants, cancelled = {}, set()
    if explicit:
        found = session.execute(sa.select(Booking.id, Booking.tenant_id, Booking.status)
                                .where(Booking.id.in_(explicit))).all()
        tenants = {b.id: b.tenant_id for b in found}
        cancelled = {b.id for b in found if b.status == "cancelled"}
    pending: list[dict] = []
    for pos, row in items:
        row["tenant_id"] = None
        if row["booking_id"]:
            if row["booking_id"] not in tenants or row["booking_id"] in cancelled:
                # The same rule as assigning by hand: a cancelled session sold nothing.
                reason = "cancelled_booking" if row["booking_id"] in cancelled else "no_booking"
                late_errors.append((pos, row["external_id"], str(ROW_MESSAGES[reason])))
                continue
            row["attributed_by"], row["tenant_id"] = "booking", tenants[row["booking_id"]]
        else:
            row["attributed_by"] = None
            pending.append(row)
        rows.append(row)

    by_room = [r for r in pending if r["room_code"]]
    if by_room:
        found = _windows(session, by_room, "room_code", grace, lambda lo, hi, keys: (
            sa.select(Room.code, Booking.id, Booking.starts_at, Booking.ends_at, Booking.tenant_id)
            .join(Room, Room.id == Booking.room_id)
            .where(Room.code.in_(keys), Booking.status != "cancelled", Booking.starts_at <= hi, Booking.ends_at > lo)))
        _apply_windows(by_room, "room_code", found, "room")
        pending = [r for r in pending if r["booking_id"] is None]

    by_anchor = [r for r in pending if r["anchor_account"]]
    if by_anchor:
        anchor_of = _anchors(session, by_anchor)
        for r in by_anchor:
            r["anchor_id"] = anchor_of.get((r["platform"], r["anchor_account"]))
        by_anchor = [r for r in by_anchor if r["anchor_id"] is not None]
        if by_anchor:
            found = _windows(session, by_anchor, "anchor_id", grace, lambda lo, hi, keys: (
                sa.select(Assignment.anchor_id, Booking.id, Booking.starts_at, Booking.ends_at, Booking.tenant_id)
                .join(Booking, Booking.id == Assignment.booking_id)
                .where(Assignment.anchor_id.in_(keys), Booking.status != "cancelled",
                       Booking.starts_at <= hi, Booking.ends_at > lo)))
            _apply_windows(by_anchor, "anchor_id", found, "anchor")
    return rows


# Rows further apart in time than this are looked up in separate queries, so a
# chunk spread over a year never loads a year of sessions.
_SPAN = timedelta(days=1)


def _windows(session, rows: list[dict], key: str, grace: timedelta, query) -> dict[Any, rules.Windows]:
    """Candidate sessions per key (room code or anchor id), one query per
    cluster of order times."""
    found: dict[Any, list[rules.Window]] = {}
    ordered = sorted(rows, key=lambda r: r["ordered_at"])
    start = 0
    while start < len(ordered):
        lo = ordered[start]["ordered_at"]
        end = start
        while end < len(ordered) and ordered[end]["ordered_at"] - lo <= _SPAN:
            end += 1
        hi = ordered[end - 1]["ordered_at"]
        keys = {r[key] for r in ordered[start:end]}
        for k, booking_id, starts_at, ends_at, tenant_id in session.execute(query(lo - grace, hi, keys)):
            found.setdefault(k, []).append(rules.Window(booking_id, starts_at, ends_at, tenant_id))
        start = end
    return {k: rules.Windows(set(v), grace) for k, v in found.items()}


def _apply_windows(rows: list[dict], key: str, windows: dict, method: str) -> None:
    for r in rows:
        w = windows.get(r[key])
        hit = w.find(r["ordered_at"]) if w else None
        if hit is not None:
            r["booking_id"], r["attributed_by"], r["tenant_id"] = hit.booking_id, method, hit.tenant_id


def _anchors(session: so.Session, rows: list[dict]) -> dict[tuple[str, str], int]:
    """(platform, account) → anchor id, from Anchor.platform_accounts."""
    wanted: dict[str, set[str]] = {}
    for r in rows:
        wanted.setdefault(r["platform"], set()).add(r["anchor_account"])
    out: dict[tuple[str, str], int] = {}
    for platform, accounts in wanted.items():
        account = Anchor.platform_accounts[platform].as_string()
        for anchor_id, value in session.execute(
                sa.select(Anchor.id, account).where(account.in_(accounts)).order_by(Anchor.id.desc())):
            out[(platform, value)] = anchor_id  # the oldest anchor wins a shared account
    return out


def _link_products(session: so.Session, rows: list[dict]) -> None:
    """product_id where the session's tenant has a product with the row's SKU."""
    pairs = {(r["tenant_id"], r["sku"]) for r in rows if r["tenant_id"] and r["sku"]}
    found = {}
    if pairs:
        tenant_ids, skus = {t for t, _ in pairs}, {s for _, s in pairs}
        found = {(t, s): pid for pid, t, s in session.execute(
            sa.select(Product.id, Product.tenant_id, Product.sku)
            .where(Product.tenant_id.in_(tenant_ids), Product.sku.in_(skus)))}
    for r in rows:
        r["product_id"] = found.get((r["tenant_id"], r["sku"])) if r["tenant_id"] else None


# ---------------------------------------------------------------------------
# Shop exports (CSV), streamed


def check_platform(platform: str | None) -> str | None:
    if platform in (None, ""):
        return None
    if platform not in PLATFORMS:
        raise ValidationFailed(_l("Please correct the marked fields."), [{"field": "platform", "message": _l(
            "Must be one of: %(choices)s.", choices=", ".join(PLATFORMS))}])
    return platform


def import_export(session: so.Session, user, stream: IO[bytes], *, platform: str | None = None,
                  filename: str = "", size: int | None = None, upload_key: str = "",
                  chunk_rows: int | None = None) -> dict:
    """Import a shop's order export (CSV: UTF-8 with or without BOM, or
    GBK/GB18030; Douyin, Kuaishou or English headers) read as a stream.

    The batch is committed first (so its progress can be followed), then each
    chunk of rows in its own transaction together with the batch's progress;
    the import is idempotent, so a retry after a failure duplicates nothing.
    A file that cannot be read at all is a 422 and leaves no batch."""
    require(user, "orders.write")
    platform = check_platform(platform)
    chunk_rows = chunk_rows or current_app.config["ORDER_IMPORT_CHUNK_ROWS"]
    shown = current_app.config["ORDER_IMPORT_ERRORS_SHOWN"]
    try:
        reader = ExportReader(stream, tz=park_tz(), platform=platform)
    except ExportError as exc:
        details = [{"field": "file", "message": FILE_MESSAGES.get(exc.code, FILE_MESSAGES["header"])}]
        for item in exc.details:
            fmt, _, name = item.partition(":")
            details.append({"field": "file", "message": _l("Missing column: %(column)s", column=_column_names(fmt, name))})
        raise ValidationFailed(_l("The file cannot be read."), details) from None
    batch = ImportBatch(user_id=getattr(user, "id", None), source="csv", platform=reader.platform,
                        filename=(filename or "")[:255].replace("\x00", ""), state="running",
                        bytes_total=size or 0, upload_key=(upload_key or "")[:64], started_at=clock.now())
    session.add(batch)
    session.commit()
    totals = {"created": 0, "updated": 0, "unchanged": 0, "unattributed": 0}
    errors: list[dict] = []
    try:
        for good, bad in _chunks(reader, chunk_rows):
            counts = apply_chunk(session, batch, good, bad)
            for key in totals:
                totals[key] += counts[key]
            for line, _e, message in sorted(bad + counts["late_errors"]):
                if len(errors) < shown:
                    errors.append({"line": line, "message": message})
            batch.rows_seen += len(good) + len(bad)
            batch.bytes_done = reader.bytes_read
            session.commit()
    except BaseException as exc:
        session.rollback()
        _fail(session, batch.id, exc)
        raise
    batch.state, batch.finished_at = "done", clock.now()
    batch.bytes_done = max(batch.bytes_total, reader.bytes_read)
    session.commit()
    errors.sort(key=lambda e: e["line"])
    return {**totals, "errors": errors, "rejected": batch.rejected, "batch_id": batch.id,
            "format": reader.format.name, "platform": reader.platform, "encoding": reader.encoding}


def _column_names(fmt: str, name: str) -> str:
    for f in FORMATS:
        if f.name == fmt and name in f.columns:
            return " / ".join(f.columns[name][:2])
    return name


def _chunks(reader: ExportReader, size: int) -> Iterator[tuple[list, list]]:
    good: list[tuple[int, dict]] = []
    bad: list[tuple[int, str, str]] = []
    for line, item in reader:
        if isinstance(item, RowError):
            bad.append((line, getattr(item, "external_id", ""), row_message(item)))
        else:  # the reader has checked every cell (domain.order_exports.ExportReader.convert)
            good.append((line, item))
        if len(good) + len(bad) >= size:
            yield good, bad
            good, bad = [], []
    if good or bad:
        yield good, bad


def _fail(session: so.Session, batch_id: int, exc: BaseException) -> None:
    """Mark a batch failed after its import stopped (what was committed stays)."""
    try:
        session.execute(sa.update(ImportBatch).where(ImportBatch.id == batch_id).values(
            state="failed", finished_at=clock.now(), message=(type(exc).__name__ + ": " + str(exc))[:500]))
        session.commit()
    except Exception:  # the database itself is gone: the batch stays "running"
        session.rollback()


# ---------------------------------------------------------------------------
# Batches and their rejects


def get_batch(session: so.Session, user, batch_id: int) -> ImportBatch:
    """An import batch; staff see every batch (imports are the park's, not one person's)."""
    require(user, "orders.write")
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound(_l("No such import."))
    return batch


def batch_by_key(session: so.Session, user, upload_key: str) -> ImportBatch:
    """The user's batch started with this upload key (the upload page's progress)."""
    require(user, "orders.write")
    batch = session.scalar(sa.select(ImportBatch).where(
        ImportBatch.user_id == user.id, ImportBatch.upload_key == upload_key, ImportBatch.upload_key != "")
        .order_by(ImportBatch.id.desc()).limit(1))
    if batch is None:
        raise NotFound(_l("No such import."))
    return batch


def recent_batches(session: so.Session, user, limit: int = 20) -> list[ImportBatch]:
    require(user, "orders.write")
    return list(session.scalars(sa.select(ImportBatch).options(so.joinedload(ImportBatch.user))
                                .order_by(ImportBatch.id.desc()).limit(limit)))


def batch_rejects(session: so.Session, user, batch_id: int, limit: int | None = None) -> list[ImportReject]:
    get_batch(session, user, batch_id)
    q = sa.select(ImportReject).where(ImportReject.batch_id == batch_id).order_by(ImportReject.position, ImportReject.id)
    return list(session.scalars(q.limit(limit) if limit else q))


def rejects_csv(session: so.Session, user, batch_id: int) -> IO[bytes]:
    """The rejects of a batch as a CSV file (UTF-8 with BOM, so Excel reads the
    Chinese), written page by page to a temporary file that spills to disk,
    so a million rejects never sit in memory."""
    batch = get_batch(session, user, batch_id)
    position = _l("line") if batch.source == "csv" else _l("index")
    out = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+b")
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([str(position), str(_l("order number")), str(_l("reason"))])
    last = (-1, 0)
    while True:
        page = session.execute(
            sa.select(ImportReject.position, ImportReject.id, ImportReject.external_id, ImportReject.reason)
            .where(ImportReject.batch_id == batch_id,
                   sa.or_(ImportReject.position > last[0],
                          sa.and_(ImportReject.position == last[0], ImportReject.id > last[1])))
            .order_by(ImportReject.position, ImportReject.id).limit(5000)).all()
        if not page:
            break
        # A leading tab keeps a long order number text in a spreadsheet.
        # Anything else a spreadsheet would run as a formula is neutralised (issue 11).
        writer.writerows([pos, ("\t" + ext if ext.isdigit() else safe_cell(ext)) if ext else "", safe_cell(reason)]
                         for pos, _id, ext, reason in page)
        last = (page[-1][0], page[-1][1])
    text.detach()
    out.seek(0)
    return out


# ---------------------------------------------------------------------------
# Reading and assigning


def list_orders(session: so.Session, user, *, booking_id: int | None = None, unattributed: bool = False,
                start: datetime | None = None, end: datetime | None = None, limit: int = 1000) -> list[Order]:
    """Orders of a booking, or the unattributed ones, or all, with
    ordered_at in [start, end), oldest first. An anchor reads only the orders
    of a session they are assigned to."""
    require(user, "orders.read")
    q = sa.select(Order)
    if booking_id is not None:
        get_booking(session, user, booking_id)  # 404, or 403 for another anchor's session
        q = q.where(Order.booking_id == booking_id)
    elif user.role == "anchor":
        raise Forbidden(_l("You may only see the orders of your own sessions."))
    if unattributed:
        q = q.where(Order.booking_id.is_(None))
    if start is not None:
        q = q.where(Order.ordered_at >= start)
    if end is not None:
        q = q.where(Order.ordered_at < end)
    return list(session.scalars(q.order_by(Order.ordered_at, Order.id).limit(limit)))


def attribute(session: so.Session, user, order_ids: Iterable[int], booking_id: int) -> int:
    """Assign orders to a session by hand (attributed_by = "manual"; a later
    re-import keeps it). The booking must exist and not be cancelled; every
    order id must exist. Links each order to the tenant's product with its SKU.
    Commits; returns how many orders changed."""
    require(user, "orders.write")
    ids = sorted(set(order_ids))
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "booking_id", "message": _l("No such booking.")}])
    if booking.status == "cancelled":
        raise RuleViolation(ROW_MESSAGES["cancelled_booking"], [
            {"rule": "booking_cancelled", "field": "booking_id", "message": ROW_MESSAGES["cancelled_booking"]}])
    found = set(session.scalars(sa.select(Order.id).where(Order.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed(_l("Please correct the marked fields."), [
            {"field": "order_ids", "message": _l("No such orders: %(ids)s", ids=", ".join(map(str, missing[:20])))}])
    product = (sa.select(Product.id).where(Product.tenant_id == booking.tenant_id, Product.sku == Order.sku)
               .scalar_subquery())
    result = session.execute(
        sa.update(Order).where(Order.id.in_(ids), sa.or_(Order.booking_id.is_(None), Order.booking_id != booking.id,
                                                         Order.attributed_by != "manual"))
        .values(booking_id=booking.id, attributed_by="manual", product_id=product, updated_at=clock.now())
        .execution_options(synchronize_session=False))
    changed = result.rowcount
    audit.record(session, user, "booking", booking.id, "orders_attributed",
                 {"orders": changed, "order_ids": ids[:100]})
    session.commit()
    return changed


def bookings_for_assignment(session: so.Session, user, start: datetime, end: datetime) -> list[Booking]:
    """Sessions overlapping [start, end) that orders may be assigned to (not cancelled)."""
    require(user, "orders.write")
    return list(session.scalars(
        sa.select(Booking).options(so.joinedload(Booking.room), so.joinedload(Booking.tenant))
        .where(Booking.starts_at < end, Booking.ends_at > start, Booking.status != "cancelled")
        .order_by(Booking.starts_at, Booking.room_id)))


def unattributed_count(session: so.Session, user) -> int:
    require(user, "orders.read")
    return session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.booking_id.is_(None))) or 0

