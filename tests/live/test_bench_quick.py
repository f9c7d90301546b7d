"""`make bench QUICK=1` works end to end: the quick park is built, served by real gunicorn
workers, driven by the separate load process, and the one table comes out with every
operation and its floor. Run as `--smoke` (the quick park, 3 samples an operation, 1-second
rates): timings are not asserted (speed is the bench's job, not a test's)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.support import ROOT

OPERATIONS = (
    "create booking (anchors + lineup)", "contested create (409 + alternatives)", "board day, all rooms",
    "board day, page size", "anchor month schedule (API)", "anchor ICS feed", "session stats, big session",
    "report by room, whole span", "report by hour, whole span", "big screen", "authenticated read (GET /api/v1/me)",
    "ingest orders, JSON", "ingest orders, CSV", "bare Flask JSON (floor)", "raw executemany of the same rows (floor)",
)

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("OPSROOM_TEST_POSTGRES_URL") else [])


@pytest.mark.live
@pytest.mark.parametrize("backend", BACKENDS)
def test_quick_bench_prints_the_table(backend):
    env = {**os.environ, "OPSROOM_BENCH_POSTGRES_URL": os.environ.get("OPSROOM_TEST_POSTGRES_URL", "")}
    out = subprocess.run([sys.executable, "bench/run.py", "--smoke", "--db", backend], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [line for line in out.stdout.splitlines() if line.startswith("| ")]
    names = [line.split("|")[1].strip() for line in lines[1:]]
    for op in OPERATIONS + (("raw copy of the same rows (floor)",) if backend == "postgres" else ()):
        assert op in names, (op, out.stdout)
    # every timed row has a number, every target row says met or missed
    for line in lines[1:]:
        cells = [c.strip() for c in line.split("|")[1:-1]]
        assert cells[1] or cells[4], line
        if cells[6]:
            assert cells[7] in ("met", "missed"), line
    report = json.loads((ROOT / "bench" / "results" / f"run-{backend}-quick.json").read_text())
    assert report["rooms"] == 20 and report["floors"]["executemany"] > 0


@pytest.mark.live
def test_server_is_measured_only_after_every_worker_has_booted():
    """`Server` returns once every gunicorn worker has booted and gone idle, not when the first
    one answers: the others' boot (imports, app factory: ≈ 130 ms of CPU for the bare app, ≈ 1 s
    for opsroom) would otherwise be charged to the first operation measured, as it was to the
    report in the growth runs (docs/performance.md, "Growth")."""
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    try:
        import run
    finally:
        del sys.path[:2]
    server = run.Server("bench.bare_app:app", {})
    try:
        before = server.cpu_seconds()
        time.sleep(1.5)
        assert server.cpu_seconds() - before < 0.05  # idle workers; still booting, ≈ 0.13 s
    finally:
        server.stop()
