"""HTTP in tests against real servers: a free port for one, serving one in a
thread (`InThread`), and a small client.

`Client` is urllib, English pages, and a redirect is an answer, not followed
(a 302 to /login is what a test wants to see). It sends a bearer `token` with
every request to the API (a path under /api/), and keeps cookies in a jar
(`cookies=True`, as a browser does; `login` through the form) or sends one
fixed `cookie` header (one login shared by many threads). A body is JSON
(`json_body`), a form (`data`) or one file (`files={"field": (filename,
content)}`, multipart). `request` answers a `Response`: status, headers, body.
"""
from __future__ import annotations

import http.cookiejar
import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, NamedTuple


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class InThread:
    """`server.serve_forever()` in a daemon thread, started at once; `stop()`
    shuts the server down, closes it and waits for the thread."""

    def __init__(self, server, *, name: str | None = None, poll_interval: float = 0.5):
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(poll_interval,), name=name, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


class Response(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON (None for an empty body)."""
        return json.loads(self.body) if self.body else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    BOUNDARY = "opsroom-test-boundary"

    def __init__(self, base: str, *, token: str | None = None, cookies: bool = False, cookie: str | None = None):
        self.base, self.token, self.cookie = base, token, cookie
        self.jar = http.cookiejar.CookieJar() if cookies else None
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)] if cookies else []
        self.opener = urllib.request.build_opener(*handlers, _NoRedirect())

    def request(self, method: str, path: str, *, data: dict | None = None, json_body: Any = None,
                files: dict[str, tuple[str, bytes]] | None = None, timeout: float = 60) -> Response:
        url = self.base + path
        headers = {"Accept-Language": "en"}
        body = None
        if json_body is not None:
            body, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif files is not None:
            name, (filename, content) = next(iter(files.items()))
            body = (f'--{self.BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{self.BOUNDARY}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={self.BOUNDARY}"
        elif data is not None:
            body, headers["Content-Type"] = urllib.parse.urlencode(data).encode(), "application/x-www-form-urlencoded"
        if self.token and urllib.parse.urlsplit(url).path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookie:
            headers["Cookie"] = self.cookie
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                return Response(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, dict(exc.headers), exc.read())

    def login(self, email: str, password: str | None = None) -> None:
        """Log in through the form (a 302), the session cookie kept in the jar."""
        from tests.support.factories import PASSWORD
        from tests.support.pages import csrf_from

        page = self.request("GET", "/login")
        status = self.request("POST", "/login", data={"email": email, "password": password or PASSWORD,
                                                      "csrf_token": csrf_from(page.text)}).status
        assert status == 302, status

    def csrf_of(self, path: str) -> str:
        from tests.support.pages import csrf_from

        return csrf_from(self.request("GET", path).text)

    def cookie_header(self) -> str:
        """The jar's cookies as one Cookie header."""
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)
