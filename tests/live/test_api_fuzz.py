"""The API under fuzzing: schemathesis with every check, over every
operation of /api/v1/openapi.json, as every role, against real gunicorn workers
on a freshly seeded demo park (a new database per run, so the mutating
operations never leak from one run into the next).

The bounded run is part of the suite (marked `live`); the long one runs with
OPSROOM_FUZZ_LONG=1 (`make fuzz`): more examples per operation, no time cap.
Any failure prints schemathesis' own report with a curl line to reproduce it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.live import POSTGRES_ENV, Gunicorn, provision_database

pytestmark = pytest.mark.live

LONG = os.environ.get("OPSROOM_FUZZ_LONG") == "1"
MAX_EXAMPLES = int(os.environ.get("OPSROOM_FUZZ_EXAMPLES", "200" if LONG else "6"))
SEED = int(os.environ.get("OPSROOM_FUZZ_SEED", "20261123"))
ROLES = ("admin", "manager", "coordinator", "anchor", "tenant", "screen", "none")
ST = str(Path(sys.executable).with_name("st"))
# The coverage phase (every boundary and every kind of wrong value of every
# parameter, ~3,000 cases) runs as admin on SQLite, whose token reaches every
# operation's checks; in the bounded run the other roles, and every role on
# PostgreSQL, get the schema's examples and random fuzzing. The long run gives
# every role every phase on both engines.
ALL_PHASES = "examples,coverage,fuzzing"


def phases(role: str, backend: str) -> str:
    return ALL_PHASES if LONG or (role == "admin" and backend == "sqlite") else "examples,fuzzing"

# A schema-valid request may still break a rule that spans fields or rows (ends
# before it starts, a slot taken, a code in use, a tenant that does not exist):
# those operations may answer 409/422 to positive data. Everywhere else a
# schema-valid request must be taken (2xx) or refused for its token (401/403)
# or a missing object (404).
RULES = [
    ("POST", "^/api/v1/(rooms|tenants|anchors|products|bookings|orders)$", "fields meet rules (times, uniqueness)"),
    ("PATCH", ".*", "the changed object must still meet its rules"),
    ("PUT", ".*", "anchors free and within limits; products of the booking's tenant"),
    ("POST", "^/api/v1/rooms/[^/]+/blackouts$", "ends after it starts; no booking in the way"),
    ("POST", "^/api/v1/bookings/[^/]+/(confirm|cancel|checkin|copy)$", "the booking's state allows it"),
    ("POST", "^/api/v1/(orders|products)/import$", "the file must be a readable CSV"),
    ("POST", "^/api/v1/orders/attribute$", "the orders and the booking must exist"),
    ("GET", "^/api/v1/(bookings|orders|anchors/free|anchors/[^/]+/schedule|reports/utilization)$",
     "a range must not end before it starts, nor be too long"),
    ("GET", "^/api/v1/rooms/[^/]+/availability$", "the room must be open that day"),
    ("POST", "^/api/v1/requests$", "the window meets the park's rules (hours, tenant, anchors)"),
    ("POST", "^/api/v1/requests/[^/]+/(approve|reject|withdraw|wait|accept)$",
     "the request's state allows it; the place must be free"),
    ("GET", "^/api/v1/forecast$", "the session must end after it starts, within a day"),
    ("POST", "^/api/v1/(robots|webhooks)$", "a URL with a real host; a tenant that exists; a whsec_ secret in base64"),
    ("POST", "^/api/v1/plans$", "the requests given must exist"),
    ("POST", "^/api/v1/plans/[^/]+/(accept|cancel)$", "the plan's state allows it; the requests are in its draft"),
]


def _config(path: Path) -> None:
    lines = ["[checks.positive_data_acceptance]",
             'expected-statuses = ["2XX", "401", "403", "404"]', ""]
    for method, regex, _why in RULES:
        lines += ["[[operations]]", f'include-method = "{method}"', f"include-path-regex = '{regex}'",
                  'checks.positive_data_acceptance.expected-statuses = ["2XX", "401", "403", "404", "409", "422"]', ""]
    path.write_text("\n".join(lines))


def seeded_park(url: str) -> tuple[str, callable, dict[str, str]]:
    """A new database with the demo park and an API token for each role."""
    from config import Config
    from opsroom import create_app
    from opsroom.demo.park import load_demo
    from opsroom.services.park import users
    from opsroom.services.sales import screen

    db_url, cleanup = provision_database(url)
    app = create_app(Config, DATABASE_URL=db_url, SECRET_KEY="fuzz")
    tokens = {}
    with app.app_context():
        session = app.extensions["opsroom.sessionmaker"]()
        try:
            load_demo(session, order_scale=0.05, history_days=7)
            for role in ("admin", "manager", "coordinator", "anchor", "tenant"):
                tokens[role] = users.create_token(session, users.get_user_by_email(session, f"{role}@park.demo"), "fuzz")
            tokens["screen"] = screen.create_token(session, users.get_user_by_email(session, "admin@park.demo"), "fuzz")
            session.commit()
        finally:
            session.close()
    app.extensions["opsroom.engine"].dispose()
    return db_url, cleanup, tokens


def run_schemathesis(base_url: str, token: str | None, workdir: Path, *, max_examples: int = MAX_EXAMPLES,
                     phases: str = "examples,coverage,fuzzing", max_time: int | None = None) -> dict:
    """One `st run` with every check; returns its JSON report's summary and the text output."""
    config = workdir / "schemathesis.toml"
    if not config.exists():
        _config(config)
    report = workdir / f"report-{token[:6] if token else 'none'}.json"
    # One worker thread per run: CPython 3.11's AST constructor keeps its recursion
    # guard in global state, so hypothesis parsing lambdas in two threads at once
    # can die with "SystemError: AST constructor recursion depth mismatch" (seen in
    # CI). Runs still go two at a time, as separate processes.
    cmd = [ST, "--config-file", str(config), "run", base_url + "/api/v1/openapi.json", "--checks", "all",
           "--max-examples", str(max_examples), "--seed", str(SEED), "--workers", "1",
           "--phases", phases, "--suppress-health-check", "all",
           "--request-timeout", "30", "--report", "json", "--report-json-path", str(report), "--warnings", "off"]
    if max_time:
        cmd += ["--max-time", str(max_time)]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=workdir,
                          env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": "tests.support.fuzz_hooks",
                               "PYTHONPATH": str(ROOT)})
    out = proc.stdout + proc.stderr
    return {"rc": proc.returncode, "output": out, "summary": _summary(out)}


def operations() -> int:
    """The operations /api/v1/openapi.json describes."""
    from config import TestConfig
    from opsroom import create_app
    from opsroom.api.openapi import spec

    with create_app(TestConfig, DATABASE_URL="sqlite://").app_context():
        return sum(1 for item in spec()["paths"].values() for method in item if method != "parameters")


def _summary(text: str) -> dict:
    import re

    m = re.search(r"(\d+) generated(?:, (\d+) found (\d+) unique failures?)?(?:, (\d+) passed)?", text)
    ops = re.search(r"Tested: (\d+)", text)
    selected = re.search(r"Selected: (\d+)/(\d+)", text)
    return {"generated": int(m.group(1)) if m else 0, "failures": int(m.group(3) or 0) if m else None,
            "operations": int(ops.group(1)) if ops else 0,
            "selected": int(selected.group(1)) if selected and selected.group(1) == selected.group(2) else 0}


BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get(POSTGRES_ENV) else [])


@pytest.mark.parametrize("backend", BACKENDS)
def test_schemathesis_finds_nothing(backend):
    """Every operation, every role: no server error, no undocumented status or
    header, bodies as documented, schema-valid data taken, invalid data refused,
    405 with Allow for methods a path does not take."""
    url = "sqlite" if backend == "sqlite" else os.environ[POSTGRES_ENV]
    db_url, cleanup, tokens = seeded_park(url)
    workdir = Path(tempfile.mkdtemp(prefix="opsroom-fuzz-"))
    results = {}
    try:
        with Gunicorn(db_url, workers=2, threads=4) as server:
            # Two runs at a time (admin's long coverage phase beside the other roles).
            with ThreadPoolExecutor(max_workers=2) as pool:
                futures = {role: pool.submit(run_schemathesis, server.url, tokens.get(role), workdir,
                                             phases=phases(role, backend)) for role in ROLES}
            results = {role: future.result() for role, future in futures.items()}
            assert "Traceback" not in server.log(), server.log()[-3000:]
    finally:
        cleanup()
    figures = {role: r["summary"] for role, r in results.items()}
    (workdir / "figures.json").write_text(json.dumps(figures))
    print(backend, json.dumps(figures))
    for role, r in results.items():
        # Every operation is selected; hypothesis may find no case for one or two
        # in a short fuzzing-only run (reported as skipped), never for many.
        assert r["summary"]["selected"] == operations() >= 50, r["output"][-3000:]
        assert r["summary"]["operations"] >= operations() - 5, r["output"][-3000:]
        assert r["rc"] == 0 and r["summary"]["failures"] == 0, f"as {role}:\n" + r["output"][-12000:]
    assert sum(r["summary"]["generated"] for r in results.values()) >= (4500 if backend == "sqlite" else 1500)
    shutil.rmtree(workdir, ignore_errors=True)  # kept when the run fails: the JSON reports are there
