"""Faults survived, with real processes on both engines:

- the database goes away (PostgreSQL: the app reaches it through a TCP proxy
  that the test stops, then blackholes, then starts again; SQLite: the test
  holds the write lock): a clean 503 page and a 503 `unavailable` JSON body,
  never a 500 or a traceback, a quick answer even when the server does not
  answer (connect_timeout), and full service once it is back;
- a gunicorn worker SIGKILLed in the middle of a CSV order import: what was
  committed stays, and importing the same file again gives every order
  exactly once with the same figures;
- a scheduler SIGKILLed in the middle of a sweep: the next one does the work,
  and every reminder and no-show happens exactly once.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from config import TestConfig
from opsroom import clock, create_app
from opsroom.models import Booking, Notification, Order, SchedulerHeartbeat
from opsroom.services.park import users
from tests.conftest import BACKENDS
from tests.support import ROOT
from tests.support.factories import Factory
from tests.support.http import Client, Response, free_port
from tests.support.live import Gunicorn, backend_url, provision_database, query

pytestmark = pytest.mark.live


# ---------------------------------------------------------------------------
# Helpers


@pytest.fixture(params=BACKENDS)
def database(request):
    """A fresh migrated database of each backend and an app (TestConfig) to arrange data with."""
    clock.set_now(None)  # the servers are other processes, on the real clock
    url, cleanup = provision_database(backend_url(request.param))
    app = create_app(TestConfig, DATABASE_URL=url)
    yield {"url": url, "app": app, "backend": request.param}
    app.extensions["opsroom.engine"].dispose()
    cleanup()


def arrange_user(app, role="coordinator"):
    def fn(session):
        user = Factory(session).user(role)
        token = users.create_token(session, user, "faults")
        session.commit()
        return user.email, token

    return query(app, fn)


def assert_clean_503(response: Response, *, api: bool):
    status, headers, body = response.status, response.headers, response.text
    assert status == 503, (status, body[:500])
    assert "Traceback" not in body and "OperationalError" not in body and "psycopg" not in body
    assert headers.get("Retry-After") == "5"
    if api:
        assert json.loads(body)["error"]["code"] == "unavailable"
    else:
        assert "The database cannot be reached just now" in body and "<html" in body


def terminated_mid_request(app, browser, path):
    """GET `path` while the test holds an exclusive lock on `tenants`; once the
    app's backend waits on it, pg_terminate_backend() it. Returns the response."""
    engine = app.extensions["opsroom.engine"]
    result = {}
    with engine.connect() as locker:
        locker.exec_driver_sql("LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE")
        thread = threading.Thread(target=lambda: result.setdefault("r", browser.request("GET", path)))
        thread.start()
        deadline = time.monotonic() + 20
        with engine.connect() as killer:
            while time.monotonic() < deadline:
                pids = killer.exec_driver_sql(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").scalars().all()
                if pids:
                    for pid in pids:
                        killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
                    break
                time.sleep(0.02)
            else:
                rows = killer.exec_driver_sql("SELECT pid, state, wait_event_type, wait_event, left(query, 80) "
                                              "FROM pg_stat_activity WHERE datname = current_database()").all()
                raise AssertionError(f"the request never waited on the lock: {rows} {result} {path}")
        locker.rollback()
    thread.join(30)
    return result["r"]


class TcpProxy:
    """127.0.0.1:port → target, forwarding bytes both ways in a thread.
    `stop()` closes the listener and every connection (the database "goes
    away"); `blackhole()` accepts connections and never answers; `start()` again
    on the same port brings it back."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, free_port()
        self.mode, self._thread, self._listener, self._conns = "forward", None, None, []

    def start(self, mode: str = "forward") -> None:
        self.mode = mode
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(64)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        peers: dict[socket.socket, socket.socket | None] = {}
        while not self._stop.is_set():
            for key, _ev in sel.select(timeout=0.05):
                sock = key.fileobj
                if sock is self._listener:
                    client, _addr = self._listener.accept()
                    self._conns.append(client)
                    if self.mode == "blackhole":
                        continue
                    upstream = socket.create_connection(self.target)
                    self._conns.append(upstream)
                    peers[client], peers[upstream] = upstream, client
                    sel.register(client, selectors.EVENT_READ)
                    sel.register(upstream, selectors.EVENT_READ)
                    continue
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                other = peers.get(sock)
                if not data or other is None:
                    for s in (sock, other):
                        if s is not None:
                            try:
                                sel.unregister(s)
                            except (KeyError, ValueError):
                                pass
                            s.close()
                            peers.pop(s, None)
                    continue
                try:
                    other.sendall(data)
                except OSError:
                    pass
        sel.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        for s in self._conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self._conns = []


# ---------------------------------------------------------------------------
# The database goes away


def test_database_away_gives_clean_503s_and_service_returns(database, tmp_path):
    """HTML 503 page and JSON 503 `unavailable` (Retry-After, no traceback)
    while the database is away; on PostgreSQL also while it accepts but never
    answers (connect_timeout 2 s); the same login works again once it is back."""
    app, url = database["app"], database["url"]
    email, token = arrange_user(app)
    proxy = lock = None
    env = {"OPSROOM_DATABASE_CONNECT_TIMEOUT_SECONDS": "2", "OPSROOM_SQLITE_BUSY_TIMEOUT_SECONDS": "1"}
    if database["backend"] == "postgres":
        parts = sa.engine.make_url(url)
        proxy = TcpProxy((parts.host or "127.0.0.1", parts.port or 5432))
        proxy.start()
        served_url = parts.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    else:
        served_url = url
    with Gunicorn(served_url, workers=1, threads=2, env=env, log_path=str(tmp_path / "g.log")) as server:
        browser = Client(server.url, token=token, cookies=True)
        browser.login(email)
        assert browser.request("GET", "/rooms/")[0] == 200
        assert browser.request("GET", "/api/v1/rooms")[0] == 200
        form_csrf = browser.csrf_of("/tenants/new")

        # Away.
        if proxy is not None:
            proxy.stop()
            assert_clean_503(browser.request("GET", "/rooms/"), api=False)
            assert_clean_503(browser.request("GET", "/api/v1/rooms"), api=True)
            proxy.start("blackhole")  # accepts, never answers: the connect times out
            started = time.monotonic()
            assert_clean_503(browser.request("GET", "/api/v1/tenants"), api=True)
            assert time.monotonic() - started < 15  # not the minutes of a TCP timeout
            assert_clean_503(browser.request("GET", "/tenants/"), api=False)
            proxy.stop()
        else:
            path = sa.engine.make_url(url).database
            lock = sqlite3.connect(path, timeout=0, isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            assert browser.request("GET", "/rooms/")[0] == 200  # readers go on (WAL)
        assert_clean_503(browser.request("POST", "/api/v1/tenants", json_body={"name": "while away"}), api=True)
        assert_clean_503(browser.request("POST", "/tenants/new", data={"csrf_token": form_csrf, "name": "away",
                                                                       "status": "active"}), api=False)

        # Back.
        if proxy is not None:
            proxy.start()
        else:
            lock.execute("ROLLBACK")
            lock.close()
        assert browser.request("GET", "/rooms/")[0] == 200  # still logged in
        status, _h, body = browser.request("POST", "/api/v1/tenants", json_body={"name": "after"})
        assert status == 201, body
        assert browser.request("POST", "/tenants/new", data={"csrf_token": form_csrf, "name": "back",
                                                             "status": "active"})[0] == 302
        assert "Error handling request" not in server.log()  # gunicorn's mark of a 500
    if proxy is not None:
        proxy.stop()
    names = query(app, lambda s: sorted(s.scalars(sa.text("SELECT name FROM tenants"))))
    assert names == ["after", "back"]  # nothing written while away


@pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL only: ends a server backend")
def test_backend_terminated_in_the_middle_of_a_request(tmp_path):
    """PostgreSQL: a request waits on a lock the test holds, and the server
    ends the app's backend meanwhile (pg_terminate_backend): that request
    answers a clean 503, page or JSON, and the next one is served again."""
    clock.set_now(None)
    url, cleanup = provision_database(backend_url("postgres"))
    app = create_app(TestConfig, DATABASE_URL=url)
    try:
        email, token = arrange_user(app)
        with Gunicorn(url, workers=1, threads=2, log_path=str(tmp_path / "g.log")) as server:
            browser = Client(server.url, token=token, cookies=True)
            browser.login(email)
            for path, api in (("/api/v1/tenants", True), ("/tenants/", False)):
                assert_clean_503(terminated_mid_request(app, browser, path), api=api)
                assert browser.request("GET", path)[0] == 200  # and back at once
            assert "Error handling request" not in server.log()
    finally:
        app.extensions["opsroom.engine"].dispose()
        cleanup()


# ---------------------------------------------------------------------------
# A worker killed during an import

ROWS = 30_000
HEADER = "子订单编号,商品数量,订单应付金额,订单提交时间,订单状态,售后状态,直播间\n"


def export_file() -> tuple[bytes, int]:
    """ROWS orders, amounts 1.00 … 99.99 yuan; returns the file and the total in fen."""
    lines, total = [HEADER], 0
    for i in range(ROWS):
        fen = 100 + (i * 37) % 9900
        total += fen
        lines.append(f"\t69310{i:012d},1,{fen // 100}.{fen % 100:02d},2026-11-20 {10 + i % 12:02d}:{i % 60:02d}:00,"
                     f"已完成,,\n")
    return "".join(lines).encode("utf-8"), total


def test_worker_killed_during_import_loses_nothing_and_duplicates_nothing(database, tmp_path):
    """SIGKILL the worker while chunks of a 30,000-row export are being
    committed: committed chunks stay (and nothing half-written), and importing
    the same file again gives each order exactly once, the same GMV."""
    app = database["app"]
    email, token = arrange_user(app)
    data, total_fen = export_file()
    env = {"OPSROOM_ORDER_IMPORT_CHUNK_ROWS": "1000"}
    with Gunicorn(database["url"], workers=1, threads=2, env=env, log_path=str(tmp_path / "g.log")) as server:
        browser = Client(server.url, token=token, cookies=True)
        worker = server.worker_pids()[0]
        outcome = {}

        def upload():
            try:
                outcome["first"] = browser.request("POST", "/api/v1/orders/import", files={"file": ("x.csv", data)},
                                                   timeout=120)
            except OSError as exc:  # the connection dies with the worker
                outcome["first"] = exc

        thread = threading.Thread(target=upload)
        thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = query(app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(Order)))
            if done >= 3000:
                break
            time.sleep(0.01)
        os.kill(worker, signal.SIGKILL)
        thread.join(30)
        committed = query(app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(Order)))
        assert 0 < committed < ROWS, committed  # killed in the middle
        assert committed % 1000 == 0  # whole chunks only: nothing half-written
        # The master starts a new worker; the same file again.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (server.worker_pids() in ([], [worker])):
            time.sleep(0.1)
        status, _h, body = browser.request("POST", "/api/v1/orders/import", files={"file": ("x.csv", data)},
                                           timeout=120)
        assert status == 200, body[:500]
        summary = json.loads(body)
        assert summary["created"] == ROWS - committed, summary
        assert summary.get("rejected", 0) == 0 and not summary.get("errors"), summary

    def figures(s):
        return s.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(Order.external_id)),
                                   sa.func.sum(Order.amount_fen))).one()

    count, distinct, fen = query(app, figures)
    assert (count, distinct, int(fen)) == (ROWS, ROWS, total_fen)


# ---------------------------------------------------------------------------
# A scheduler killed mid-sweep

REMINDERS, NO_SHOWS, INTERVAL = 150, 50, 1


def start_scheduler(url, log):
    env = {**os.environ, "OPSROOM_DATABASE_URL": url, "OPSROOM_SECRET_KEY": "faults",
           "OPSROOM_SCHEDULER_SWEEP_SECONDS": str(INTERVAL), "OPSROOM_REMINDER_MINUTES_BEFORE": "60",
           "OPSROOM_NO_SHOW_GRACE_MINUTES": "15"}
    for name in ("OPSROOM_EMBED_SCHEDULER", "OPSROOM_SMTP_HOST"):
        env.pop(name, None)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT, env=env,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)


def arrange_sweep_work(app):
    """REMINDERS sessions in 20 minutes, each with its own anchor who logs in;
    NO_SHOWS sessions that started 30 minutes ago without a check-in."""
    now = datetime.now(timezone.utc).replace(microsecond=0)

    def fn(session):
        make = Factory(session)
        tenant = make.tenant()
        for i in range(REMINDERS):
            user = make.user("anchor", email=f"a{i}@faults.example")
            anchor = make.anchor(user_id=user.id)
            start = now + timedelta(minutes=20)
            booking = make.booking(starts_at=start, ends_at=start + timedelta(hours=1), tenant=tenant)
            make.assign(booking, anchor)
        for _ in range(NO_SHOWS):
            start = now - timedelta(minutes=30)
            make.booking(starts_at=start, ends_at=start + timedelta(hours=2), tenant=tenant)
        session.commit()

    query(app, fn)


def writing_now(database) -> bool:
    """Whether another process is inside a write transaction right now."""
    if database["backend"] == "postgres":
        def fn(s):
            return s.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND xact_start IS NOT NULL AND now() - xact_start > interval '20 milliseconds' "
                "AND query ~* '(notifications|bookings)'"))
        return query(database["app"], fn) > 0
    conn = sqlite3.connect(sa.engine.make_url(database["url"]).database, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def test_scheduler_killed_mid_sweep_the_next_finishes_once(database, tmp_path):
    """SIGKILL the acting scheduler while it is inside a write transaction of
    its sweep; a new scheduler takes the lead and does the work; every reminder
    is in the inbox exactly once and every no-show marked once."""
    app = database["app"]
    arrange_sweep_work(app)
    first = start_scheduler(database["url"], tmp_path / "s1.log")
    caught = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            # Busy twice in a row (20 ms apart): a sweep's transaction, not a heartbeat.
            if writing_now(database) and (time.sleep(0.02) or writing_now(database)):
                first.send_signal(signal.SIGKILL)
                caught = True
                break
            time.sleep(0.005)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert caught, "the scheduler was never seen working"
    assert ": acting" in (tmp_path / "s1.log").read_text()  # it had the lead when killed

    def counts(s):
        notices = s.scalar(sa.select(sa.func.count()).select_from(Notification).where(Notification.kind == "reminder"))
        no_shows = s.scalar(sa.select(sa.func.count()).select_from(Booking).where(Booking.status == "no_show"))
        return notices, no_shows

    at_kill = query(app, counts)
    assert at_kill != (REMINDERS, NO_SHOWS), "killed after the work was done"
    second = start_scheduler(database["url"], tmp_path / "s2.log")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and query(app, counts) != (REMINDERS, NO_SHOWS):
            time.sleep(0.2)
        time.sleep(2 * INTERVAL + 0.5)  # more sweeps: nothing happens twice
        assert query(app, counts) == (REMINDERS, NO_SHOWS), (at_kill, query(app, counts))
        keys = query(app, lambda s: Counter(s.scalars(sa.select(Notification.booking_id)
                                                     .where(Notification.kind == "reminder"))))
        assert len(keys) == REMINDERS and set(keys.values()) == {1}
        acting = query(app, lambda s: s.get(SchedulerHeartbeat, 1))
        assert acting is not None and acting.node.endswith(f":{second.pid}")
    finally:
        second.terminate()
        try:
            second.wait(10)
        except subprocess.TimeoutExpired:
            second.kill()
