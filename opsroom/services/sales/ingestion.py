"""Orders (订单) in: ingestion of JSON batches and shop exports (docs/domain.md, Orders).

- One row per platform sub-order, unique on (platform, external_id). Writing
  is one `INSERT … ON CONFLICT (platform, external_id) DO UPDATE … WHERE
  <changed> RETURNING` per chunk on both engines, never read-then-write: two
  clients importing the same orders at once store each order once, and a
  re-import changes only status, amounts and quantity (and fills in a
  missing attribution), so it never double counts. On PostgreSQL a chunk is
  first copied in as new orders, in a savepoint: if one is there already, the
  unique key refuses the copy and the upsert takes the chunk (_write_postgres).
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
- On PostgreSQL the rows are checked one part ahead of the writes (`Behind`):
  a thread writes part k while the request's thread checks part k + 1, and
  one ingestion writes at a time (a transaction-level advisory lock), so parts
  of two transactions never wait on each other in opposite orders.
"""
from __future__ import annotations

import contextvars
import functools
import io
import json
import operator
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timezone
from typing import IO, Any, Iterator

import psycopg.errors
from psycopg.copy import Copy, FileWriter
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from opsroom import clock
from opsroom.domain import orders as rules
from opsroom.domain.csv_rows import RowError
from opsroom.domain.order_exports import ExportError, ExportReader
from opsroom.domain.order_formats import FORMATS, PLATFORMS
from opsroom.db import driver_errors, is_postgres
from opsroom.settings import settings_of
from opsroom.models import ImportBatch, ImportReject, Order
from opsroom.services.permissions import require
from opsroom.services.transaction import outermost, transactional
from opsroom.services.errors import ValidationFailed
from opsroom.services.sales.attribution import link_products, attribute_rows
from opsroom.services.sales.row_messages import FILE_MESSAGES, row_message


ORDERS = Order.__table__
UTC = timezone.utc


REJECTS = ImportReject.__table__


# Rows per upsert statement: a whole chunk (JSON calls and export chunks are at
# most this), so one statement per chunk; none binds a parameter per value.
UPSERT_ROWS = 5000


UPSERT_COLUMNS = ("platform", "external_id", "parent_id", "booking_id", "attributed_by", "room_code",
                  "anchor_account", "sku", "product_id", "product_name", "buyer", "quantity", "amount_fen",
                  "refund_fen", "status", "ordered_at")


@transactional
def ingest_rows(session: so.Session, user, rows: list[dict], *, source: str = "json",
                platform: str | None = None, batch: ImportBatch | None = None) -> dict:
    """Store parsed order rows (see domain.orders.ROW_KEYS) atomically, with
    attribution; rows that fail the checks are reported by 0-based index and
    skipped. `platform` fills rows that carry none. With `batch` the counts
    add to that batch (left running); without, a batch of its own is recorded.
 → {"created", "updated", "unchanged", "unattributed", "errors", "batch_id"}."""
    require(user, "orders.write")
    return _ingest_batch(session, user, rows, lambda row: rules.check_row(row, platform),
                         source=source, platform=platform, batch=batch)


@transactional
def import_json(session: so.Session, user, items: list) -> dict:
    """POST /orders: each element parsed on its own (domain.orders.order_from_json),
    the good ones applied together in one transaction."""
    require(user, "orders.write")
    limit = settings_of(session).order_batch_max_rows
    if not isinstance(items, list):
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "orders", "message": _l("Expected a list of orders.")}])
    if len(items) > limit:
        raise ValidationFailed(_l("Too many orders in one call."),
                               [{"field": "orders", "message": _l("At most %(n)s orders per call.", n=limit)}])
    # Called as the outermost service (the API's call), its transaction holds nothing but its
    # batch and orders: attribution may read what is committed on a connection of its own (Behind).
    return _ingest_batch(session, user, items, rules.order_from_json, source="json", platform=None,
                         own_reads=outermost(session))


def _ext(row: Any) -> str:
    value = row.get("external_id") if isinstance(row, dict) else None
    return str(value).replace("\x00", "")[:64] if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


# Rows checked per step of a JSON batch: on PostgreSQL the next part is checked
# while the previous one is written (see Behind). A batch of more than PART_ROWS
# starts with a part of FIRST_PART_ROWS, so that writing starts early, and each
# part after is twice the one before (checking a row takes less time than writing
# it: the next part is ready before the last is written), up to PART_ROWS.
PART_ROWS = 2500
FIRST_PART_ROWS = 500


def _parts(n: int) -> Iterator[tuple[int, int]]:
    """The [start, end) of each part of a batch of n rows."""
    start, size = 0, n if n <= PART_ROWS else min(FIRST_PART_ROWS, PART_ROWS)
    while start < n:
        yield start, min(n, start + size)
        start, size = start + size, min(2 * size, PART_ROWS)


def _ingest_batch(session, user, items: list, check, *, source, platform, batch=None, own_reads=False) -> dict:
    """Check `items` (`check`: an item → a row, or RowError) part by part and write
    them in one transaction. Without `batch`, a batch of its own records the
    platform its rows share ("" when they differ). `own_reads`: see Behind."""
    own = batch is None
    if own:
        batch = ImportBatch(user_id=getattr(user, "id", None), source=source, platform=platform or "",
                            state="running", started_at=clock.now())
        session.add(batch)
        session.flush()
    # The batch's counts are added once, at the end: no update of its row per part.
    totals = dict.fromkeys(TALLIES, 0)
    rejects: list[tuple[int, str, str]] = []
    platforms: set[str] = set()

    def taken(counts: dict) -> None:
        for key in totals:
            totals[key] += counts[key]
        rejects.extend(counts["late_errors"])

    batch_id = batch.id  # (no ORM object is touched while the thread writes)
    with Behind(session, taken, batch_id, single=len(items) <= PART_ROWS, own_reads=own_reads) as behind:
        for start, end in _parts(len(items)):
            good, bad = [], []
            for i, item in enumerate(items[start:end], start):
                try:
                    good.append((i, check(item)))
                except RowError as exc:
                    bad.append((i, _ext(item), row_message(exc)))
            platforms.update(row["platform"] for _, row in good)
            rejects.extend(bad)
            behind(good, store_chunk, session, bad)
    _add_counts(batch, totals)
    batch.rows_seen += len(items)
    if own:
        if not platform:
            batch.platform = platforms.pop() if len(platforms) == 1 else ""
        batch.state, batch.finished_at = "done", clock.now()
    return {**{key: totals[key] for key in COUNTS}, "batch_id": batch.id,
            "errors": [{"index": i, "message": m} for i, _e, m in sorted(rejects)]}


COUNTS = ("created", "updated", "unchanged", "unattributed")
TALLIES = (*COUNTS, "rejected")  # what a batch row adds up (_add_counts)


class Behind:
    """Runs the writes of an ingestion one step behind the reading and checking of
    its rows. On PostgreSQL a thread of its own owns the session and runs
    `write(*args, prepared)` for part k while the caller checks part k + 1 (PostgreSQL
    inserts on one core while Python checks on the other); one part in flight at
    most; `done` gets each write's result in order, on the caller's thread.
    Meanwhile the caller must not touch the session nor any ORM object. Leaving
    the block waits for the thread, so nothing runs on the connection after the
    caller's commit or rollback; a failed write raises from the next call or the
    block's end. On SQLite (one writer, in process), and for a single part (nothing
    to overlap: no thread to start), each write runs at once.

    Each part is attributed (prepare_chunk) before it is written. With `own_reads`
    and the thread, that runs on the caller's thread too, reading on a connection of
    its own (autocommit: each read sees what is committed), and the writing thread
    does nothing but write. Only for callers whose transaction holds no sessions,
    assignments, rooms, anchors or products of its own, which that connection could
    not see (an API call, a shop export); otherwise the thread attributes each part
    before it writes it. Such an ingestion holds two pooled connections: a worker's
    pool must have twice its threads (the default 5 + 10 overflow, 4 threads).

    The parts of `batch_id` are first written as new orders (see _write_postgres); once
    one of them meets orders already there (a re-import), the rest go straight to the
    upsert."""

    def __init__(self, session: so.Session, done, batch_id: int, *, single: bool = False,
                 own_reads: bool = False):
        self.done, self.pending, self.batch_id = done, None, batch_id
        self.direct = True  # (read and written by whichever thread writes)
        self.session, self.reads = session, session
        threaded = is_postgres(session) and not single
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="opsroom-orders") if threaded else None
        # (A session bound to one connection, as a test's, has no second one to read on.)
        self.own_reads = threaded and own_reads and isinstance(session.get_bind(), sa.Engine)

    def __enter__(self) -> "Behind":
        if self.own_reads:
            connection = self.session.get_bind().connect()
            try:
                self.reads = so.Session(bind=connection.execution_options(isolation_level="AUTOCOMMIT"),
                                        info={"settings": settings_of(self.session)})
            except BaseException:
                connection.close()
                raise
        if self.thread is not None:  # last: nothing after it can fail before __exit__ undoes it
            _QUICK_SWITCHING.__enter__()
        return self

    def __call__(self, good: list[tuple[int, dict]], write, *args) -> None:
        """`write(*args, prepare_chunk(…, good))`: the part's rows attributed, then written."""
        if self.thread is None:
            self.done(self._write(write, args, prepare_chunk(self.session, good, self.batch_id)))
            return
        if self.own_reads:  # attributed here, while the thread writes the part before
            job = functools.partial(self._write, write, args, prepare_chunk(self.reads, good, self.batch_id))
        else:
            def job():
                return self._write(write, args, prepare_chunk(self.session, good, self.batch_id))
        if self.pending is not None:
            self.done(self.pending.result())
        self.pending = self.thread.submit(contextvars.copy_context().run, job)

    def _write(self, write, args: tuple, prepared: dict) -> dict:
        # Parts are written one at a time, in order: what one write learns, the next one knows.
        prepared["direct"] = self.direct
        result = write(*args, prepared)
        if result["conflicted"]:
            self.direct = False
        return result

    def __exit__(self, exc_type, *exc) -> None:
        try:
            if exc_type is None and self.pending is not None:
                self.done(self.pending.result())
        finally:
            try:
                if self.thread is not None:
                    try:
                        self.thread.shutdown(wait=True, cancel_futures=True)
                    finally:
                        _QUICK_SWITCHING.__exit__()
            finally:
                if self.reads is not self.session:
                    connection = self.reads.get_bind()
                    try:
                        self.reads.close()
                    finally:
                        connection.close()


class _QuickSwitching:
    """While any pipeline of this process runs, its threads take turns on the interpreter
    every SWITCH_SECONDS instead of Python's 5 ms: each of the writing thread's database
    calls ends in a wait for the interpreter while the caller's thread checks rows, and at
    5 ms those waits were a fifth of a batch's time. The setting is the process's: while
    a pipeline runs, the worker's other threads take the same short turns; when none
    runs, the default is back (short turns cost `GET /api/v1/me`'s threads ≈ 10 % of
    their rate, docs/performance.md)."""

    SWITCH_SECONDS = 0.0005

    def __init__(self):
        self.lock, self.running, self.saved = threading.Lock(), 0, sys.getswitchinterval()

    def __enter__(self) -> None:
        with self.lock:
            if not self.running:
                self.saved = sys.getswitchinterval()
                sys.setswitchinterval(self.SWITCH_SECONDS)
            self.running += 1

    def __exit__(self, *exc) -> None:
        with self.lock:
            self.running -= 1
            if not self.running:
                sys.setswitchinterval(self.saved)


_QUICK_SWITCHING = _QuickSwitching()


def apply_chunk(session: so.Session, batch: ImportBatch, good: list[tuple[int, dict]],
                bad: list[tuple[int, str, str]]) -> dict:
    """Attribute and upsert one chunk of checked rows, store its rejects and add
    its counts to `batch`. Does not commit: the caller decides the transaction.

    `good` = [(position, row)], `bad` = [(position, external_id, reason)]."""
    counts = store_chunk(session, bad, prepare_chunk(session, good, batch.id))
    _add_counts(batch, counts)
    return counts


def prepare_chunk(session: so.Session, good: list[tuple[int, dict]], batch_id: int) -> dict:
    """A chunk's checked rows, one per order, attributed (reads only: `session` may be
    another connection's, see Behind), as the orders of `batch_id` created now → what
    store_chunk takes. Its "direct" (False unless Behind sets it): see _write_postgres."""
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
    rows = attribute_rows(session, list(unique.values()), late_errors)
    link_products(session, rows)
    now = clock.now()
    records = sorted(((*_RECORD(row), batch_id, now) for row in rows), key=_KEY)
    return {"written": len(records), "payloads": _payloads(session, records), "late_errors": late_errors,
            "dup_same": dup_same, "dup_changed": dup_changed, "seen": len(good), "batch_id": batch_id,
            "direct": False}


def store_chunk(session: so.Session, bad: list[tuple[int, str, str]], prepared: dict) -> dict:
    """Upsert a prepared chunk (prepare_chunk) and store its rejects → its counts
    (for _add_counts), and whether its new orders met orders already there
    ("conflicted", see _write_postgres). Does not commit."""
    late_errors, batch_id = prepared["late_errors"], prepared["batch_id"]
    created, updated, unattributed, conflicted = _write(session, prepared)  # (no payload: 0, 0, 0, False)
    returned = created + updated
    rejects = bad + late_errors
    if rejects:
        session.execute(REJECTS.insert(), [
            {"batch_id": batch_id, "position": pos, "external_id": ext[:64], "reason": reason[:500]}
            for pos, ext, reason in rejects])
    counts = {"created": created, "updated": updated + prepared["dup_changed"],
              "unchanged": prepared["written"] - returned + prepared["dup_same"], "unattributed": unattributed,
              "rejected": len(rejects)}
    return {**counts, "late_errors": late_errors, "conflicted": conflicted}


def _add_counts(batch: ImportBatch, counts: dict) -> None:
    for key in TALLIES:
        setattr(batch, key, getattr(batch, key) + counts[key])


# A row as the tuple of UPSERT_COLUMNS the writes take (then its batch and creation instant,
# WRITTEN_COLUMNS), and its key (platform, external_id).
_RECORD = operator.itemgetter(*UPSERT_COLUMNS)
_KEY = operator.itemgetter(0, 1)
_AT = UPSERT_COLUMNS.index("ordered_at")
WRITTEN_COLUMNS = (*UPSERT_COLUMNS, "batch_id", "created_at")
_BOOKING = UPSERT_COLUMNS.index("booking_id")

# At most this many parts of a transaction are first written as new orders, each in a
# savepoint of its own: PostgreSQL keeps up to 64 subtransactions of a transaction in
# shared memory, and other sessions' snapshots slow down past that.
DIRECT_PARTS = 32
_DIRECT = "opsroom.orders_direct"  # key of Connection.info: (transaction, its parts written directly)


def _write(session: so.Session, prepared: dict) -> tuple[int, int, int, bool]:
    """Write the chunk's records, one statement per UPSERT_ROWS (each a payload of
    _payloads) → how many rows were (created, updated, created without a session), and
    whether new orders met orders already there (PostgreSQL, "direct"). Neither engine
    binds a parameter per value."""
    created = updated = unattributed = 0
    conflicted = False
    postgres = is_postgres(session)
    for payload in prepared["payloads"]:
        if postgres:
            c, u, n, clash = _write_postgres(session, payload, prepared["direct"] and not conflicted)
            conflicted = conflicted or clash
        else:
            c, u, n = _write_sqlite(session, payload)
        created, updated, unattributed = created + c, updated + u, unattributed + n
    return created, updated, unattributed, conflicted


def _payloads(session: so.Session, records: list[tuple]) -> list:
    """The records (sorted by key) as each UPSERT_ROWS's write sends them: on PostgreSQL the
    bytes of a binary COPY (with their count and how many have no session), on SQLite a JSON
    array. Made where the part is attributed, so that the writing thread (Behind) sends them
    with next to no Python of its own."""
    make = _copy_payload if is_postgres(session) else _json_rows
    return [make(session, records[start:start + UPSERT_ROWS]) for start in range(0, len(records), UPSERT_ROWS)]


# Each written column's type in the orders table, which the staging table takes too, and as
# binary COPY names it (strings go as text): the same bytes load either table.
_PG_TYPES = {c: ORDERS.c[c].type.compile(dialect=postgresql.dialect()) for c in WRITTEN_COLUMNS}
_COPY_TYPES = ["text" if t.startswith("VARCHAR") else {"INTEGER": "int4", "BIGINT": "int8",
                                                        "TIMESTAMP WITH TIME ZONE": "timestamptz"}[t]
               for t in _PG_TYPES.values()]
_STAGING = "orders_incoming"
_COPY_STAGED = f"COPY {_STAGING} ({', '.join(WRITTEN_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_COPY_ORDERS = f"COPY {ORDERS.name} ({', '.join(WRITTEN_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
STAGED = sa.table(_STAGING, *[sa.column(c, ORDERS.c[c].type) for c in WRITTEN_COLUMNS])

# One ingestion writes orders at a time (a transaction-level advisory lock, taken
# before its first write and held to its commit): a transaction writing its parts
# in turn never waits on another's rows while that one waits on its own (a deadlock).
_WRITE_LOCK = 80080011

# Before a transaction's first write (and each write in a savepoint, which may roll back alone).
_PREPARE = (f"SELECT pg_advisory_xact_lock({_WRITE_LOCK}); "
            # Private to this connection, emptied at commit; created once per connection.
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} ("
            + ", ".join(f"{c} {t}" for c, t in _PG_TYPES.items())
            + ") ON COMMIT DELETE ROWS; "
            # Empty, as each upsert leaves it; the DELETE makes sure of it.
            f"DELETE FROM {_STAGING}")

_SAVEPOINT = "opsroom_new_orders"
_KEY_CONSTRAINT = "uq_orders_platform_external_id"


def _copy_payload(session: so.Session, records: list[tuple]) -> tuple[bytes, int, int]:
    """The records as a binary COPY stream (each value as its type's bytes: no text to
    format here or to parse there), formatted by psycopg's adapters of `session`'s
    connection, written to memory (nothing is sent); with their count and how many
    have no session."""
    out = io.BytesIO()
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        with Copy(cursor, binary=True, writer=FileWriter(out)) as copy:
            copy.set_types(_COPY_TYPES)
            for r in records:
                copy.write_row(r)
    finally:
        cursor.close()
    return out.getvalue(), len(records), sum(1 for r in records if r[_BOOKING] is None)


def _write_postgres(session: so.Session, payload: tuple[bytes, int, int], direct: bool
                    ) -> tuple[int, int, int, bool]:
    """With `direct`, the rows are first copied straight into the orders table, as new orders
    (COPY inserts many rows per step, an upsert one at a time: ≈ 5 µs a row less), in a
    savepoint; if one of them is already there (a re-import), the savepoint is rolled back and
    the rows go the upsert's way: binary COPY into a temporary staging table, then one INSERT
    … SELECT … ON CONFLICT whose RETURNING is counted by the database. → (created, updated,
    created without a session, whether a row was already there)."""
    data, rows, sessionless = payload
    connection = session.connection()
    transaction, nested = connection.get_transaction(), connection.in_nested_transaction()
    done = connection.info.get(_DIRECT)
    done = done[1] if done and done[0] is transaction else 0
    direct = direct and done < DIRECT_PARTS
    with driver_errors(connection, _COPY_ORDERS if direct else _COPY_STAGED):
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            # The lock and the staging table once per transaction (each part's upsert empties
            # the staging table); in a savepoint, which may roll back alone, every time.
            if nested or connection.info.get(_PREPARED) is not transaction:
                cursor.execute(_PREPARE)  # no parameters: its three statements in one round trip
                # (in a savepoint the lock and table may go with its rollback: not remembered)
                connection.info[_PREPARED] = None if nested else transaction
            if direct:
                connection.info[_DIRECT] = (transaction, done + 1)
                cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
                try:
                    with cursor.copy(_COPY_ORDERS) as copy:
                        copy.write(data)
                except psycopg.errors.UniqueViolation as exc:
                    if exc.diag.constraint_name != _KEY_CONSTRAINT:
                        raise
                    cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}; RELEASE SAVEPOINT {_SAVEPOINT}")
                else:
                    cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
                    return rows, 0, sessionless, False
            with cursor.copy(_COPY_STAGED) as copy:
                copy.write(data)
        finally:
            cursor.close()
    return (*session.execute(_UPSERT_STAGED).one(), direct)


_PREPARED = "opsroom.orders_staging"  # key of Connection.info: the transaction _PREPARE ran in


def _upsert_staged() -> sa.Select:
    """The staging table's rows upserted into orders, → (created, updated, created without a
    session), counted by the database. Built once: it has no parameters."""
    # Taken out of the staging table by the same statement: empty for the next part.
    staged = sa.delete(STAGED).returning(*[STAGED.c[c] for c in WRITTEN_COLUMNS]).cte("staged")
    rows = sa.select(*[staged.c[c] for c in WRITTEN_COLUMNS]
                     ).select_from(staged).order_by(staged.c.platform, staged.c.external_id)
    written = _on_conflict(pg_insert(ORDERS).from_select(WRITTEN_COLUMNS, rows)).cte("written")
    new = written.c.updated_at.is_(None)
    count = sa.func.count
    return sa.select(count().filter(new), count().filter(sa.not_(new)),
                     count().filter(new, written.c.booking_id.is_(None)))


_SQLITE_AT = "%Y-%m-%d %H:%M:%S.%f"  # how the UTC column type stores an instant on SQLite


def _json_rows(session: so.Session, records: list[tuple]) -> str:
    at = _AT
    # isoformat of a UTC instant, cut before its offset: the column's "%Y-%m-%d %H:%M:%S.%f" (years 2000–2100).
    now = records[0][-1].astimezone(UTC).strftime(_SQLITE_AT) if records else ""
    return json.dumps([(*r[:at], r[at].astimezone(UTC).isoformat(" ", "microseconds")[:26], *r[at + 1:-1], now)
                       for r in records], ensure_ascii=False, separators=(",", ":"))


def _write_sqlite(session: so.Session, payload: str) -> tuple[int, int, int]:
    value = sa.literal_column("j.value")
    picked = [sa.func.json_extract(value, f"$[{i}]").label(c) for i, c in enumerate(WRITTEN_COLUMNS)]
    # "WHERE true": SQLite's upsert after a SELECT needs a WHERE, else ON CONFLICT reads as a join's ON.
    source = sa.select(*picked).select_from(sa.text("json_each(:payload) AS j")).where(sa.true())
    stmt = _on_conflict(sqlite_insert(ORDERS).from_select(WRITTEN_COLUMNS, source))
    created = updated = unattributed = 0
    for updated_at, booking_id in session.execute(stmt, {"payload": payload}):
        if updated_at is None:
            created += 1
            unattributed += booking_id is None
        else:
            updated += 1
    return created, updated, unattributed


def _on_conflict(stmt):
    """ON CONFLICT (platform, external_id) DO UPDATE, only when the figures change or an
    attribution is filled in; RETURNING tells a new row (updated_at still NULL) from
    an updated one."""
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
    # updated_at untyped: only whether it is NULL matters, not an instant to convert per row.
    ).returning(sa.type_coerce(old.updated_at, sa.types.NullType()), old.booking_id)


_UPSERT_STAGED = _upsert_staged()


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
    settings = settings_of(session)
    chunk_rows = chunk_rows or settings.order_import_chunk_rows
    shown = settings.order_import_errors_shown
    try:
        reader = ExportReader(stream, tz=settings.tz, platform=platform)
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

    def taken(counts: dict) -> None:
        for key in totals:
            totals[key] += counts[key]
        for line, _e, message in counts["rejects"]:
            if len(errors) < shown:
                errors.append({"line": line, "message": message})

    try:
        # On PostgreSQL chunk k is written and committed while chunk k + 1 is read and
        # checked: reading the export touches no database and no ORM object.
        # Its transactions hold nothing but its orders: attribution reads on a connection of its own.
        with Behind(session, taken, batch.id, own_reads=True) as behind:
            for good, bad in _chunks(reader, chunk_rows):
                behind(good, _commit_chunk, session, batch, bad, reader.bytes_read)
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


def _commit_chunk(session: so.Session, batch: ImportBatch, bad: list, bytes_read: int, prepared: dict) -> dict:
    """One chunk of an export written and committed with the batch's progress."""
    counts = store_chunk(session, bad, prepared)
    _add_counts(batch, counts)
    batch.rows_seen += prepared["seen"] + len(bad)
    batch.bytes_done = bytes_read
    session.commit()
    return {**counts, "rejects": sorted(bad + counts.pop("late_errors"))}


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
