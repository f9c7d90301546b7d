"""The app under measurement: gunicorn serving it (README production settings:
4 workers × 4 threads, each worker's clock frozen at the park's now by
bench/gunicorn_conf.py), driven by a separate load process (bench/load.py)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]




WORKERS, THREADS = 4, 4  # README, "Production: PostgreSQL and gunicorn"


# The screen's per-worker snapshot (SCREEN_CACHE_SECONDS) would answer most timed
# requests from memory: the bench measures what computing the figures costs.
MEASURE_ENV = {"OPSROOM_SCREEN_CACHE_SECONDS": "0"}


def log(msg: str = "") -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, app_spec: str, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--threads", str(THREADS),
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "600", "--log-level", "warning",
             "-c", str(ROOT / "bench" / "gunicorn_conf.py"), app_spec],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, stdout=self.log, stderr=subprocess.STDOUT)
        import urllib.request

        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/ping" if "bare" in app_spec else self.url + "/login", timeout=5)
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("gunicorn did not start: " + Path(self.log.name).read_text())
                time.sleep(0.2)
        self.settle(deadline)

    def settle(self, deadline: float) -> None:
        """Wait until every worker has booted and is idle. One worker answering is not all of
        them: each imports and builds the app after the fork (≈ 1 s of CPU in all, measured),
        and that CPU would be charged to the first operation measured (its `server_cpu_ms`),
        and would share the cores with its requests."""
        last = None
        while time.monotonic() < deadline:
            time.sleep(0.3)
            try:
                workers = len(Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split())
            except OSError:
                return
            cpu = self.cpu_seconds()
            if workers >= WORKERS and last is not None and cpu - last < 0.01:
                return
            last = cpu

    def cpu_seconds(self) -> float:
        """User + system CPU of the gunicorn workers so far (from /proc): what the server spent,
        whatever else shares the machine."""
        total = 0.0
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            for pid in children:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def load_each(server: Server, ops: list[dict]) -> list[dict]:
    """Each op in its own load process, with the workers' CPU per request around it."""
    out = []
    for op in ops:
        if op["kind"] == "rate":  # every worker past its first requests (imports, connections) before counting
            load({"base": server.url, "ops": [{**op, "seconds": 1}]})
        before = server.cpu_seconds()
        result = load({"base": server.url, "ops": [op]})[0]
        requests = result.get("requests") or (op.get("warmup", 3) + op["n"])
        result["server_cpu_ms"] = (server.cpu_seconds() - before) * 1000 / requests
        out.append(result)
    return out


def load(plan: dict) -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(plan, f)
    try:
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if out.returncode:
        raise RuntimeError("load generator failed: " + out.stderr[-2000:] + out.stdout[-500:])
    return json.loads(out.stdout)
