"""Locale choice and park-time formatting for the faces."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, session
from babel import Locale
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_login import current_user

from opsroom.domain.money import group_digits
from opsroom.web.extensions import babel



def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, scheduler: the park's default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in supported:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"]) if request else None
    if best in ("zh", "zh_CN"):
        return "zh_CN"
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.extensions["opsroom.settings"].timezone


def park_tz() -> ZoneInfo:
    """The park's timezone, for the faces (services read it from their session's settings)."""
    return current_app.extensions["opsroom.settings"].tz


def init_app(app) -> None:
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["TIMEZONE"])
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    # Formatting in the park timezone (Flask-Babel converts aware instants).
    app.jinja_env.filters["dt"] = lambda v, fmt="short": format_datetime(v, fmt) if v else ""
    app.jinja_env.filters["d"] = lambda v, fmt="medium": format_date(v, fmt) if v else ""
    app.jinja_env.filters["t"] = lambda v, fmt="HH:mm": _time(v, fmt)
    app.jinja_env.filters["local"] = lambda v: v.astimezone(park_tz()) if isinstance(v, datetime) else v
    app.jinja_env.filters["isodt"] = _isodt
    # Figures in tables: "¥1,234,567.80" from a money string, "12,345" from a count.
    app.jinja_env.filters["money"] = lambda v: "—" if v is None else "¥" + group_digits(v)
    app.jinja_env.filters["grouped"] = lambda v: "—" if v is None else group_digits(v)


def _isodt(value):
    """An ISO instant string (as in clash details and audit entries) in park time."""
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] in ("T", " "):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is not None:
            return format_datetime(parsed, "short")
    return value


def _time(value, fmt):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_time(value, fmt)
    return value.strftime("%H:%M")


def local_date_today() -> date:
    from opsroom import clock

    return clock.now().astimezone(park_tz()).date()


def locale_code() -> str:
    """The active language as LANGUAGES spells it ("zh_CN", "en"), for templates:
    Babel's own name for zh_CN is "zh_Hans_CN", so `get_locale()|string` never
    equalled "zh_CN" and Chinese pages said lang="en"."""
    active = get_locale()
    for code in current_app.config["LANGUAGES"]:
        if Locale.parse(code) == active:
            return code
    return str(active)
