"""Engine, sessions and the column types every model relies on.

We use plain SQLAlchemy 2.0 (not Flask-SQLAlchemy) so that services receive a
`Session` explicitly and so that SQLite write transactions can be opened with
`BEGIN IMMEDIATE`, which serializes check-then-write flows across processes.
"""
from __future__ import annotations

import contextvars
import hashlib
import select
from contextlib import contextmanager
from datetime import datetime, timezone

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, g, request
from sqlalchemy.dialects import postgresql

UTC = timezone.utc

# Whether transactions begun in this context intend to write. On SQLite a
# writing transaction starts with BEGIN IMMEDIATE (takes the write lock at
# once, so two requests can never both pass a check and then both insert);
# readers use a deferred BEGIN and run concurrently under WAL.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


@contextmanager
def intent(write: bool):
    token = _write_intent.set(write)
    try:
        yield
    finally:
        _write_intent.reset(token)


class UTCDateTime(sa.types.TypeDecorator):
    """An instant: rejects naive datetimes on write, returns aware UTC on read.

    PostgreSQL stores `timestamptz`; SQLite stores fixed-width UTC text, so
    string comparison in triggers orders instants correctly.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: instants must be timezone-aware")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A year of a big park is ~150M order rows: 64-bit keys on PostgreSQL (SQLite's
# INTEGER PRIMARY KEY is already 64-bit and must stay INTEGER to alias rowid).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """SQL text `column IN ('a', 'b')`, for CHECK constraints and partial indexes."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def make_engine(url: str, *, busy_timeout: int = 30, connect_timeout: int = 5, **kwargs) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
            **kwargs,
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            # Let SQLAlchemy's "begin" event issue BEGIN itself.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={busy_timeout * 1000}")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # An unreachable server fails a connect within connect_timeout seconds
    # (the request answers 503 quickly) instead of the OS's minutes-long TCP timeout.
    # TCP keepalives: a connection whose server vanished without a word (a
    # partition, a dead host) is found dead in about a minute, not hours.
    # Sessions in UTC: instants come back in UTC whatever the server's TimeZone, and
    # psycopg builds them ~2x cheaper than in a named zone such as Etc/UTC (the board
    # reads ~5,000 a page); UTCDateTime returns aware UTC either way.
    connect_args = {"connect_timeout": connect_timeout, "keepalives": 1, "keepalives_idle": 30,
                    "keepalives_interval": 10, "keepalives_count": 3, "options": "-c TimeZone=UTC",
                    **kwargs.pop("connect_args", {})}
    engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    engine.dialect.do_ping = _quiet_ping(engine.dialect.do_ping)
    return engine


def _quiet_ping(ping):
    """The pool's pre-ping without a round trip while the connection is plainly alive.

    SQLAlchemy pings with `SELECT 1` at every checkout: a second round trip for a
    one-statement request (and the server's CPU for it). A pooled PostgreSQL
    connection sits idle between checkouts, so the server has nothing to say on it
    unless it ended it (a restart, `pg_terminate_backend`, a proxy that closed it:
    a FATAL message or the end of the stream, which make the socket readable). So:
    an idle, open connection whose socket has nothing to read is alive; anything
    else gets the real ping (which fails on a dead one, and the pool reconnects).
    A server that vanished without a word is caught by TCP keepalives either way."""

    from psycopg import pq

    def do_ping(dbapi_connection) -> bool:
        try:
            pgconn = dbapi_connection.pgconn
            idle = (not dbapi_connection.closed and pgconn.status == pq.ConnStatus.OK
                    and pgconn.transaction_status == pq.TransactionStatus.IDLE)
            if idle and not select.select([pgconn.socket], [], [], 0)[0]:
                return True
        except (AttributeError, OSError, ValueError):
            pass
        return ping(dbapi_connection)

    return do_ping


def make_sessionmaker(bind, settings, **kwargs) -> so.sessionmaker:
    """Sessions whose units of work carry the park's settings (`settings_of(session)`)."""
    return so.sessionmaker(bind=bind, expire_on_commit=False, info={"settings": settings}, **kwargs)


def init_app(app: Flask) -> None:
    engine = make_engine(
        app.config["DATABASE_URL"], busy_timeout=app.config["SQLITE_BUSY_TIMEOUT_SECONDS"],
        connect_timeout=app.config.get("DATABASE_CONNECT_TIMEOUT_SECONDS", 5),
    )
    app.extensions["opsroom.engine"] = engine
    app.extensions["opsroom.sessionmaker"] = make_sessionmaker(engine, app.extensions["opsroom.settings"])

    @app.before_request
    def _set_intent():
        g._write_intent_token = _write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def _reset_intent(exc=None):
        # Back to what the caller had: a test (or a job) that runs a request in
        # its own thread must not inherit the request's read intent.
        token = g.pop("_write_intent_token", None)
        if token is not None:
            try:
                _write_intent.reset(token)
            except ValueError:  # set in another context (cannot happen in a plain request)
                _write_intent.set(True)

    def _close_session(exc=None):
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()

    # A session lives exactly one request (or one CLI/job app context), even
    # when an app context outlives several requests, as in tests.
    app.teardown_request(_close_session)
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> sa.Engine:
    from flask import current_app

    return (app or current_app).extensions["opsroom.engine"]


def get_session() -> so.Session:
    """The request's (or app context's) session, created on first use."""
    from flask import current_app

    if "db_session" not in g:
        g.db_session = current_app.extensions["opsroom.sessionmaker"]()
    return g.db_session


class RowRead:
    """One prepared single-row SELECT run straight on a pooled DBAPI connection:
    no `Connection`, no transaction events, no BEGIN/ROLLBACK (the statement runs
    in its own implicit transaction), its SQL compiled once per dialect. For reads
    at every request (the API token's user), where SQLAlchemy's per-execution
    machinery costs more than the query itself.

    On PostgreSQL (psycopg 3) it goes one layer lower, to libpq through psycopg's `pq` module:
    the statement is prepared once per connection (named by its SQL), then each
    read is one `PQexecPrepared`, a single blocking call that releases the GIL
    once for the whole round trip. A cursor's execute drives the same round trip
    from Python, step by step, and hands the GIL over at each step: measured, 31 µs
    of CPU and 46 µs of wall time a read against 11 and 26 (bench/bench_me.py has
    the whole request). The row is loaded by psycopg's own loaders (a
    `Transformer` of the connection), so its values are a cursor's.

    Results pass through the columns' own result processors (booleans, instants);
    a DBAPI error is raised as SQLAlchemy's (so a lost database is the usual 503,
    and a dead connection is dropped from the pool)."""

    def __init__(self, statement: sa.Select):
        self.statement = statement
        self._prepared: dict[str, tuple] = {}

    def _prepare(self, dialect) -> tuple:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = compiled._bind_processors
            processors = tuple(column.type._cached_result_processor(dialect, None)
                               for column in self.statement.selected_columns)
            name = None
            if _through_libpq(dialect):
                # The SQL with $1, $2 …, libpq's own placeholders (the same parameters in
                # order; the values' processors stay the engine's dialect's, above), and its
                # name on the server, from the SQL itself.
                compiled = self.statement.compile(dialect=type(dialect)(paramstyle="numeric_dollar"))
                name = b"opsroom_" + hashlib.sha256(compiled.string.encode()).hexdigest()[:16].encode()
            prepared = self._prepared[dialect.name] = (compiled.string, compiled, binds, processors, name)
        return prepared

    def first(self, bind, params: dict):
        """The first row as a tuple (processed), or None. `bind` is the sessions' bind:
        an engine, or (in tests) the very connection every session shares."""
        if isinstance(bind, sa.Connection):
            row = bind.execute(self.statement, params).first()
            return tuple(row) if row is not None else None
        dialect = bind.dialect
        sql, compiled, binds, processors, name = self._prepare(dialect)
        values = compiled.construct_params(params)
        for key, process in binds.items():
            if key in values:
                values[key] = process(values[key])
        args = tuple(values[key] for key in compiled.positiontup)  # both drivers' styles are positional
        error_class = dialect.loaded_dbapi.Error
        try:
            raw = bind.raw_connection()
        except error_class as exc:
            raise as_sqlalchemy_error(dialect, exc, None) from exc
        try:
            if name is not None:
                row = _libpq_first(raw, sql, name, args)
            else:
                cursor = raw.cursor()
                try:
                    cursor.execute(sql, args)
                    row = cursor.fetchone()
                finally:
                    cursor.close()
        except error_class as exc:
            raise as_sqlalchemy_error(dialect, exc, sql, args, dbapi_connection=raw.dbapi_connection,
                                      invalidate=raw.invalidate) from exc
        finally:
            raw.close()
        if row is None:
            return None
        return tuple(value if process is None else process(value) for value, process in zip(row, processors))


def _through_libpq(dialect) -> bool:
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


# SQLSTATEs after which a statement is prepared again and run once more: it is gone
# (psycopg runs DEALLOCATE ALL at a rollback once it has prepared statements of its own on
# the connection; a proxy's DISCARD ALL), or its plan no longer fits (a migration changed a
# column's type: "cached plan must not change result type").
_NO_SUCH_STATEMENT, _STALE_PLAN = b"26000", b"0A000"
_ALREADY_PREPARED = b"42P05"


def _libpq_first(raw, sql: str, name: bytes, args: tuple):
    """The first row of the statement prepared as `name` on the pooled psycopg
    connection `raw` (prepared now if this connection has not seen it), by one
    PQexecPrepared; errors as psycopg raises them."""
    from psycopg import pq
    from psycopg.adapt import PyFormat, Transformer

    driver = raw.driver_connection
    pgconn = driver.pgconn
    # The connection's loaders and dumpers, made once per connection (the pool
    # forgets `info` with the connection it belongs to, so a new one prepares again).
    transformer = raw.info.get(name)
    if transformer is None:
        _libpq_prepare(driver, name, sql)
        transformer = raw.info[name] = Transformer(driver)
    values = transformer.dump_sequence(args, [PyFormat.TEXT] * len(args))
    result = pgconn.exec_prepared(name, values)
    state = result.error_field(pq.DiagnosticField.SQLSTATE)
    if state in (_NO_SUCH_STATEMENT, _STALE_PLAN):
        if state == _STALE_PLAN:
            pgconn.exec_(b"DEALLOCATE " + name)
        _libpq_prepare(driver, name, sql)
        result = pgconn.exec_prepared(name, values)
    if result.status != pq.ExecStatus.TUPLES_OK:
        raise _libpq_error(driver, result)
    if not result.ntuples:
        return None
    transformer.set_pgresult(result)
    try:
        return transformer.load_row(0, tuple)
    finally:
        transformer.set_pgresult(None)  # the pool keeps the transformer, not the row


def _libpq_prepare(driver, name: bytes, sql: str) -> None:
    from psycopg import pq

    prepared = driver.pgconn.prepare(name, sql.encode())
    if (prepared.status != pq.ExecStatus.COMMAND_OK
            and prepared.error_field(pq.DiagnosticField.SQLSTATE) != _ALREADY_PREPARED):  # the same SQL by its name
        raise _libpq_error(driver, prepared)


def _libpq_error(driver, result) -> Exception:
    """psycopg's error for a failed result: the server's by its SQLSTATE, or, when the
    connection is gone (no SQLSTATE, the connection BAD), an OperationalError as a
    cursor's execute raises it."""
    from psycopg import errors, pq

    if driver.pgconn.status == pq.ConnStatus.BAD:
        return errors.OperationalError(result.get_error_message(driver.info.encoding) or "the connection is lost")
    return errors.error_from_result(result, encoding=driver.info.encoding)


def as_sqlalchemy_error(dialect, exc: Exception, statement: str | None, params=None, *, dbapi_connection=None,
                       invalidate=None) -> sa.exc.DBAPIError:
    """A DBAPI error raised by a driver call made outside SQLAlchemy, as SQLAlchemy raises it for
    its own statements: an integrity error stays a 409, a lost database a 503. A connection the
    error shows lost is invalidated first (`invalidate(exc)`), so the pool drops it."""
    disconnect = dialect.is_disconnect(exc, dbapi_connection, None)
    if disconnect and invalidate is not None:
        invalidate(exc)
    return sa.exc.DBAPIError.instance(statement, params, exc, dialect.loaded_dbapi.Error, dialect=dialect,
                                      connection_invalidated=disconnect)


@contextmanager
def driver_errors(connection: sa.Connection, statement: str):
    """DBAPI errors raised inside (driver calls made on `connection`'s DBAPI connection, such
    as psycopg's COPY) as SQLAlchemy's (as_sqlalchemy_error)."""
    try:
        yield
    except connection.dialect.loaded_dbapi.Error as exc:
        raise as_sqlalchemy_error(connection.dialect, exc, statement,
                                  dbapi_connection=connection.connection.dbapi_connection,
                                  invalidate=connection.invalidate) from exc


def is_postgres(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, so.Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def among(session: so.Session, column, values) -> sa.ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `= ANY` of one array parameter, so the statement's
    text (and psycopg's work on it) does not grow with the values: hundreds of placeholders
    cost milliseconds to split, and each length would be a new statement."""
    if is_postgres(session):
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


# SQLSTATEs of a transaction the database chose to abort because it raced
# another one: PostgreSQL's deadlock detection (two requests inserting
# conflicting rows at the same instant each wait on the other's
# exclusion-constraint check, and one is aborted) and a serialization failure.
# A lost race, answered 409 like any other, not an unavailable database.
LOST_RACE_SQLSTATES = frozenset({"40P01", "40001"})


def lost_race(exc: BaseException) -> bool:
    """Whether `exc` (an OperationalError) is the database aborting a transaction that raced another."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in LOST_RACE_SQLSTATES
