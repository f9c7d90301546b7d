"""A deploy that speaks Chinese: a fresh clone of the committed HEAD (no .mo
files, no `make`), set up by the README's production steps (init-db, then
gunicorn), serves zh_CN complete. Also: catalogs are compiled when missing or
stale, and a failure to compile never stops the app."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from opsroom.catalogs import compile_catalogs, stale_catalogs
from tests.support import ROOT
from tests.support.http import free_port

BIN = Path(sys.executable).parent


def _key(message_id) -> str | tuple:
    """A plural entry's id is a list (mo) or tuple (po) of its forms."""
    return tuple(message_id) if isinstance(message_id, (list, tuple)) else message_id


def translated(po_path: Path) -> set[str]:
    with open(po_path, "rb") as f:
        catalog = read_po(f)
    return {_key(m.id) for m in catalog if m.id and m.string and not m.fuzzy}


def compiled(mo_path: Path) -> set[str]:
    with open(mo_path, "rb") as f:
        catalog = read_mo(f)
    return {_key(m.id) for m in catalog if m.id and m.string}


def get(url: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(url, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_fresh_clone_by_the_readme_serves_chinese(tmp_path):
    clone = tmp_path / "opsroom"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    catalogs = clone / "opsroom" / "translations"
    assert not list(catalogs.glob("*/LC_MESSAGES/*.mo")), "compiled catalogs must not be committed"
    env = {**os.environ, "OPSROOM_DATABASE_URL": f"sqlite:///{tmp_path}/park.sqlite3",
           "OPSROOM_SECRET_KEY": "fresh-clone-test", "OPSROOM_INSECURE_COOKIES": "1"}
    env.pop("OPSROOM_EMBED_SCHEDULER", None)

    # README: init-db, then gunicorn. init-db compiles the catalogs.
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "init-db"], cwd=clone, env=env, check=True,
                   capture_output=True)
    zh = catalogs / "zh_CN" / "LC_MESSAGES"
    assert (zh / "messages.mo").is_file()
    assert compiled(zh / "messages.mo") == translated(zh / "messages.po")  # every translation is in

    # The app start compiles them too (a deploy that skipped init-db on this host).
    for mo in catalogs.glob("*/LC_MESSAGES/*.mo"):
        mo.unlink()
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                              cwd=clone, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = get(f"http://127.0.0.1:{port}/login")
    finally:
        server.terminate()
        server.wait(10)
    assert 'lang="zh-CN"' in page
    assert "登录" in page and "Log in" not in page
    assert compiled(zh / "messages.mo") == translated(zh / "messages.po")


def test_compiles_only_missing_or_stale_catalogs(tmp_path):
    src = ROOT / "opsroom" / "translations"
    shutil.copytree(src, tmp_path / "t", symlinks=True, ignore=shutil.ignore_patterns("*.mo"))
    d = tmp_path / "t"
    written = compile_catalogs(d)
    assert {p.parent.parent.name for p in written} == {"en", "zh_CN"}  # the zh_Hans_CN alias not twice
    assert stale_catalogs(d) == [] and compile_catalogs(d) == []
    po = d / "zh_CN" / "LC_MESSAGES" / "messages.po"
    os.utime(po, (time.time() + 5, time.time() + 5))  # edited after the last compile
    assert [p.parent.parent.name for p in compile_catalogs(d)] == ["zh_CN"]


def test_a_catalog_that_cannot_be_compiled_does_not_stop_the_app(tmp_path, caplog):
    d = tmp_path / "t" / "xx" / "LC_MESSAGES"
    d.mkdir(parents=True)
    (d / "messages.po").write_bytes(b"\xff\xfe not a catalog \x00")
    assert compile_catalogs(tmp_path / "t") == []
    assert not list(d.glob("*.mo")) and not list(d.glob("*.partial"))
