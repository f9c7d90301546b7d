"""What the HTML views share: service errors shown on a form, and the park-local
values the forms send."""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, request

from opsroom.services.errors import ServiceError
from opsroom.web.i18n import park_tz


def apply_errors(form, exc: ServiceError) -> None:
    """Show a service's errors on the form's fields; the rest as a message."""
    shown = False
    for detail in exc.details:
        name = str(detail.get("field", "")).split(".")[-1]
        field = getattr(form, name, None) if name else None
        message = str(detail.get("message", exc.message))
        if field is not None and hasattr(field, "errors"):
            if isinstance(field.errors, tuple):
                field.errors = list(field.errors)
            field.errors.append(message)
            shown = True
        elif "message" in detail:
            flash(message, "error")
            shown = True
    if not shown:
        flash(str(exc.message), "error")


def attempt(form, call):
    """Run a service call for a submitted form: (True, result), or, when the
    service refuses (and has rolled its work back), its errors on the form and (False, None)."""
    try:
        return True, call()
    except ServiceError as exc:
        apply_errors(form, exc)
        return False, None


def room_filters() -> tuple[str | None, str | None]:
    """The ?zone= and ?kind= filters of the room lists; a NUL (which no
    database stores) is a 400 on every engine."""
    values = tuple(request.args.get(name) or None for name in ("zone", "kind"))
    if any(v and "\x00" in v for v in values):
        abort(400)
    return values


def local_instant(value: str) -> datetime | None:
    """An <input type=datetime-local> value, read in the park timezone."""
    try:
        naive = datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        return None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=park_tz())


def combine_local(day, at) -> datetime:
    return datetime.combine(day, at, tzinfo=park_tz())
