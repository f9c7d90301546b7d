"""What users, scripts and test clients see, written to a folder, so that a change
of structure can be proven to change none of it:

    .venv/bin/python -m tests.support.surface /tmp/before      # on the old tree
    .venv/bin/python -m tests.support.surface /tmp/after       # on the new one
    diff -r /tmp/before /tmp/after

It loads the demo park into a fresh SQLite file at a frozen clock, then writes
the OpenAPI document, the help of every CLI command, every page (each GET
route with the demo's ids filled in) as every role sees it, and the JSON of
every GET route of the API as an admin. CSRF tokens and other per-run secrets
are replaced by placeholders.
"""
from __future__ import annotations

import json
import re
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

FROZEN = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ROLES = ("anonymous", "admin", "manager", "coordinator", "anchor", "tenant")
PASSWORD = "opsroom-demo"

_SECRETS = [
    (re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+'), r"\1CSRF"),
    (re.compile(r'(<meta name="csrf-token" content=")[^"]+'), r"\1CSRF"),
    (re.compile(r"/calendar/anchors/[A-Za-z0-9_\-]+\.ics"), "/calendar/anchors/FEED.ics"),
    (re.compile(r"(scr_|ops_)[A-Za-z0-9_\-]{16,}"), r"\1TOKEN"),
    (re.compile(r"/orders/imports/[0-9a-f\-]{20,}"), "/orders/imports/PROGRESS"),
]


def _clean(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _ids(session) -> dict[str, list[object]]:
    def first(sql: str) -> list[object]:
        return [row[0] for row in session.execute(sa.text(sql))]

    return {
        "booking_id": first("SELECT id FROM bookings WHERE id IN ((SELECT MIN(id) FROM bookings),"
                            " (SELECT MIN(id) FROM bookings WHERE status = 'live'),"
                            " (SELECT MIN(id) FROM bookings WHERE status = 'ended'),"
                            " (SELECT MIN(id) FROM bookings WHERE status = 'cancelled')) ORDER BY id"),
        "anchor_id": first("SELECT MIN(id) FROM anchors"),
        "room_id": first("SELECT MIN(id) FROM rooms"),
        "tenant_id": first("SELECT MIN(id) FROM tenants"),
        "product_id": first("SELECT MIN(id) FROM products"),
        "batch_id": first("SELECT MIN(id) FROM import_batches") or [1],
        "request_id": first("SELECT MIN(id) FROM booking_requests") or [1],
    }


def _urls(app, ids, *, api: bool) -> list[str]:
    urls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.rule.startswith("/api/") != api:
            continue
        combos = [{}]
        for arg in sorted(rule.arguments):
            values = ids.get(arg, [1])
            combos = [dict(c, **{arg: v}) for c in combos for v in values if v is not None]
        for combo in combos:
            path = rule.rule
            for name, value in combo.items():
                path = re.sub(r"<(?:[^:<>]+:)?%s>" % name, str(value), path)
            urls.append(path)
    extra_pages = ["/board/?date=2026-11-21", "/reports/?from=2026-11-01&to=2026-11-20&group_by=zone",
                   "/orders/unattributed?page=2", "/screen?token=x"]
    extra_api = ["/api/v1/reports/utilization?from=2026-11-01&to=2026-11-20&group_by=room",
                 "/api/v1/bookings?from=2026-11-19&to=2026-11-21", "/api/v1/orders?unattributed=true&limit=20"]
    return urls + (extra_api if api else extra_pages)


def _login(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (302, 303), response.status_code


def write(out: Path) -> int:
    from click.testing import CliRunner
    from flask.cli import FlaskGroup

    from config import TestConfig
    from opsroom import clock, create_app

    out.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="opsroom-surface-")
    url = f"sqlite:///{tmp}/opsroom.sqlite3"
    clock.set_now(FROZEN)
    app = create_app(TestConfig, DATABASE_URL=url, PASSWORD_HASH_METHOD="scrypt:1024:8:1")
    written = 0

    def save(name: str, text: str) -> None:
        nonlocal written
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_clean(text), encoding="utf-8")
        written += 1

    runner = app.test_cli_runner()
    with app.app_context():
        runner.invoke(args=["init-db"])
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        save("cli/seed-demo.txt", result.output)
        for name in sorted(app.cli.commands):
            save(f"cli/{name}.txt", runner.invoke(args=[name, "--help"]).output)
        group = FlaskGroup(create_app=lambda: app)
        save("cli/flask.txt", CliRunner().invoke(group, ["--help"]).output)
        from opsroom.db import get_session

        session = get_session()
        ids = _ids(session)
        session.close()
        token = runner.invoke(args=["create-token", "admin@park.demo"]).output.strip().splitlines()[-1]

    client = app.test_client()
    anchor = client.get(f"/api/v1/anchors/{ids['anchor_id'][0]}", headers={"Authorization": f"Bearer {token}"})
    ids["feed_token"] = [anchor.get_json()["feed_url"].rsplit("/", 1)[-1].removesuffix(".ics")]
    spec = client.get("/api/v1/openapi.json").get_json()
    save("openapi.json", json.dumps(spec, indent=1, sort_keys=True, ensure_ascii=False))
    for path in _urls(app, ids, api=True):
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        body = response.get_data(as_text=True) if response.mimetype != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" else "<xlsx>"
        save(f"api/{_file(path)}", f"{response.status_code} {response.mimetype}\n{body}")

    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            _login(client, f"{role}@park.demo")
        for lang in ("zh_CN", "en"):
            for path in _urls(app, ids, api=False):
                response = client.get(path, headers={"Accept-Language": lang.replace("_", "-")})
                body = response.get_data(as_text=True) if response.mimetype.startswith(("text/", "application/json")) else f"<{response.mimetype}>"
                save(f"pages/{role}/{lang}/{_file(path)}", f"{response.status_code} {response.headers.get('Location', '')}\n{body}")
    clock.set_now(None)
    return written


def _file(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", path.strip("/")) or "root"


if __name__ == "__main__":
    count = write(Path(sys.argv[1]))
    print(f"{count} files written to {sys.argv[1]}")
