"""reports API (filled in by its issue)."""
from __future__ import annotations

from opsroom.api import bp  # noqa: F401
