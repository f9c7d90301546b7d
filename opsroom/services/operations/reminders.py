"""The notice jobs: what is due now? Each is an idempotent sweeper: it finds
what should have been sent by now, and the sent-log key (unique, insert-or-
ignore) keeps it from being sent twice, however often or wherever it runs.

- anchors: a reminder N minutes before each confirmed session, once per anchor
  and session start (a moved session has a new start, hence a new reminder);
- coordinators: a hold about to expire, to the one who made it (or, for a
  hold nobody made through the app, to every coordinator);
- managers: the morning summary at a set park time.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.domain import hours
from opsroom.settings import Settings, settings_of
from opsroom.models import Anchor, Assignment, Booking, User
from opsroom.services.permissions import PERMISSIONS
from opsroom.services.integrations import outbox
from opsroom.services.operations import notifications
from opsroom.services.reporting.query import day_figures
from opsroom.services.transaction import transactional


@transactional
def remind_anchors(session: so.Session, minutes_before: int | None = None) -> int:
    """Remind each anchor (with a login) of a confirmed session starting within
    the next `minutes_before` minutes. Returns how many were new."""
    minutes = settings_of(session).reminder_minutes_before if minutes_before is None else minutes_before
    now = clock.now()
    rows = session.execute(
        sa.select(Assignment, Booking, User)
        .join(Booking, Booking.id == Assignment.booking_id)
        .join(Anchor, Anchor.id == Assignment.anchor_id)
        .join(User, User.id == Anchor.user_id)
        .options(so.joinedload(Booking.room), so.joinedload(Booking.tenant))
        .where(Booking.status == "confirmed", Booking.starts_at > now,
               Booking.starts_at <= now + timedelta(minutes=minutes), User.active.is_(True))
        .order_by(Booking.starts_at, Assignment.id)
    ).all()
    due = {f"reminder:{a.anchor_id}:{b.id}:{b.starts_at.isoformat()}": (a, b, u) for a, b, u in rows}
    sent = 0
    sent_before = notifications.existing_keys(session, due)
    for key in (k for k in due if k not in sent_before):  # in time order
        assignment, booking, user = due[key]
        params = {"title": booking.title, "tenant": booking.tenant.name, "room": booking.room.code,
                  "zone": booking.room.zone, "starts_at": booking.starts_at, "ends_at": booking.ends_at,
                  "role": assignment.role}
        sent += notifications.send(session, user, "reminder", key, params, booking_id=booking.id)
    return sent


def _active_users(session: so.Session, roles) -> list[User]:
    return list(session.scalars(
        sa.select(User).where(User.role.in_(sorted(roles)), User.active.is_(True)).order_by(User.id)))


@transactional
def warn_expiring_holds(session: so.Session, minutes_before: int | None = None) -> int:
    """Warn whoever made a hold that it expires within `minutes_before` minutes
    (holds made outside the app go to every coordinator)."""
    minutes = settings_of(session).hold_warning_minutes_before if minutes_before is None else minutes_before
    now = clock.now()
    holds = session.scalars(
        sa.select(Booking).options(so.joinedload(Booking.room), so.joinedload(Booking.tenant))
        .where(Booking.status == "hold", Booking.hold_expires_at > now,
               Booking.hold_expires_at <= now + timedelta(minutes=minutes))
        .order_by(Booking.hold_expires_at, Booking.id)
    ).all()
    if not holds:
        return 0
    writers = PERMISSIONS["bookings.write"]
    creators = {u.id: u for u in session.scalars(sa.select(User).where(
        User.id.in_({b.created_by_id for b in holds if b.created_by_id}), User.active.is_(True)))}
    coordinators: list[User] | None = None
    due: dict[str, tuple[Booking, User]] = {}
    for booking in holds:
        creator = creators.get(booking.created_by_id)
        if creator is not None and creator.role in writers:
            recipients = [creator]
        else:
            if coordinators is None:
                coordinators = _active_users(session, {"coordinator"})
            recipients = coordinators
        for user in recipients:
            due[f"hold_expiring:{user.id}:{booking.id}:{booking.hold_expires_at.isoformat()}"] = (booking, user)
    sent = 0
    sent_before = notifications.existing_keys(session, due)
    for key in (k for k in due if k not in sent_before):  # in time order
        booking, user = due[key]
        params = {"room": booking.room.code, "tenant": booking.tenant.name, "starts_at": booking.starts_at,
                  "ends_at": booking.ends_at, "expires_at": booking.hold_expires_at}
        sent += notifications.send(session, user, "hold_expiring", key, params, booking_id=booking.id)
    return sent


# ---------------------------------------------------------------------------
# The managers' morning summary


def summary_due_day(settings: Settings, now: datetime) -> date | None:
    """The park-local day whose summary is due at `now` (None before the set time)."""
    local = now.astimezone(settings.tz)
    hh, mm = (int(x) for x in settings.daily_summary_at.split(":"))
    return local.date() if local.time() >= time(hh, mm) else None


def next_summary_at(settings: Settings, now: datetime) -> datetime:
    """When the daily summary next goes out: today's set time, or tomorrow's
    once today's has passed (the job itself runs every sweep and waits for it)."""
    local = now.astimezone(settings.tz)
    hh, mm = (int(x) for x in settings.daily_summary_at.split(":"))
    at = datetime.combine(local.date(), time(hh, mm), tzinfo=settings.tz)
    return at if local < at else datetime.combine(local.date() + timedelta(days=1), time(hh, mm), tzinfo=settings.tz)


def summary_figures(session: so.Session, today: date) -> dict[str, Any]:
    """Yesterday's utilization, sessions, no-shows, orders and GMV (reports'
    day_figures, docs/domain.md), today's sessions, and the rooms that were
    overloaded yesterday (a session's load ≥ the configured share)."""
    from opsroom.services.sales import stats

    settings = settings_of(session)
    tz = settings.tz
    yesterday = today - timedelta(days=1)
    figures = day_figures(session, yesterday)
    day = hours.local_day(today, tz)
    today_sessions = session.scalar(
        sa.select(sa.func.count()).select_from(Booking)
        .where(Booking.starts_at >= day.start, Booking.starts_at < day.end, Booking.status != "cancelled")) or 0
    before = hours.local_day(yesterday, tz)
    done = session.scalars(
        sa.select(Booking).options(so.joinedload(Booking.room))
        .where(Booking.starts_at >= before.start, Booking.starts_at < before.end,
               Booking.status.in_(("live", "ended", "confirmed")))
        .order_by(Booking.id)
    ).all()
    threshold = settings.summary_overload_load
    worst: dict[str, float] = {}
    for booking_id, load in stats.loads(session, done).items():
        if load is not None and load >= threshold:
            code = next(b.room.code for b in done if b.id == booking_id)
            worst[code] = max(load, worst.get(code, 0.0))
    return {
        "today": today, "yesterday": yesterday,
        "utilization": figures.get("utilization"), "bookings": figures.get("bookings", 0),
        "no_shows": figures.get("no_shows", 0), "orders": figures.get("orders", 0),
        "gmv_fen": figures.get("gmv_fen", 0), "today_sessions": today_sessions,
        "overloaded": [{"room": code, "load": load} for code, load in sorted(worst.items(), key=lambda kv: -kv[1])],
    }


@transactional
def send_daily_summary(session: so.Session) -> int:
    """From the set time (default 08:00 park time) on, each manager and admin
    gets the day's summary once."""
    today = summary_due_day(settings_of(session), clock.now())
    if today is None:
        return 0
    recipients = {f"daily_summary:{u.id}:{today.isoformat()}": u
                  for u in _active_users(session, PERMISSIONS["reports.read"])}
    missing = recipients.keys() - notifications.existing_keys(session, recipients)
    # The robots' and webhooks' copy: once per day, keyed by the day it reports on.
    to_targets = outbox.wanted(session, "daily.summary", outbox.daily_summary_key(today - timedelta(days=1)))
    if not missing and not to_targets:
        return 0
    params = summary_figures(session, today)
    if to_targets:
        outbox.daily_summary(session, params)
    sent = sum(notifications.send(session, recipients[key], "daily_summary", key, params) for key in sorted(missing))
    return sent
