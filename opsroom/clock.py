"""The one source of "now". Tests replace it with `set_now`/`freeze`."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
_frozen: datetime | None = None


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def set_now(instant: datetime | None) -> None:
    """Freeze the clock at `instant` (aware), or unfreeze with None."""
    global _frozen
    if instant is not None and instant.tzinfo is None:
        raise ValueError("clock needs an aware datetime")
    _frozen = instant.astimezone(UTC) if instant is not None else None


@contextmanager
def frozen(instant: datetime):
    previous = _frozen
    set_now(instant)
    try:
        yield
    finally:
        set_now(previous)


def advance(delta: timedelta) -> None:
    if _frozen is None:
        raise RuntimeError("advance() needs a frozen clock")
    set_now(_frozen + delta)
