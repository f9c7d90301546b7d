"""The load generator of `bench/run.py`, run as a separate process so that it
never shares an interpreter (or a GIL) with the server.

    python bench/load.py plan.json  →  JSON results on stdout

A plan is {"base": "http://127.0.0.1:PORT", "ops": [...]}; each op is one of
- {"kind": "latency", "name", "method", "path" | "paths", "headers", "bodies"?,
   "expect": [status...], "n", "warmup", "login"?: {"email","password"},
   "rows_per_request"?}: sequential requests on one keep-alive connection;
   median / p95 ms, bytes of the last answer, and rows/s when rows are given.
- {"kind": "rate", "name", "path", "headers", "threads", "seconds"}: as many GETs as
  `threads` keep-alive connections can do in `seconds`; requests/s.
Every answer's status is checked against `expect` (default 200); a mismatch stops
the run with the body, so a broken operation never yields a timing.
"""
from __future__ import annotations

import base64
import http.client
import json
import math
import re
import statistics
import sys
import threading
import time
from urllib.parse import urlencode, urlsplit

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Client:
    def __init__(self, base: str):
        u = urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
                if attempt:
                    raise
        for value in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return r.status, data

    def login(self, email: str, password: str) -> None:
        status, page = self.request("GET", "/login")
        token = CSRF_RE.search(page.decode()).group(1)
        form = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        status, _ = self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise SystemExit(f"login as {email} failed: {status}")


def _body(op: dict, i: int) -> bytes | None:
    bodies = op.get("bodies")
    if not bodies:
        return None
    b = bodies[i % len(bodies)]
    return base64.b64decode(b["b64"]) if isinstance(b, dict) and "b64" in b else json.dumps(b).encode()


def latency(base: str, op: dict) -> dict:
    client = Client(base)
    if op.get("login"):
        client.login(op["login"]["email"], op["login"]["password"])
    paths = op.get("paths") or [op["path"]]
    expect = op.get("expect", [200])
    times, size, i = [], 0, 0
    for k in range(op.get("warmup", 3) + op["n"]):
        path = paths[i % len(paths)]
        body = _body(op, i)
        i += 1
        t = time.perf_counter()
        status, data = client.request(op.get("method", "GET"), path, body, op.get("headers"))
        elapsed = (time.perf_counter() - t) * 1000
        if status not in expect:
            raise SystemExit(f"{op['name']}: {op.get('method', 'GET')} {path} answered {status}: {data[:400]!r}")
        if op.get("check") and op["check"].encode() not in data:
            raise SystemExit(f"{op['name']}: answer lacks {op['check']!r}: {data[:400]!r}")
        if k >= op.get("warmup", 3):
            times.append(elapsed)
            size = len(data)
    times.sort()
    out = {"name": op["name"], "n": len(times), "median_ms": statistics.median(times),
           "p95_ms": times[max(0, math.ceil(0.95 * len(times)) - 1)], "kb": size / 1024}
    if op.get("rows_per_request"):
        out["rows_per_s"] = op["rows_per_request"] * len(times) / (sum(times) / 1000)
    return out


def rate(base: str, op: dict) -> dict:
    stop = time.perf_counter() + op["seconds"]
    counts, errors = [0] * op["threads"], []

    def worker(k: int) -> None:
        client = Client(base)
        client.request("GET", op["path"], None, op.get("headers"))  # connect + warm
        while time.perf_counter() < stop:
            status, data = client.request("GET", op["path"], None, op.get("headers"))
            if status != 200:
                errors.append((status, data[:200]))
                return
            counts[k] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(op["threads"])]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise SystemExit(f"{op['name']}: {errors[0]}")
    return {"name": op["name"], "requests": sum(counts), "rps": sum(counts) / (time.perf_counter() - t)}


def main(argv: list[str]) -> int:
    with open(argv[1]) as f:
        plan = json.load(f)
    results = []
    for op in plan["ops"]:
        base = op.get("base", plan["base"])
        results.append(rate(base, op) if op["kind"] == "rate" else latency(base, op))
        print(f"   {results[-1]['name']}: done", file=sys.stderr, flush=True)
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
