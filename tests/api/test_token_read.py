"""The token lookup of GET /api/v1/me as production runs it: on a pooled DBAPI
connection of the app's own engine (db.RowRead), not on the test's shared
connection (the `app` fixture binds every session to one connection, so the
other tests never reach this path). The rows are committed and deleted again."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from config import TestConfig
from opsroom import create_app
from opsroom.models import ApiToken, LoginFailure, Tenant, User
from opsroom.services.park import users
from opsroom.web.headers import CSP
from tests.support.factories import Factory


@pytest.fixture
def served(database_url):
    """An app on its own engine (as gunicorn runs it), and a factory on its sessions."""
    app = create_app(TestConfig, DATABASE_URL=database_url)
    session = app.extensions["opsroom.sessionmaker"]()
    try:
        yield app, Factory(session), session
    finally:
        session.rollback()
        session.execute(sa.delete(ApiToken))
        session.execute(sa.delete(User))
        session.execute(sa.delete(Tenant))
        session.execute(sa.delete(LoginFailure))
        session.commit()
        session.close()
        app.extensions["opsroom.engine"].dispose()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_me_reads_the_token_user_outside_the_test_connection(served):
    """/me answers the token's user with every column as the ORM reads it (a tenant's
    account with its tenant id), and a revoked token or a deactivated user is refused at
    the very next request."""
    app, make, session = served
    user = make.user("tenant", name="王 店长")
    token = users.create_token(session, user, "script")
    session.commit()
    client = app.test_client()

    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {"id": user.id, "email": user.email, "name": "王 店长", "role": "tenant",
                            "tenant_id": user.tenant_id, "anchor": None}

    # The session and header hooks that skip their work for a bearer request still answer as before:
    # every security header, `Vary: Cookie` (the empty session was read), no cookie set or deleted.
    assert r.headers["Content-Security-Policy"] == CSP
    assert (r.headers["X-Content-Type-Options"], r.headers["X-Frame-Options"], r.headers["Referrer-Policy"]) == (
        "nosniff", "DENY", "same-origin")
    assert r.headers["Vary"] == "Cookie" and "Set-Cookie" not in r.headers
    assert "Strict-Transport-Security" not in r.headers
    secure = client.get("/api/v1/me", headers=bearer(token), base_url="https://localhost")
    assert secure.status_code == 200 and secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert [name for name, _value in secure.headers].count("Content-Security-Policy") == 1

    token_id = session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == user.id))
    users.revoke_token(session, user, token_id)
    session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401

    other = users.create_token(session, user, "second")
    session.commit()
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200
    user.active = False
    session.commit()
    r = client.get("/api/v1/me", headers=bearer(other))
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


def test_row_read_converts_columns_as_the_orm_does(served):
    """The user built from the raw row carries the same Python values as the ORM's
    (a bool for `active`, an aware UTC instant for `created_at`, on SQLite too)."""
    app, make, session = served
    user = make.user("coordinator")
    token = users.create_token(session, user)
    session.commit()
    found = users.token_principal_read(app.extensions["opsroom.engine"], token)
    assert found is not None
    built, anchor_id = found
    assert anchor_id is None
    session.expire_all()
    loaded = session.get(User, user.id)
    for column in User.__table__.columns.keys():
        assert getattr(built, column) == getattr(loaded, column), column
        assert type(getattr(built, column)) is type(getattr(loaded, column)), column
    assert built.active is True and built.created_at.utcoffset().total_seconds() == 0


def one_pooled_connection(served) -> tuple[sa.Engine, str]:
    """The app's own engine, emptied (its next request opens the pool's one connection), and a
    committed token of a coordinator."""
    app, make, session = served
    token = users.create_token(session, make.user("coordinator"))
    session.commit()
    engine = app.extensions["opsroom.engine"]
    engine.dispose()
    return engine, token


def test_row_read_leaves_the_pooled_connection_as_the_pool_gives_it(served, database_url):
    """On PostgreSQL the lookup is its own implicit transaction (no BEGIN/ROLLBACK) and
    touches none of psycopg's settings: the connection goes back to the pool idle and in
    transaction mode, so the next session's statements are one transaction again."""
    if not database_url.startswith("postgresql"):
        pytest.skip("psycopg's connection state is PostgreSQL's")
    engine, token = one_pooled_connection(served)
    assert served[0].test_client().get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert engine.pool.checkedin() == 1
    raw = engine.raw_connection()
    try:
        assert raw.driver_connection.autocommit is False
        assert raw.driver_connection.info.transaction_status.name == "IDLE"
    finally:
        raw.close()


def test_a_connection_the_server_ended_is_replaced_before_use(served, database_url, engine):
    """The pool's pre-ping skips its round trip on an idle connection with nothing to read;
    one the server ended (pg_terminate_backend: a FATAL message, then the end of the stream)
    is noticed all the same, and the next request is served on a new connection."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a server to end connections is PostgreSQL's")
    own, token = one_pooled_connection(served)
    served[2].close()
    client = served[0].test_client()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert own.pool.checkedin() == 1
    raw = own.raw_connection()
    pid = raw.driver_connection.info.backend_pid
    raw.close()
    with engine.connect() as killer:
        # Waits (up to 5 s) until the backend has exited: its goodbye is then on the socket.
        assert killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)}, 5000)").scalar() is True
    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 200, r.get_data(as_text=True)
    raw = own.raw_connection()
    try:
        assert raw.driver_connection.info.backend_pid != pid
    finally:
        raw.close()


def test_a_statement_the_connection_lost_is_prepared_again(served, database_url):
    """On PostgreSQL the read is a statement prepared once per connection. psycopg drops
    every prepared statement of a connection (DEALLOCATE ALL) at a rollback once it has
    prepared its own there, and a proxy may DISCARD ALL: the next read prepares it again
    and answers, never a 500."""
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements are PostgreSQL's")
    engine, token = one_pooled_connection(served)
    client = served[0].test_client()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    def prepared() -> list[str]:
        with engine.connect() as conn:  # the pool's one connection, the read's own
            return list(conn.exec_driver_sql(
                "SELECT name FROM pg_prepared_statements WHERE starts_with(name, 'opsroom_')").scalars())

    assert len(prepared()) == 1
    with engine.connect() as conn:
        conn.exec_driver_sql("DEALLOCATE ALL")
    assert prepared() == []
    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert len(prepared()) == 1 and engine.pool.checkedin() == 1


def test_a_statement_the_server_still_holds_is_taken_as_it_is(served, database_url):
    """A connection the pool remembers nothing of (its `info` empty) whose server session still
    holds the statement (the same SQL under the same name) reads on: "already exists" is no
    error."""
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements are PostgreSQL's")
    engine, token = one_pooled_connection(served)
    client = served[0].test_client()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    raw = engine.raw_connection()
    raw.info.clear()
    raw.close()
    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 200, r.get_data(as_text=True)


def test_a_column_type_changed_under_a_prepared_read_is_read_again(served, database_url, engine):
    """A migration that changes a selected column's type while workers run invalidates the
    prepared statement's plan ("cached plan must not change result type"): the read prepares
    it again and answers, on the same connection."""
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements are PostgreSQL's")
    own, token = one_pooled_connection(served)
    client = served[0].test_client()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")  # fail, never hang, behind another test's lock
        conn.exec_driver_sql("ALTER TABLE users ALTER COLUMN name TYPE text")
    try:
        r = client.get("/api/v1/me", headers=bearer(token))
        assert r.status_code == 200, r.get_data(as_text=True)
        assert own.pool.checkedin() == 1
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            conn.exec_driver_sql("ALTER TABLE users ALTER COLUMN name TYPE varchar(100)")


def test_a_read_on_a_connection_lost_meanwhile_is_sqlalchemys_operational_error(served, database_url, engine):
    """A connection that dies between the pool's checkout and the read (here: no pre-ping, the
    server ended it) fails as SQLAlchemy's OperationalError (the API's 503), marked invalidated
    so the pool drops it; the next read is served on a new connection."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a server to end connections is PostgreSQL's")
    app, make, session = served
    token = users.create_token(session, make.user("coordinator"))
    session.commit()
    bare = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))  # no pre-ping
    try:
        assert users.token_principal_read(bare, token) is not None
        raw = bare.raw_connection()
        pid = raw.driver_connection.info.backend_pid
        raw.close()
        with engine.connect() as killer:
            assert killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)}, 5000)").scalar() is True
        with pytest.raises(sa.exc.OperationalError) as lost:
            users.token_principal_read(bare, token)
        assert lost.value.connection_invalidated is True
        assert users.token_principal_read(bare, token) is not None
    finally:
        bare.dispose()


@pytest.mark.parametrize("url", ["sqlite:////nonexistent-dir/opsroom.sqlite3",
                                 "postgresql://postgres@127.0.0.1:9/opsroom"])
def test_me_without_a_database_is_the_json_503(url):
    """A database that cannot be reached during the token lookup is the API's 503
    `unavailable` with Retry-After, never a 500."""
    app = create_app(TestConfig, DATABASE_URL=url, DATABASE_CONNECT_TIMEOUT_SECONDS=2)
    try:
        r = app.test_client().get("/api/v1/me", headers=bearer("ops_whatever"))
        assert r.status_code == 503, r.get_data(as_text=True)[:300]
        assert r.get_json()["error"]["code"] == "unavailable"
        assert r.headers["Retry-After"] == "5"
    finally:
        app.extensions["opsroom.engine"].dispose()
