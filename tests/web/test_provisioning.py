"""The test databases copied from a migrated template (tests/support/live.py)
are the databases the migrations build: the same tables, columns, keys,
indexes and constraints, the same Alembic revision, and no rows."""
from __future__ import annotations

import os
import tempfile
import uuid

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom.db import make_engine
from opsroom.migrate import current_revision
from tests.support import live
from tests.support.factories import Factory

PG_URL = os.environ.get(live.POSTGRES_ENV, "")


def _schema(url: str) -> dict:
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        tables = {}
        for table in inspector.get_table_names():
            tables[table] = (
                [(c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in inspector.get_columns(table)],
                inspector.get_pk_constraint(table)["constrained_columns"],
                sorted((fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                       for fk in inspector.get_foreign_keys(table)),
                sorted((ix["name"] or "", tuple(ix["column_names"]), bool(ix["unique"]))
                       for ix in inspector.get_indexes(table)),
                sorted((ck["name"] or "", ck["sqltext"]) for ck in inspector.get_check_constraints(table)),
            )
        with engine.connect() as conn:
            rows = {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                    for t in tables if t != "alembic_version"}
        return {"tables": tables, "rows": rows, "revision": current_revision(engine)}
    finally:
        engine.dispose()


def _migrated(backend: str):
    """A database migrated step by step, the way the template itself is built."""
    if backend == "sqlite":
        tmpdir = tempfile.mkdtemp(prefix="opsroom-migrated-")
        url = f"sqlite:///{tmpdir}/migrated.sqlite3"
        live._migrate(url)
        return url, lambda: live.shutil.rmtree(tmpdir, ignore_errors=True)
    name = f"opsroom_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    live._postgres_admin(PG_URL, f'CREATE DATABASE "{name}"')
    url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    drop = lambda: live._postgres_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # noqa: E731
    try:
        live._migrate(url)
    except BaseException:
        drop()
        raise
    return url, drop


@pytest.mark.parametrize("backend", ["sqlite"] + (["postgres"] if PG_URL else []))
def test_a_database_from_the_template_is_a_freshly_migrated_one(backend):
    copied, remove_copied = live.provision_database(live.backend_url(backend))
    migrated, remove_migrated = _migrated(backend)
    try:
        got, want = _schema(copied), _schema(migrated)
        assert want["revision"] and len(want["tables"]) > 20
        assert got == want
        assert not any(got["rows"].values())
    finally:
        remove_copied()
        remove_migrated()


def test_each_sqlite_database_is_its_own_file():
    first, remove_first = live.provision_database("sqlite")
    second, remove_second = live.provision_database("sqlite")
    try:
        assert first != second
        engine = make_engine(first)
        with so.Session(engine) as session:
            Factory(session).tenant()
        engine.dispose()
        assert _schema(first)["rows"]["tenants"] == 1
        assert _schema(second)["rows"]["tenants"] == 0
    finally:
        remove_first()
        remove_second()
