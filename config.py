"""Settings, read from the environment with safe defaults.

Every tunable number of the product lives here, never as a literal in code.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


class Config:
    DATABASE_URL = os.environ.get(
        "OPSROOM_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'opsroom.sqlite3'}"
    )
    SECRET_KEY = os.environ.get("OPSROOM_SECRET_KEY", "")
    TIMEZONE = os.environ.get("OPSROOM_TIMEZONE", "Asia/Shanghai")

    # Sessions and cookies: secure by default; `make run` on plain http sets
    # OPSROOM_INSECURE_COOKIES=1 for local development only.
    SESSION_COOKIE_SECURE = not _env_bool("OPSROOM_INSECURE_COOKIES", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SESSION_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session

    # werkzeug's scrypt (N=2**15, r=8, p=1 by default).
    PASSWORD_HASH_METHOD = "scrypt"

    # Login throttling: at most N failures per window, per account and per IP.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = _env_int("OPSROOM_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_IP = _env_int("OPSROOM_LOGIN_MAX_FAILURES_PER_IP", 20)
    LOGIN_FAILURE_WINDOW_SECONDS = _env_int("OPSROOM_LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)

    # Booking rules (DESIGN.md §4).
    BOOKING_GRANULARITY_MINUTES = _env_int("OPSROOM_BOOKING_GRANULARITY_MINUTES", 15)
    HOLD_MINUTES = _env_int("OPSROOM_HOLD_MINUTES", 60)
    MAX_RECURRENCE_OCCURRENCES = _env_int("OPSROOM_MAX_RECURRENCE_OCCURRENCES", 366)
    ALTERNATIVES_LIMIT = _env_int("OPSROOM_ALTERNATIVES_LIMIT", 3)
    CHECKIN_OPENS_MINUTES_BEFORE = _env_int("OPSROOM_CHECKIN_OPENS_MINUTES_BEFORE", 30)
    NO_SHOW_GRACE_MINUTES = _env_int("OPSROOM_NO_SHOW_GRACE_MINUTES", 15)

    # Scheduler sweep interval.
    SCHEDULER_SWEEP_SECONDS = _env_int("OPSROOM_SCHEDULER_SWEEP_SECONDS", 60)
    EMBED_SCHEDULER = _env_bool("OPSROOM_EMBED_SCHEDULER", False)

    # SQLite: how long a writer waits for the lock before giving up.
    SQLITE_BUSY_TIMEOUT_SECONDS = _env_int("OPSROOM_SQLITE_BUSY_TIMEOUT_SECONDS", 30)

    # --- Orders, stats, big screen (issue 7) ---

    # --- Reports (issue 8) ---

    # --- Operations: notifications, email, scheduler health, backups (issue 9) ---

    LANGUAGES = ("zh_CN", "en")
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "opsroom" / "translations")

    API_MAX_LIST = 1000
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # uploads (catalogue CSVs) and bodies
    TESTING = False


class TestConfig(Config):
    TESTING = True
    # Still scrypt, at a cost that keeps a thousand test logins fast.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
