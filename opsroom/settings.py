"""The park's settings, read once from the configuration into a frozen object.

`create_app` builds one `Settings` from the Flask config and binds it to every
database session the app makes (`session.info["settings"]`), so a service reads
its numbers from the unit of work it runs in (`settings_of(session)`) and needs
no Flask app: the CLI, the scheduler, a test or a worker call services with a
session, an actor, and these settings. The defaults and the environment
variables that change them live in `config.py`; this module names no number.

The park's timezone is `Settings.tz`: the one place that says it.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from datetime import time
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours) % 24, int(minutes))


# Fields whose configuration key is not simply their name in upper case.
_KEYS = {"default_locale": "BABEL_DEFAULT_LOCALE"}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every tunable number a service reads; `config.py` gives each one's default and meaning."""

    timezone: str
    secret_key: str
    languages: tuple[str, ...]
    default_locale: str

    # Accounts
    password_hash_method: str
    login_max_failures_per_account: int
    login_max_failures_per_ip: int
    login_failure_window_seconds: int
    reauth_max_age_minutes: int

    # Booking rules
    booking_granularity_minutes: int
    hold_minutes: int
    max_recurrence_occurrences: int
    alternatives_limit: int
    offer_hold_minutes: int
    request_fits_limit: int
    checkin_opens_minutes_before: int
    no_show_grace_minutes: int

    # Orders, stats, big screen
    order_attribution_grace_minutes: int
    order_batch_max_rows: int
    order_import_chunk_rows: int
    order_import_max_bytes: int
    order_import_errors_shown: int
    capacity_alert_percent: int
    live_load_window_minutes: int
    screen_poll_seconds: int
    screen_ranking_size: int
    screen_cache_seconds: int

    # Reports
    report_prime_start: str
    report_prime_end: str
    report_late_cancel_hours: int
    report_max_days: int
    report_keep_days_back: int
    report_keep_days_ahead: int

    # Operations: notices, email, scheduler
    reminder_minutes_before: int
    hold_warning_minutes_before: int
    daily_summary_at: str
    summary_overload_load: float
    inbox_page_size: int
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_from: str
    smtp_security: str
    smtp_timeout_seconds: int
    email_max_attempts: int
    email_retry_base_seconds: int
    email_batch: int
    scheduler_sweep_seconds: int
    scheduler_stale_seconds: int

    # Integrations: robots, webhooks, the 抖店 push
    integrations_sweep_seconds: int
    integrations_batch: int
    integrations_timeout_seconds: int
    integrations_max_attempts: int
    public_url: str
    doudian_app_key: str
    doudian_app_secret: str

    # The API
    api_max_list: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Each field from its upper-case key in `config` (as `config.py` names them)."""
        values = {f.name: config[_KEYS.get(f.name, f.name.upper())] for f in dataclasses.fields(cls)}
        values["languages"] = tuple(values["languages"])
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @cached_property
    def tz(self) -> ZoneInfo:
        """The park's timezone: every local day, open hour and wall-clock time is read in it."""
        return ZoneInfo(self.timezone)

    @property
    def prime_hours(self) -> tuple[time, time]:
        """Prime time as park-local (start, end); it may cross midnight (24:00 is written 00:00)."""
        return _hhmm(self.report_prime_start), _hhmm(self.report_prime_end)

    @property
    def stale_after_seconds(self) -> int:
        """A scheduler heartbeat older than this is stale: by default two sweep intervals,
        the longest a takeover may take."""
        return self.scheduler_stale_seconds or 2 * self.scheduler_sweep_seconds

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)


@functools.cache
def defaults() -> Settings:
    """The settings of `config.Config` (the environment's, else the defaults)."""
    from config import Config

    return Settings.from_config({name: getattr(Config, name) for name in dir(Config) if name.isupper()})


def settings_of(session) -> Settings:
    """The settings of the unit of work `session` belongs to (bound by the app that made
    it); a session made elsewhere (a script's own) runs with `defaults()`."""
    found = session.info.get("settings")
    return found if found is not None else defaults()
