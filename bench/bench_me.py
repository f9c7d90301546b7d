"""CPU per request of GET /api/v1/me against bare Flask's /ping, in process:
the WSGI app called as gunicorn calls it (no HTTP parsing, no sockets), so the
figures are the worker's Python CPU, independent of the machine's load.

    .venv/bin/python bench/bench_me.py [--db sqlite|postgres] [--n 3000] [--profile [--sort cumulative] [--lines 60]]

CPU is `time.process_time()` over n requests after 200 warm-ups, median of 5
rounds; on PostgreSQL the server's own CPU is not in it (one indexed lookup).
`--profile` then profiles 500 more requests in CPU time (waits on the database
are not CPU), sorted by `--sort` (tottime, cumulative, ...).
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.common import DEFAULT_PG_URL, provision  # noqa: E402
from config import Config  # noqa: E402
from opsroom import create_app  # noqa: E402
from opsroom.db import intent  # noqa: E402
from opsroom.migrate import upgrade  # noqa: E402
from opsroom.models import User  # noqa: E402
from opsroom.services.park.users import create_token  # noqa: E402


def environ(path: str, token: str | None) -> dict:
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "bench",
           "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
           "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
           "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "bench"}
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def cpu_per_request(app, path: str, token: str | None, n: int, expect: bytes) -> float:
    status: list[str] = []

    def start_response(s, headers, exc_info=None):
        status.append(s)

    def one():
        status.clear()
        body = b"".join(app(environ(path, token), start_response))
        assert status[0].startswith("200"), (status, body[:200])
        return body

    assert expect in one()
    for _ in range(200):
        one()
    rounds = []
    for _ in range(5):
        c0 = time.process_time()
        for _ in range(n):
            one()
        rounds.append((time.process_time() - c0) / n * 1e6)
    return statistics.median(rounds)


class BenchConfig(Config):
    SECRET_KEY = "bench"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=30)
    args = parser.parse_args(argv)
    from bench.bare_app import app as bare

    url, drop = provision(args.db, args.pg_url)
    try:
        app = create_app(BenchConfig, DATABASE_URL=url)
        upgrade(app.extensions["opsroom.engine"])
        with app.app_context(), intent(write=True):
            session = app.extensions["opsroom.sessionmaker"]()
            user = User(email="bench@example.com", name="Bench", role="coordinator", active=True,
                        password_hash="x")
            session.add(user)
            session.flush()
            token = create_token(session, user, "bench")
            session.commit()
            session.close()
        bare_us = cpu_per_request(bare.wsgi_app, "/ping", None, args.n, b"ok")
        me_us = cpu_per_request(app.wsgi_app, "/api/v1/me", token, args.n, b"bench@example.com")
        print(f"{args.db}: bare Flask {bare_us:.0f} µs CPU/request, /api/v1/me {me_us:.0f} µs = {me_us / bare_us:.2f}× bare")
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile(time.process_time)  # CPU, not waits on the database
            profiler.enable()
            cpu_per_request(app.wsgi_app, "/api/v1/me", token, 500, b"bench")
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)
        app.extensions["opsroom.engine"].dispose()
    finally:
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
