"""Backups of a SQLite database with SQLite's online backup API, and restores.

A backup copies the database in one step inside one read transaction: under
WAL the app's writers go on meanwhile, and the copy is the database as of one
instant (a consistent snapshot, never half of a transaction). It is written to
`PATH.partial`, checked, switched to a self-contained rollback journal, and
renamed to PATH only when complete.

A restore refuses any file that is not an opsroom database (SQLite header, the
opsroom tables, an Alembic revision this code knows), copies it over the live
database with the same API (so open connections see it at once), and migrates
it to the latest revision.

PostgreSQL has its own, better tools (pg_dump / pg_restore); see docs/operations.md.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlalchemy as sa

SQLITE_MAGIC = b"SQLite format 3\x00"
REQUIRED_TABLES = {"alembic_version", "users", "rooms", "tenants", "bookings"}
POSTGRES_MESSAGE = (
    "The database is PostgreSQL: back it up with pg_dump and restore it with pg_restore, e.g.\n"
    "  pg_dump --format=custom --file=opsroom.dump \"$OPSROOM_DATABASE_URL\"\n"
    "  pg_restore --clean --if-exists --no-owner --dbname=\"$OPSROOM_DATABASE_URL\" opsroom.dump\n"
    "(the recipe, with scheduling and checks, is in docs/operations.md)."
)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


def sqlite_file(engine: sa.Engine) -> Path:
    url = engine.url
    if url.get_backend_name() != "sqlite":
        raise BackupError(POSTGRES_MESSAGE)
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory database cannot be backed up.")
    return Path(url.database)


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    return sqlite3.connect(path, timeout=30)


def backup(engine: sa.Engine, target: Path | str) -> dict:
    """Copy the live database to `target` (overwritten when complete)."""
    source = sqlite_file(engine)
    target = Path(target)
    if not source.exists():
        raise BackupError(f"No database at {source}.")
    if target.resolve() == source.resolve():
        raise BackupError("The backup cannot overwrite the database itself.")
    if not target.parent.is_dir():
        raise BackupError(f"No such directory: {target.parent}")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src, dst = _connect(source), _connect(partial)
    try:
        src.backup(dst)  # all pages in one step: one read transaction, one snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("The copy failed its integrity check.")
        revision = dst.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise BackupError(f"The backup failed: {exc}") from None
    finally:
        dst.close()
        src.close()
    os.replace(partial, target)
    return {"path": str(target), "bytes": target.stat().st_size, "revision": revision}


def check_backup(path: Path | str) -> str:
    """The Alembic revision of an opsroom backup file; BackupError for anything else."""
    from alembic.script import ScriptDirectory

    from opsroom.migrate import alembic_config

    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No such file: {path}")
    with open(path, "rb") as f:
        if f.read(16) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite database, so not an opsroom backup.")
    try:
        conn = _connect(path, read_only=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = REQUIRED_TABLES - tables
            if missing:
                raise BackupError(f"{path} is not an opsroom database (no {', '.join(sorted(missing))} table).")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} is damaged (integrity check failed).")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be read as an opsroom database: {exc}") from None
    revision = row[0] if row else None
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}
    if revision not in known:
        raise BackupError(f"{path} has schema revision {revision!r}, which this version of opsroom does not know.")
    return revision


def restore(engine: sa.Engine, source: Path | str) -> str:
    """Replace the live database's content with the backup's, then migrate it. Returns the revision."""
    from opsroom.migrate import current_revision, upgrade

    target = sqlite_file(engine)
    check_backup(source)
    engine.dispose()  # no pooled connection keeps an old view
    src, dst = _connect(Path(source), read_only=True), _connect(target)
    try:
        src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"The restore failed: {exc}") from None
    finally:
        dst.close()
        src.close()
    engine.dispose()
    upgrade(engine)
    return current_revision(engine)
