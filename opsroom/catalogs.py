"""Compiled translation catalogs (.mo) without `make`.

A clean checkout has only the .po sources (.mo files are build output, not
committed). `init-db` and every app start compile each catalog whose .mo is
missing or older than its .po, with Babel's own reader and writer, so a deploy
done by the README's steps serves Chinese from its first request. A failure
(e.g. a read-only install) is logged and never stops the app.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def stale_catalogs(directory: Path) -> list[Path]:
    """Each .po (once, even when reached through a locale alias link) whose .mo is missing or older."""
    seen, stale = set(), []
    for po in sorted(Path(directory).glob("*/LC_MESSAGES/*.po")):
        real = po.resolve()
        if real in seen:
            continue
        seen.add(real)
        mo = real.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < real.stat().st_mtime:
            stale.append(real)
    return stale


def compile_catalogs(directory: Path | str) -> list[Path]:
    """Compile stale catalogs (fuzzy entries left out, as they are unreviewed);
    returns the .mo files written. Never raises."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    try:
        stale = stale_catalogs(Path(directory))
    except OSError:
        log.exception("translations: cannot read %s", directory)
        return written
    for po in stale:
        mo = po.with_suffix(".mo")
        partial = mo.with_name(f"{mo.name}.{os.getpid()}.partial")
        try:
            with open(po, "rb") as f:
                catalog = read_po(f, locale=po.parent.parent.name)
            with open(partial, "wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
            os.replace(partial, mo)  # atomic: workers starting together never read half a file
            written.append(mo)
        except Exception:
            log.exception("translations: could not compile %s", po)
            try:
                partial.unlink(missing_ok=True)
            except OSError:
                pass
    return written
