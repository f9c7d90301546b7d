"""The Flask CLI of docs/api.md ("Command line": init-db, create-user, create-token, seed-demo),
run against a fresh SQLite file per test, with real commits."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from config import TestConfig
from opsroom import create_app
from opsroom.db import get_session
from opsroom.models import Booking, Room, Tenant, User
from opsroom.domain.statuses import ROLES

PASSWORD = "a long enough password"


@pytest.fixture
def cli_app(tmp_path):
    """An app on its own empty SQLite file (not the rollback fixture)."""
    app = create_app(TestConfig, DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3")
    yield app
    app.extensions["opsroom.engine"].dispose()


@pytest.fixture
def run(cli_app):
    """run("create-user", "a@b.c", ...) → click Result (output is stdout + stderr)."""
    runner = cli_app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))

    return invoke


@pytest.fixture
def migrated(run):
    result = run("init-db")
    assert result.exit_code == 0, result.output
    return run


def count(app, model) -> int:
    with app.app_context():
        return get_session().scalar(sa.select(sa.func.count()).select_from(model))


def head_revision(app) -> str:
    from alembic.script import ScriptDirectory

    from opsroom.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(app.config["DATABASE_URL"])).get_current_head()


# ---------------------------------------------------------------------------
# init-db


def test_init_db_twice_reaches_head(cli_app, run):
    """init-db creates the schema at the head revision and is safe to run again."""
    from opsroom.migrate import current_revision

    head = head_revision(cli_app)
    first = run("init-db")
    assert first.exit_code == 0, first.output
    assert head in first.output
    second = run("init-db")
    assert second.exit_code == 0, second.output
    assert head in second.output
    assert current_revision(cli_app.extensions["opsroom.engine"]) == head
    assert count(cli_app, Room) == 0


def test_init_db_keeps_data(cli_app, migrated):
    """A second init-db does not wipe what is there."""
    assert migrated("create-user", "keep@test.example", "--role", "admin", "--password", PASSWORD).exit_code == 0
    assert migrated("init-db").exit_code == 0
    assert count(cli_app, User) == 1


# ---------------------------------------------------------------------------
# create-user


def add_tenant(app, name: str = "西柳服装") -> int:
    with app.app_context():
        session = get_session()
        tenant = Tenant(name=name)
        session.add(tenant)
        session.commit()
        return tenant.id


@pytest.mark.parametrize("role", ROLES)
def test_create_user_with_each_role(cli_app, migrated, role):
    """create-user makes a user of every documented role, with a scrypt-hashed password and the given name
    (a tenant's account with its --tenant-id)."""
    tenant_args = ["--tenant-id", str(add_tenant(cli_app))] if role == "tenant" else []
    result = migrated("create-user", f"{role}@test.example", "--role", role, "--password", PASSWORD, "--name", "小李",
                      *tenant_args)
    assert result.exit_code == 0, result.output
    assert f"{role}@test.example" in result.output
    with cli_app.app_context():
        user = get_session().scalar(sa.select(User).where(User.email == f"{role}@test.example"))
        assert user is not None and user.role == role and user.name == "小李" and user.active
        assert user.password_hash.startswith("scrypt:") and check_password_hash(user.password_hash, PASSWORD)
        assert (user.tenant_id is not None) == (role == "tenant")


def test_a_tenant_account_needs_an_existing_tenant_and_only_it_has_one(cli_app, migrated):
    """--role tenant without --tenant-id, with an unknown tenant, or --tenant-id on a staff role: refused, no user."""
    tenant_id = add_tenant(cli_app)
    for args in (["--role", "tenant"], ["--role", "tenant", "--tenant-id", str(tenant_id + 1)],
                 ["--role", "coordinator", "--tenant-id", str(tenant_id)]):
        result = migrated("create-user", "x@test.example", "--password", PASSWORD, *args)
        assert result.exit_code != 0 and "tenant_id" in result.output, result.output
    assert count(cli_app, User) == 0


def test_create_user_name_defaults_to_the_email_name(cli_app, migrated):
    """Without --name the user is named after the part of the email before @."""
    assert migrated("create-user", "wang.wei@test.example", "--role", "anchor", "--password", PASSWORD).exit_code == 0
    with cli_app.app_context():
        assert get_session().scalar(sa.select(User.name)) == "wang.wei"


@pytest.mark.parametrize("args,needle", [
    (["bad-role@test.example", "--role", "boss", "--password", PASSWORD], "role"),
    (["short@test.example", "--role", "admin", "--password", "short"], "password"),
    (["not-an-email", "--role", "admin", "--password", PASSWORD], "email"),
    (["norole@test.example", "--password", PASSWORD], "role"),
    (["nopass@test.example", "--role", "admin"], "password"),
], ids=["bad-role", "short-password", "bad-email", "missing-role", "missing-password"])
def test_create_user_rejects_bad_input(cli_app, migrated, args, needle):
    """A bad role, a short password, a malformed email or a missing option: non-zero exit, a message naming
    the problem, and no user."""
    result = migrated("create-user", *args)
    assert result.exit_code != 0
    assert needle in result.output.lower(), result.output
    assert count(cli_app, User) == 0


def test_create_user_rejects_a_taken_email(cli_app, migrated):
    """Emails are unique (case-insensitively): a second user with the same email is refused."""
    assert migrated("create-user", "same@test.example", "--role", "admin", "--password", PASSWORD).exit_code == 0
    result = migrated("create-user", "SAME@test.example", "--role", "manager", "--password", PASSWORD)
    assert result.exit_code != 0 and "email" in result.output.lower()
    assert count(cli_app, User) == 1


# ---------------------------------------------------------------------------
# create-token


def test_create_token_prints_a_working_token_last(cli_app, migrated):
    """create-token prints the token as the last line of stdout; it works against GET /api/v1/me."""
    assert migrated("create-user", "bot@test.example", "--role", "coordinator", "--password", PASSWORD).exit_code == 0
    result = migrated("create-token", "bot@test.example")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1].strip()
    assert token and " " not in token
    r = cli_app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["email"] == "bot@test.example" and r.get_json()["role"] == "coordinator"
    # Each call makes a new, different token.
    again = migrated("create-token", "bot@test.example").stdout.strip().splitlines()[-1]
    assert again != token


def test_create_token_for_unknown_user_fails(cli_app, migrated):
    """create-token for an email without a user exits non-zero with a message."""
    result = migrated("create-token", "nobody@test.example")
    assert result.exit_code != 0 and "nobody@test.example" in result.output


# ---------------------------------------------------------------------------
# seed-demo


def _add_room(app):
    with app.app_context():
        session = get_session()
        from datetime import time

        session.add(Room(code="MINE", name="我的直播间", open_time=time(8), close_time=time(22)))
        session.commit()


def test_seed_demo_refuses_a_non_empty_database(cli_app, migrated):
    """With data present and no --force, seed-demo exits non-zero, says why, and changes nothing."""
    _add_room(cli_app)
    result = migrated("seed-demo")
    assert result.exit_code != 0
    assert "--force" in result.output
    assert count(cli_app, Room) == 1 and count(cli_app, Tenant) == 0


def test_seed_demo_if_empty_skips_a_non_empty_database(cli_app, migrated):
    """`seed-demo --if-empty` on a database with data exits 0 without loading anything."""
    _add_room(cli_app)
    result = migrated("seed-demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert count(cli_app, Room) == 1 and count(cli_app, Tenant) == 0 and count(cli_app, User) == 0


def test_a_database_with_only_users_is_not_empty(cli_app, migrated):
    """A database holding only a user (e.g. the first admin) counts as non-empty: seed-demo refuses
    without --force and --if-empty loads nothing."""
    assert migrated("create-user", "first@test.example", "--role", "admin", "--password", PASSWORD).exit_code == 0
    result = migrated("seed-demo")
    assert result.exit_code != 0 and "--force" in result.output
    assert migrated("seed-demo", "--if-empty").exit_code == 0
    assert count(cli_app, Room) == 0 and count(cli_app, User) == 1


def test_seed_demo_loads_an_empty_database_and_force_reloads(cli_app, migrated):
    """seed-demo fills an empty database; a second run refuses; --force wipes and loads the same park again."""
    pytest.importorskip("opsroom.demo.park")
    result = migrated("seed-demo")
    assert result.exit_code == 0, result.output
    rooms, tenants, bookings = count(cli_app, Room), count(cli_app, Tenant), count(cli_app, Booking)
    assert rooms > 0 and tenants > 0 and bookings > 0
    assert migrated("seed-demo").exit_code != 0
    _add_room(cli_app)
    forced = migrated("seed-demo", "--force")
    assert forced.exit_code == 0, forced.output
    assert (count(cli_app, Room), count(cli_app, Tenant), count(cli_app, Booking)) == (rooms, tenants, bookings)
    with cli_app.app_context():
        assert get_session().scalar(sa.select(Room.id).where(Room.code == "MINE")) is None


def test_seed_demo_if_empty_loads_an_empty_database(cli_app, migrated):
    """`--if-empty` on an empty database loads the demo park."""
    pytest.importorskip("opsroom.demo.park")
    result = migrated("seed-demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert count(cli_app, Room) > 0


# ---------------------------------------------------------------------------
# plan


def test_plan_prints_the_months_summary_and_keeps_the_draft(cli_app, migrated):
    """`flask plan --month` solves the month's pending requests in the process and
    prints placed, unplaced and the gap; the draft stays as a plan row."""
    from datetime import date, time

    from opsroom.models import BookingRequest, Plan

    with cli_app.app_context():
        session = get_session()
        room = Room(code="C1", name="C1", open_time=time(8, 0), close_time=time(2, 0), changeover_minutes=0)
        tenants = [Tenant(name="甲"), Tenant(name="乙")]
        session.add_all([room, *tenants])
        session.flush()
        session.add_all([BookingRequest(tenant_id=t.id, room_id=room.id, date=date(2026, 12, 9),
                                        window_start=time(20, 0), window_end=time(22, 0), minutes=120)
                         for t in tenants])
        session.commit()
    result = migrated("plan", "--month", "2026-12", "--time-limit", "5")
    assert result.exit_code == 0, result.output
    assert "done" in result.output and "placed 1 sessions, unplaced 1, gap 0.00%" in result.output
    assert count(cli_app, Plan) == 1
    assert migrated("plan", "--month", "2026-13").exit_code != 0
    refused = migrated("plan", "--month", "1900-01")
    assert refused.exit_code != 0 and "2000" in refused.output
