"""gunicorn settings for `bench/run.py`: the README's production workers and
threads come from the command line; this only freezes each worker's clock at
the park's "now" (BENCH_NOW, RFC 3339) so that the park built ahead of time
is "today" for the server too (live sessions, today's orders, upcoming days)."""
import os
from datetime import datetime


def post_fork(server, worker):
    instant = os.environ.get("BENCH_NOW")
    if instant:
        from opsroom import clock

        clock.set_now(datetime.fromisoformat(instant))
