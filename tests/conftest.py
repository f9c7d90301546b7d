"""Fixtures: the schema is migrated once per database engine, each test runs in
a transaction that is rolled back, and the clock is frozen.

Every test that uses `app` runs on SQLite and, when OPSROOM_TEST_POSTGRES_URL
points at a server (CI sets it), on PostgreSQL too. With
OPSROOM_REQUIRE_POSTGRES=1 a missing server is an error, not a skip.
"""
from __future__ import annotations

import contextvars
import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from config import TestConfig
from opsroom import clock, create_app
from opsroom.settings import Settings
from opsroom.db import make_engine, make_sessionmaker
from tests.support import factories, pages, routing_cache
from tests.support.live import provision_database, wipe

# Each test builds its own app; Werkzeug's URL builders are compiled once per process.
routing_cache.install()

TZ = ZoneInfo("Asia/Shanghai")
# "Now" for every test unless it moves the clock: a Friday morning in the park.
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)

PG_URL = os.environ.get("OPSROOM_TEST_POSTGRES_URL", "")
REQUIRE_PG = os.environ.get("OPSROOM_REQUIRE_POSTGRES") == "1"


def _pg_available() -> bool:
    if not PG_URL:
        return False
    try:
        engine = make_engine(PG_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        if REQUIRE_PG:
            raise
        return False


BACKENDS = ["sqlite"] + (["postgres"] if (REQUIRE_PG or _pg_available()) else [])


def pytest_report_header(config):
    return f"opsroom database backends: {', '.join(BACKENDS)}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A migrated, empty database of each backend, once per test session."""
    if request.param == "sqlite":
        source = f"sqlite:///{tmp_path_factory.mktemp('db') / 'opsroom.sqlite3'}"
    else:
        source = PG_URL
    url, cleanup = provision_database(source)
    yield url
    cleanup()


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.set_now(NOW)
    yield NOW
    clock.set_now(None)


class IsolatedClient(FlaskClient):
    """Runs each request in an empty context, so it gets its own app context
    and `g`, as in production, although the test holds an app context open."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def app_on(connection, engine, database_url):
    """A new test app whose sessions run on `connection`, inside the transaction
    it is in: services' commits only release savepoints inside it."""
    app = create_app(TestConfig, DATABASE_URL=database_url)
    app.test_client_class = IsolatedClient
    app.extensions["opsroom.engine"].dispose()
    app.extensions["opsroom.engine"] = engine
    app.extensions["opsroom.sessionmaker"] = make_sessionmaker(
        connection, app.extensions["opsroom.settings"], join_transaction_mode="create_savepoint"
    )
    app.extensions["opsroom.planner"].deferred = True  # plan runs would share this connection: tests drain them
    return app


@pytest.fixture
def app(engine, database_url):
    """The app on a connection whose outer transaction is rolled back after the
    test; services' commits only release savepoints inside it."""
    connection = engine.connect()
    outer = connection.begin()
    app = app_on(connection, engine, database_url)
    with app.app_context():
        yield app
    outer.rollback()
    connection.close()


@pytest.fixture
def db_session(app):
    session = app.extensions["opsroom.sessionmaker"]()
    yield session
    session.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(db_session):
    """Factories bound to the test's session: make.room(), make.booking(...)."""
    return factories.Factory(db_session)


class Auth:
    """Log a browser-like client in and out through the real forms."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = factories.PASSWORD):
        return pages.login(self.client, email, password, lang=None)

    def csrf(self, path: str = "/rooms/") -> str:
        return pages.csrf_from(self.client.get(path).get_data(as_text=True))


@pytest.fixture
def auth(client):
    return Auth(client)


class Api:
    """A JSON client that sends a bearer token."""

    def __init__(self, client, token: str | None):
        self.client, self.token = client, token

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path, **kw):
        return self.client.get("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, path, **kw):
        return self.client.delete("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path, json=None, **kw):
        return self.client.post("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path, json=None, **kw):
        return self.client.patch("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, path, json=None, **kw):
        return self.client.put("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def api(client, make, db_session):
    """api("coordinator") → a JSON client with a fresh token of that role."""
    from opsroom.services.park import users

    def for_role(role: str = "admin"):
        user = make.user(role)
        token = users.create_token(db_session, user, "test")
        db_session.commit()
        return Api(client, token)

    return for_role


def configure(app, *sessions, **changes) -> None:
    """Change settings of a running test app, as its configuration would have set
    them (upper-case names, as in config.py): the app's config, its settings, the
    sessions it makes from now on, and the given open `sessions`."""
    app.config.update(changes)
    settings = Settings.from_config(app.config)
    app.extensions["opsroom.settings"] = settings
    app.extensions["opsroom.sessionmaker"].kw["info"] = {"settings": settings}
    for session in sessions:
        session.info["settings"] = settings


def at(day_offset: int, hh: int, mm: int = 0) -> datetime:
    """A park-local instant relative to NOW's date: at(1, 20) = tomorrow 20:00."""
    base = NOW.replace(hour=0, minute=0) + timedelta(days=day_offset)
    return base.replace(hour=hh, minute=mm)


@pytest.fixture
def committed_app(database_url):
    """An app whose writes really commit (for concurrency tests); wiped after."""
    app = create_app(TestConfig, DATABASE_URL=database_url)
    engine = app.extensions["opsroom.engine"]
    engine.dispose()
    engine = make_engine(database_url, pool_size=60, max_overflow=0, pool_timeout=60)
    app.extensions["opsroom.engine"] = engine
    app.extensions["opsroom.sessionmaker"] = make_sessionmaker(engine, app.extensions["opsroom.settings"])
    yield app
    wipe(engine)
    engine.dispose()


def aborted_by_database(sqlstate: str):
    """A stand-in for a service call that the database aborted with this
    SQLSTATE (40P01 a deadlock, 40001 a serialization failure, 08006 a lost
    connection), raised as SQLAlchemy raises it."""
    from sqlalchemy.exc import OperationalError

    class Orig(Exception):
        pass

    orig = Orig("aborted")
    orig.sqlstate = sqlstate

    def aborted(*_a, **_k):
        raise OperationalError("INSERT INTO assignments …", {}, orig)

    return aborted
