"""A real opsroom server for tests that need one: browser journeys, race tests.

The server runs in this process, in a background thread, on a freshly
migrated database of its own. Being in-process, `opsroom.clock.set_now`
freezes the server's clock too; data is arranged through `session()` with real
commits, which the server sees like any other client's.

    with LiveServer("sqlite") as live:            # or LiveServer(postgres_url)
        with live.session() as s:
            Factory(s).room(code="A101")
        requests.get(live.url + "/login")

A PostgreSQL URL names a server (as OPSROOM_TEST_POSTGRES_URL does): a fresh
database is created on it for this server and dropped by `stop()`.
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator

import sqlalchemy as sa
import sqlalchemy.orm as so
from werkzeug.serving import make_server

from config import TestConfig
from opsroom import create_app
from opsroom.db import Base, make_engine
from opsroom.migrate import upgrade
from tests.support import ROOT
from tests.support.http import InThread, free_port

POSTGRES_ENV = "OPSROOM_TEST_POSTGRES_URL"


def wait_for(predicate, timeout: float, what: str, step: float = 0.05):
    """Poll `predicate` until it returns something true (returned), or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


class SchedulerProcesses:
    """Real `flask scheduler` processes on one database, each logging to its own file;
    `stop()` ends whatever is still running (terminate, then kill after 10 s)."""

    def __init__(self, env: dict[str, str], logs):
        self.env, self.logs, self.procs = env, logs, []

    def start(self) -> subprocess.Popen:
        log = open(self.logs / f"scheduler-{len(self.procs)}.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def backend_url(backend: str) -> str:
    """The URL to hand LiveServer for a backend name: "sqlite" or "postgres"."""
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgres":
        url = os.environ.get(POSTGRES_ENV, "")
        if not url:
            raise RuntimeError(f"{POSTGRES_ENV} is not set")
        return url
    raise ValueError(f"unknown backend {backend!r}")


def provision_database(url: str) -> tuple[str, Callable[[], None]]:
    """A migrated, empty database for `url`, and the function that removes it.

    "sqlite", "sqlite://" or "sqlite:///:memory:" → a file in a new temporary
    directory (an in-memory database cannot be shared by the server's threads);
    another sqlite URL → that file, migrated and left in place; a PostgreSQL URL
    → a new database on that server, dropped on cleanup.

    The migrations run once per test process and engine, into a template: a new
    SQLite file is a copy of the template, a new PostgreSQL database is created
    with `CREATE DATABASE … TEMPLATE` it (the template is dropped when the
    process ends). tests/web/test_provisioning.py compares them with migrated ones.
    """
    if url in ("sqlite", "sqlite://", "sqlite:///:memory:"):
        tmpdir = tempfile.mkdtemp(prefix="opsroom-live-")
        path = os.path.join(tmpdir, "opsroom.sqlite3")
        _copy_sqlite_template(path)
        return f"sqlite:///{path}", lambda: shutil.rmtree(tmpdir, ignore_errors=True)
    if url.startswith("sqlite"):
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
        if path and not os.path.exists(path):
            _copy_sqlite_template(path)
        else:
            _migrate(url)
        return url, lambda: None
    if url.startswith("postgresql"):
        name = f"opsroom_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _postgres_admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template(url)}"')
        db_url = f"{url.rsplit('/', 1)[0]}/{name}"
        return db_url, lambda: _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    raise ValueError(f"unsupported database URL: {url!r}")


_templates: dict[str, str] = {}
_templates_lock = threading.Lock()


def _copy_sqlite_template(path: str) -> None:
    """A freshly migrated SQLite database at `path`: a copy of the template made
    with SQLite's online backup (whole and consistent, whatever its journal holds)."""
    import sqlite3

    with _templates_lock:
        template = _templates.get("sqlite")
        if template is None:
            tmpdir = tempfile.mkdtemp(prefix="opsroom-template-")
            atexit.register(shutil.rmtree, tmpdir, ignore_errors=True)
            template = os.path.join(tmpdir, "template.sqlite3")
            _migrate(f"sqlite:///{template}")
            _templates["sqlite"] = template
    source, target = sqlite3.connect(template), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _postgres_template(server_url: str) -> str:
    """The name of this process's migrated template database on that server."""
    with _templates_lock:
        name = _templates.get(server_url)
        if name is None:
            name = f"opsroom_template_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            _postgres_admin(server_url, f'CREATE DATABASE "{name}"')
            try:
                _migrate(f"{server_url.rsplit('/', 1)[0]}/{name}")
            except BaseException:
                _postgres_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                raise
            atexit.register(_postgres_admin, server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _templates[server_url] = name
    return name


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _postgres_admin(server_url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        admin.dispose()


def wipe(engine: sa.Engine) -> None:
    """Delete every row of every table, children first; the schema stays."""
    import opsroom.models  # noqa: F401  (fills Base.metadata)

    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


class LiveServer:
    """opsroom served over HTTP on 127.0.0.1 at a free port, in a thread."""

    def __init__(self, database_url: str = "sqlite", *, config=TestConfig, **overrides):
        self._source_url = database_url
        self._config = config
        self._overrides = overrides
        self._cleanup_db: Callable[[], None] | None = None
        self._served: InThread | None = None
        self.database_url: str | None = None
        self.app = None
        self.url = ""

    def start(self) -> "LiveServer":
        self.database_url, self._cleanup_db = provision_database(self._source_url)
        try:
            self.app = create_app(self._config, DATABASE_URL=self.database_url, **self._overrides)
            server = make_server("127.0.0.1", 0, self.app, threaded=True)
        except BaseException:
            self._drop_database()
            raise
        self._served = InThread(server, name="opsroom-live")
        self.url = f"http://127.0.0.1:{self._served.port}"
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None
        if self.app is not None:
            self.app.extensions["opsroom.engine"].dispose()
        self._drop_database()

    def _drop_database(self) -> None:
        if self._cleanup_db is not None:
            cleanup, self._cleanup_db = self._cleanup_db, None
            if self.app is not None:
                self.app.extensions["opsroom.engine"].dispose()
            cleanup()

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def engine(self) -> sa.Engine:
        return self.app.extensions["opsroom.engine"]

    @contextmanager
    def session(self) -> Iterator[so.Session]:
        """A session on the server's database, inside an app context (services
        read the app's config); commits are real and visible to the server."""
        with self.app.app_context():
            session = self.app.extensions["opsroom.sessionmaker"]()
            try:
                yield session
            finally:
                session.close()

    def wipe(self) -> None:
        """Empty every table, e.g. between tests sharing one server."""
        wipe(self.engine)


# ---------------------------------------------------------------------------
# Real gunicorn worker processes (the fault, race, load and fuzzing tests)


class Gunicorn:
    """`gunicorn wsgi:app` in a subprocess on 127.0.0.1 at a free port, with
    real worker processes; `env` adds OPSROOM_* settings. The server runs on
    the real clock (it is another process)."""

    def __init__(self, database_url: str, *, workers: int = 1, threads: int = 2, env: dict | None = None,
                 log_path: str | None = None):
        self.database_url, self.workers, self.threads = database_url, workers, threads
        self.env = {**os.environ, "OPSROOM_DATABASE_URL": database_url, "OPSROOM_SECRET_KEY": "live-gunicorn",
                    "OPSROOM_INSECURE_COOKIES": "1", **(env or {})}
        self.env.pop("OPSROOM_EMBED_SCHEDULER", None)
        self.log_path = log_path or os.path.join(tempfile.mkdtemp(prefix="opsroom-gunicorn-"), "gunicorn.log")
        self.proc = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "Gunicorn":
        import subprocess
        import sys
        import time
        import urllib.request

        self._log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--threads", str(self.threads),
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "--graceful-timeout", "5", "wsgi:app"],
            cwd=ROOT, env={**self.env, "PYTHONPATH": str(ROOT)}, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/v1/openapi.json", timeout=2)
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("gunicorn exited: " + self.log())
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not start: " + self.log())

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def worker_pids(self) -> list[int]:
        """The master's children: its worker processes."""
        path = f"/proc/{self.proc.pid}/task/{self.proc.pid}/children"
        with open(path) as f:
            return [int(p) for p in f.read().split()]

    def stop(self) -> None:
        import subprocess

        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def query(app, fn):
    """Run fn(session) in its own session on `app`'s database, as a writer
    (BEGIN IMMEDIATE on SQLite, as in the app's own jobs)."""
    from opsroom.db import intent

    with app.app_context(), intent(write=True):
        session = app.extensions["opsroom.sessionmaker"]()
        try:
            return fn(session)
        finally:
            session.close()


def at_once(app, user_id: int, items: list, work: Callable, *, timeout: float = 60) -> list:
    """Race test clients: for each item a thread with its own connection and
    session calls `work(session, user, item)`; a barrier releases them all at
    the same moment, each with its write transaction not yet begun. The
    threads share the test's frozen clock. Returns the results in item order."""
    from concurrent.futures import ThreadPoolExecutor

    from opsroom import clock
    from opsroom.db import intent
    from opsroom.models import User

    barrier = threading.Barrier(len(items))
    frozen = clock.now()

    def attempt(item):
        clock.set_now(frozen)
        with app.app_context(), intent(write=True):
            session = app.extensions["opsroom.sessionmaker"]()
            try:
                user = session.get(User, user_id)
                session.rollback()  # start the write transaction at the barrier, not before
                barrier.wait(timeout=timeout)
                return work(session, user, item)
            finally:
                session.close()

    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(attempt, items))
