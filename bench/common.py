"""What every benchmark script shares: a fresh database per run, chunked bulk
inserts, and the versions a result is recorded with."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from opsroom.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = os.environ.get("OPSROOM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CHUNK = 10_000
# The park's "now" of bench_bookings.py, bench_reports.py and explain.py: a Sunday morning,
# 09:30 park time.
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def provision(backend: str, pg_url: str, prefix: str = "opsroom_bench") -> tuple[str, Callable[[], None]]:
    """A fresh, empty database: its URL and a function that removes it (a
    temporary SQLite file, or `<prefix>_<pid>` on the PostgreSQL server)."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix=prefix.replace("_", "-") + "-")
        return f"sqlite:///{folder}/bench.sqlite3", lambda: shutil.rmtree(folder, ignore_errors=True)
    name = f"{prefix}_{os.getpid()}"
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return f"{pg_url.rsplit('/', 1)[0]}/{name}", drop


def insert_rows(conn, table: sa.Table, rows: list[dict], chunk: int = CHUNK) -> None:
    """Bulk Core inserts (`executemany`) in chunks."""
    for i in range(0, len(rows), chunk):
        conn.execute(table.insert(), rows[i:i + chunk])


def code_version() -> str:
    """The commit measured (read-only git), or $OPSROOM_BENCH_COMMIT for an exported tree."""
    if os.environ.get("OPSROOM_BENCH_COMMIT"):
        return os.environ["OPSROOM_BENCH_COMMIT"]
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def server_version(engine: sa.Engine) -> str:
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with engine.connect() as conn:
        return "PostgreSQL " + conn.exec_driver_sql("SHOW server_version").scalar()
