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

    # Booking rules (docs/domain.md).
    BOOKING_GRANULARITY_MINUTES = _env_int("OPSROOM_BOOKING_GRANULARITY_MINUTES", 15)
    HOLD_MINUTES = _env_int("OPSROOM_HOLD_MINUTES", 60)
    MAX_RECURRENCE_OCCURRENCES = _env_int("OPSROOM_MAX_RECURRENCE_OCCURRENCES", 366)
    ALTERNATIVES_LIMIT = _env_int("OPSROOM_ALTERNATIVES_LIMIT", 3)
    # Requests and the waitlist: how long a tenant has to accept an offered
    # slot, and how many fitting places a request lists.
    OFFER_HOLD_MINUTES = _env_int("OPSROOM_OFFER_HOLD_MINUTES", 120)
    REQUEST_FITS_LIMIT = _env_int("OPSROOM_REQUEST_FITS_LIMIT", 10)
    CHECKIN_OPENS_MINUTES_BEFORE = _env_int("OPSROOM_CHECKIN_OPENS_MINUTES_BEFORE", 30)
    NO_SHOW_GRACE_MINUTES = _env_int("OPSROOM_NO_SHOW_GRACE_MINUTES", 15)

    # Scheduler sweep interval.
    SCHEDULER_SWEEP_SECONDS = _env_int("OPSROOM_SCHEDULER_SWEEP_SECONDS", 60)
    EMBED_SCHEDULER = _env_bool("OPSROOM_EMBED_SCHEDULER", False)

    # SQLite: how long a writer waits for the lock before giving up.
    SQLITE_BUSY_TIMEOUT_SECONDS = _env_int("OPSROOM_SQLITE_BUSY_TIMEOUT_SECONDS", 30)

    # --- Orders, stats, big screen ---
    # Orders: an order belongs to a room's session if it falls in [start, end + grace).
    ORDER_ATTRIBUTION_GRACE_MINUTES = _env_int("OPSROOM_ORDER_ATTRIBUTION_GRACE_MINUTES", 30)
    ORDER_BATCH_MAX_ROWS = _env_int("OPSROOM_ORDER_BATCH_MAX_ROWS", 5000)  # POST /orders
    # A shop export is taken in chunks of this many rows, each committed on its own.
    ORDER_IMPORT_CHUNK_ROWS = _env_int("OPSROOM_ORDER_IMPORT_CHUNK_ROWS", 5000)
    # The largest export upload (the global MAX_CONTENT_LENGTH stays for every other route).
    ORDER_IMPORT_MAX_BYTES = _env_int("OPSROOM_ORDER_IMPORT_MAX_BYTES", 1024 * 1024 * 1024)
    # Rejected rows listed in an import's answer (all of them stay downloadable as CSV).
    ORDER_IMPORT_ERRORS_SHOWN = _env_int("OPSROOM_ORDER_IMPORT_ERRORS_SHOWN", 1000)
    # Stats and the big screen: a live session whose live load (orders of its last
    # LIVE_LOAD_WINDOW_MINUTES ÷ the room's capacity for that time) is over
    # CAPACITY_ALERT_PERCENT raises a capacity alert on the board, the booking page
    # and the screen. The screen polls every SCREEN_POLL_SECONDS and ranks the top N.
    CAPACITY_ALERT_PERCENT = _env_int("OPSROOM_CAPACITY_ALERT_PERCENT", 90)
    LIVE_LOAD_WINDOW_MINUTES = _env_int("OPSROOM_LIVE_LOAD_WINDOW_MINUTES", 60)
    SCREEN_POLL_SECONDS = _env_int("OPSROOM_SCREEN_POLL_SECONDS", 5)
    SCREEN_RANKING_SIZE = _env_int("OPSROOM_SCREEN_RANKING_SIZE", 10)
    # A worker computes the screen's figures at most once in this many seconds and answers
    # every screen polling meanwhile with them (0: on every request). Below the poll interval.
    SCREEN_CACHE_SECONDS = _env_int("OPSROOM_SCREEN_CACHE_SECONDS", 3)

    # --- Reports ---
    # Prime time (park-local, may cross midnight; 24:00 is written 00:00).
    REPORT_PRIME_START = os.environ.get("OPSROOM_REPORT_PRIME_START", "19:00")
    REPORT_PRIME_END = os.environ.get("OPSROOM_REPORT_PRIME_END", "00:00")
    # A cancellation with less notice than this before the start is "late".
    REPORT_LATE_CANCEL_HOURS = _env_int("OPSROOM_REPORT_LATE_CANCEL_HOURS", 24)
    # The longest range one report may cover (a longer one is a 422).
    REPORT_MAX_DAYS = _env_int("OPSROOM_REPORT_MAX_DAYS", 400)
    # The scheduler keeps the rollups computed from this many days back to this many ahead.
    REPORT_KEEP_DAYS_BACK = _env_int("OPSROOM_REPORT_KEEP_DAYS_BACK", 400)
    REPORT_KEEP_DAYS_AHEAD = _env_int("OPSROOM_REPORT_KEEP_DAYS_AHEAD", 90)

    # --- Operations: notifications, email, scheduler health, backups ---
    # Notices: an anchor's reminder N minutes before a session, a hold's creator
    # warned N minutes before it expires, the managers' summary at HH:MM park time.
    REMINDER_MINUTES_BEFORE = _env_int("OPSROOM_REMINDER_MINUTES_BEFORE", 60)
    HOLD_WARNING_MINUTES_BEFORE = _env_int("OPSROOM_HOLD_WARNING_MINUTES_BEFORE", 15)
    DAILY_SUMMARY_AT = os.environ.get("OPSROOM_DAILY_SUMMARY_AT", "08:00")
    # A room counts as overloaded in the summary when a session's orders reached
    # this share of its capacity (load = orders / capacity).
    SUMMARY_OVERLOAD_LOAD = float(os.environ.get("OPSROOM_SUMMARY_OVERLOAD_LOAD") or 1.0)
    INBOX_PAGE_SIZE = _env_int("OPSROOM_INBOX_PAGE_SIZE", 100)
    # Email: none unless OPSROOM_SMTP_HOST is set (then the inbox and email).
    SMTP_HOST = os.environ.get("OPSROOM_SMTP_HOST", "")
    SMTP_PORT = _env_int("OPSROOM_SMTP_PORT", 587)
    SMTP_USER = os.environ.get("OPSROOM_SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("OPSROOM_SMTP_PASSWORD", "")
    SMTP_FROM = os.environ.get("OPSROOM_SMTP_FROM", "opsroom@localhost")
    SMTP_SECURITY = os.environ.get("OPSROOM_SMTP_SECURITY", "starttls")  # starttls | ssl | none
    SMTP_TIMEOUT_SECONDS = _env_int("OPSROOM_SMTP_TIMEOUT_SECONDS", 10)
    # A failed email is retried after base, 2×base, 4×base … seconds, then marked failed.
    EMAIL_MAX_ATTEMPTS = _env_int("OPSROOM_EMAIL_MAX_ATTEMPTS", 5)
    EMAIL_RETRY_BASE_SECONDS = _env_int("OPSROOM_EMAIL_RETRY_BASE_SECONDS", 60)
    EMAIL_BATCH = _env_int("OPSROOM_EMAIL_BATCH", 100)
    # The heartbeat is stale (health "degraded") after this many seconds; default
    # two sweep intervals, the longest a takeover may take.
    SCHEDULER_STALE_SECONDS = _env_int("OPSROOM_SCHEDULER_STALE_SECONDS", 0)

    # --- Integrations: chat robots, signed webhooks, the 抖店 push ---
    # The outbox sender runs this often (seconds): the first attempt of a delivery
    # comes at most this long after its event (the contract promises ≤ 30 s).
    INTEGRATIONS_SWEEP_SECONDS = _env_int("OPSROOM_INTEGRATIONS_SWEEP_SECONDS", 10)
    # Deliveries claimed per run, and the HTTP timeout of one attempt (seconds).
    INTEGRATIONS_BATCH = _env_int("OPSROOM_INTEGRATIONS_BATCH", 200)
    INTEGRATIONS_TIMEOUT_SECONDS = _env_int("OPSROOM_INTEGRATIONS_TIMEOUT_SECONDS", 5)
    # Attempts before a delivery is marked failed (backoff 30 s, 60 s … 1 h: ~a day).
    INTEGRATIONS_MAX_ATTEMPTS = _env_int("OPSROOM_INTEGRATIONS_MAX_ATTEMPTS", 30)
    # The site's root as people reach it: chat messages link to its pages.
    PUBLIC_URL = os.environ.get("OPSROOM_PUBLIC_URL", "http://localhost:5000")
    # The 抖店 message push: the app's key and secret (empty: every push is refused, 401).
    DOUDIAN_APP_KEY = os.environ.get("OPSROOM_DOUDIAN_APP_KEY", "")
    DOUDIAN_APP_SECRET = os.environ.get("OPSROOM_DOUDIAN_APP_SECRET", "")

    # --- Hardening: account security ---
    # Admin pages and actions want the password typed within this many minutes.
    REAUTH_MAX_AGE_MINUTES = _env_int("OPSROOM_REAUTH_MAX_AGE_MINUTES", 15)
    # PostgreSQL: give up connecting after this many seconds (the request answers 503).
    DATABASE_CONNECT_TIMEOUT_SECONDS = _env_int("OPSROOM_DATABASE_CONNECT_TIMEOUT_SECONDS", 5)

    LANGUAGES = ("zh_CN", "en")
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "opsroom" / "translations")

    API_MAX_LIST = 1000
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # uploads (catalogue CSVs) and bodies
    TESTING = False


class TestConfig(Config):
    TESTING = True
    SCREEN_CACHE_SECONDS = 0  # a test reads the screen right after changing what it shows
    # Still scrypt, at a cost that keeps a thousand test logins fast.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    DOUDIAN_APP_KEY = "7123456789012345678"
    DOUDIAN_APP_SECRET = "test-doudian-secret"
