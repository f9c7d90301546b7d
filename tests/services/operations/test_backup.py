"""`backup PATH` / `restore PATH` on SQLite (the online backup API), with real
files and commits: a round trip, a backup taken while another thread writes is
a consistent snapshot, a restore refuses what is not an opsroom database, and
PostgreSQL points to pg_dump / pg_restore."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from config import TestConfig
from opsroom import create_app
from opsroom.db import get_session
from opsroom.models import Room, Tenant, User
from tests.support.factories import Factory


@pytest.fixture
def cli_app(tmp_path):
    app = create_app(TestConfig, DATABASE_URL=f"sqlite:///{tmp_path}/live.sqlite3")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    yield app
    app.extensions["opsroom.engine"].dispose()


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def names(app, model):
    with app.app_context():
        return sorted(get_session().scalars(sa.select(model.name)))


def test_round_trip(cli_app, tmp_path):
    """What was there at the backup is there after the restore; what came later is gone."""
    with cli_app.app_context():
        make = Factory(get_session())
        make.room(name="岫玉一号间")
        make.tenant(name="西柳服装")
        make.user("admin", name="管理员")
    backup_file = tmp_path / "opsroom-backup.sqlite3"
    result = run(cli_app, "backup", str(backup_file))
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output and backup_file.is_file()
    assert not backup_file.with_name(backup_file.name + ".partial").exists()
    # A self-contained file: no WAL beside it is needed.
    conn = sqlite3.connect(backup_file)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()

    with cli_app.app_context():
        session = get_session()
        Factory(session).tenant(name="后来的商家")
        session.execute(sa.delete(Room))
        session.commit()
    assert names(cli_app, Room) == []

    refused = run(cli_app, "restore", str(backup_file), input="n\n")
    assert refused.exit_code != 0 and names(cli_app, Room) == []  # asked, and the answer was no
    result = run(cli_app, "restore", str(backup_file), "--yes")
    assert result.exit_code == 0, result.output
    assert names(cli_app, Room) == ["岫玉一号间"]
    assert names(cli_app, Tenant) == ["西柳服装"]
    assert names(cli_app, User) == ["管理员"]
    # The app's own engine sees the restored data without a restart.
    assert run(cli_app, "init-db").exit_code == 0


def test_backup_while_another_thread_writes_is_consistent(cli_app, tmp_path):
    """Each write commits a tenant and a room together: every backup holds as many of one as of the other."""
    stop = threading.Event()
    written = []

    def writer():
        with cli_app.app_context():
            session = cli_app.extensions["opsroom.sessionmaker"]()
            n = 0
            while not stop.is_set():
                n += 1
                session.add_all([Tenant(name=f"t{n}"), Room(code=f"R{n}", name=f"r{n}")])
                session.commit()
                written.append(n)
            session.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        counts = []
        for i in range(5):
            while len(written) < (i + 1) * 20:  # let the writer get ahead between backups
                time.sleep(0.001)
            path = tmp_path / f"b{i}.sqlite3"
            assert run(cli_app, "backup", str(path)).exit_code == 0
            conn = sqlite3.connect(path)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            tenants = conn.execute("SELECT count(*) FROM tenants").fetchone()[0]
            rooms = conn.execute("SELECT count(*) FROM rooms").fetchone()[0]
            conn.close()
            assert tenants == rooms
            counts.append(tenants)
    finally:
        stop.set()
        thread.join(30)
    assert counts == sorted(counts) and counts[-1] > counts[0] > 0  # taken while the writes went on


@pytest.mark.parametrize("kind", ["text", "other_sqlite", "missing", "unknown_revision"])
def test_restore_refuses_what_is_not_an_opsroom_database(cli_app, tmp_path, kind):
    with cli_app.app_context():
        Factory(get_session()).room(name="保留")
    path = tmp_path / "not-a-backup.sqlite3"
    if kind == "text":
        path.write_text("id,name\n1,hello\n")
    elif kind == "other_sqlite":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.commit()
        conn.close()
    elif kind == "unknown_revision":
        assert run(cli_app, "backup", str(path)).exit_code == 0
        conn = sqlite3.connect(path)
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.commit()
        conn.close()
    result = run(cli_app, "restore", str(path), "--yes")
    assert result.exit_code != 0
    assert {"text": "not a SQLite database", "other_sqlite": "not an opsroom database", "missing": "No such file",
            "unknown_revision": "does not know"}[kind] in result.output
    assert names(cli_app, Room) == ["保留"]  # the live database is untouched


def test_postgres_points_to_pg_dump(tmp_path):
    app = create_app(TestConfig, DATABASE_URL="postgresql://opsroom@127.0.0.1:1/opsroom")
    for args in (["backup", str(tmp_path / "x")], ["restore", str(tmp_path / "x"), "--yes"]):
        result = run(app, *args)
        assert result.exit_code != 0
        assert "pg_dump" in result.output and "pg_restore" in result.output and "docs/operations.md" in result.output
    app.extensions["opsroom.engine"].dispose()
