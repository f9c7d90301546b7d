"""Leader election for the scheduler: any number of processes, on any hosts;
exactly one acts at a time.

- PostgreSQL: a session-level advisory lock held on a dedicated connection.
  It lives exactly as long as that connection: a killed process's socket is
  closed by its kernel and the server frees the lock at once; a host that
  vanishes is noticed by TCP keepalives (about 25 s), then the lock is freed.
- SQLite: an exclusive `flock` on a file beside the database file (SQLite
  databases are local to one host, so every process that can write it can
  lock that file). The kernel frees it when the process dies.

`acquire()` never blocks: a standby calls it again on its next tick.
"""
from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

import sqlalchemy as sa

log = logging.getLogger(__name__)

# pg_try_advisory_lock key: "opsr" as a 32-bit number (locks are per database).
ADVISORY_KEY = 0x6F707372


class FileLeadership:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> bool:
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def still_held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            try:
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            finally:
                self._handle.close()
                self._handle = None


class PostgresLeadership:
    def __init__(self, url: sa.URL):
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> bool:
        if self._conn is not None:
            return self.still_held()
        import psycopg

        try:
            conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10, keepalives=1,
                                   keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
                                   application_name="opsroom-scheduler")
        except psycopg.Error as exc:
            log.warning("scheduler: cannot reach the database for the leader lock: %s", exc)
            return False
        try:
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_KEY,)).fetchone()[0]
        except psycopg.Error:
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        """The lock lives as long as its connection: check that it is alive."""
        if self._conn is None:
            return False
        import psycopg

        try:
            self._conn.execute("SELECT 1").fetchone()
            return True
        except psycopg.Error:
            log.warning("scheduler: lost the connection that held the leader lock")
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is not None:
            import psycopg

            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_KEY,))
            except psycopg.Error:
                pass
            self._drop()

    def _drop(self) -> None:
        try:
            self._conn.close()
        finally:
            self._conn = None


def for_engine(engine: sa.Engine, instance_path: str):
    """The election that fits the engine's database."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresLeadership(url)
    database = url.database
    if database and database != ":memory:":
        return FileLeadership(Path(database + ".scheduler.lock"))
    return FileLeadership(Path(instance_path) / "scheduler.lock")
