"""Notifications (通知): each user's inbox, the sent-log, and the email outbox rows.

A notice is one row in `notifications`, keyed by a sent-log key that says what
it is about (e.g. ``reminder:{anchor}:{booking}:{start}``). The key is unique
and rows go in by insert-or-ignore, so a job that runs twice, or on two
schedulers at once, sends each notice exactly once; a session moved to a new
start has a new key and is reminded again.

Texts are rendered in the recipient's language (their `locale`, else the
park's default) when the notice is created and stored rendered: the inbox
shows what the email said, and a later change of wording or language does not
rewrite history.

Email: when the park has SMTP settings and the user has not turned email off,
the row is marked ``email_status = "pending"``; the scheduler's outbox job
(services/mailer.py) sends it with retries.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import force_locale, format_date, format_datetime, format_time, gettext
from flask_babel import lazy_gettext as _l

from opsroom import clock
from opsroom.db import is_postgres
from opsroom.labels import ANCHOR_ROLE_LABELS
from opsroom.settings import Settings, settings_of
from opsroom.models import Anchor, Assignment, Booking, Notification, User
from opsroom.services.permissions import require
from opsroom.services.errors import NotFound
from opsroom.services.transaction import transactional

# ---------------------------------------------------------------------------
# Texts, one renderer per kind. Each runs inside force_locale(recipient's).


def _window(starts_at: datetime, ends_at: datetime) -> str:
    return f"{format_datetime(starts_at, 'short')}–{format_time(ends_at, 'HH:mm')}"


def _reminder(p: dict) -> tuple[str, str]:
    return (
        gettext("Your session starts at %(time)s", time=format_time(p["starts_at"], "HH:mm")),
        gettext("%(title)s in room %(room)s (%(zone)s), %(window)s. Your role: %(role)s.",
                title=p["title"] or p["tenant"], room=p["room"], zone=p["zone"] or "—",
                window=_window(p["starts_at"], p["ends_at"]), role=str(ANCHOR_ROLE_LABELS.get(p["role"], p["role"]))),
    )


def _hold_expiring(p: dict) -> tuple[str, str]:
    expires = format_time(p["expires_at"], "HH:mm")
    return (
        gettext("A hold expires at %(time)s", time=expires),
        gettext("Room %(room)s for %(tenant)s, %(window)s: confirm it before %(time)s or the room is released.",
                room=p["room"], tenant=p["tenant"], window=_window(p["starts_at"], p["ends_at"]), time=expires),
    )


def _moved(p: dict) -> tuple[str, str]:
    return (
        gettext("Your session was moved"),
        gettext("%(title)s is now in room %(room)s, %(window)s (was %(old_room)s, %(old_window)s).",
                title=p["title"] or p["tenant"], room=p["room"], window=_window(p["starts_at"], p["ends_at"]),
                old_room=p["old_room"], old_window=_window(p["old_starts_at"], p["old_ends_at"])),
    )


def _cancelled(p: dict) -> tuple[str, str]:
    return (
        gettext("Your session was cancelled"),
        gettext("%(title)s in room %(room)s, %(window)s, was cancelled.",
                title=p["title"] or p["tenant"], room=p["room"], window=_window(p["starts_at"], p["ends_at"])),
    )


def _daily_summary(p: dict) -> tuple[str, str]:
    from opsroom.domain.money import format_money

    utilization = p["utilization"]
    lines = [
        gettext("Yesterday (%(day)s): utilization %(utilization)s · sessions %(bookings)s · no-shows %(no_shows)s · "
                "orders %(orders)s · GMV ¥%(gmv)s",
                day=format_date(p["yesterday"], "medium"),
                utilization="—" if utilization is None else f"{float(utilization) * 100:.1f}%",
                bookings=p["bookings"], no_shows=p["no_shows"], orders=p["orders"], gmv=format_money(p["gmv_fen"])),
        gettext("Sessions today: %(sessions)s", sessions=p["today_sessions"]),
    ]
    if p["overloaded"]:
        lines.append(gettext("Overloaded rooms yesterday: %(rooms)s.", rooms=", ".join(
            f"{r['room']} ({r['load'] * 100:.0f}%)" for r in p["overloaded"])))
    else:
        lines.append(gettext("No room was overloaded yesterday."))
    return gettext("Morning summary for %(day)s", day=format_date(p["today"], "medium")), "\n".join(lines)


def _asked(p: dict) -> str:
    """A request's ask in words: its date (and recurrence), window, duration and place."""
    return gettext("%(date)s, %(minutes)s minutes between %(start)s and %(end)s, %(place)s",
                   date=format_date(p["date"], "medium") + (gettext(" (repeating)") if p.get("recurring") else ""),
                   minutes=p["minutes"], start=p["window_start"], end=p["window_end"], place=p["place"])


def _request_created(p: dict) -> tuple[str, str]:
    return (gettext("New request #%(id)s from %(tenant)s", id=p["id"], tenant=p["tenant"]),
            gettext("%(tenant)s asks for %(asked)s.", tenant=p["tenant"], asked=_asked(p)))


def _request_approved(p: dict) -> tuple[str, str]:
    return (gettext("Request #%(id)s approved", id=p["id"]),
            gettext("Your request for %(asked)s is approved: %(sessions)s.", asked=_asked(p), sessions=p["sessions"]))


def _request_rejected(p: dict) -> tuple[str, str]:
    return (gettext("Request #%(id)s rejected", id=p["id"]),
            gettext("Your request for %(asked)s was rejected: %(reason)s", asked=_asked(p), reason=p["reason"]))


def _request_withdrawn(p: dict) -> tuple[str, str]:
    return (gettext("Request #%(id)s withdrawn", id=p["id"]),
            gettext("%(tenant)s withdrew its request for %(asked)s.", tenant=p["tenant"], asked=_asked(p)))


def _request_waiting(p: dict) -> tuple[str, str]:
    return (gettext("Request #%(id)s is on the waitlist", id=p["id"]),
            gettext("Nothing fits %(asked)s now; you will be offered the first matching time that frees.",
                    asked=_asked(p)))


def _request_offered(p: dict) -> tuple[str, str]:
    return (gettext("A slot is offered for request #%(id)s", id=p["id"]),
            gettext("Room %(room)s, %(window)s is held for you until %(expires)s. Accept it before then, or it "
                    "goes to the next in line.", room=p["room"], window=_window(p["starts_at"], p["ends_at"]),
                    expires=format_datetime(p["expires_at"], "short")))


def _offer_lapsed(p: dict) -> tuple[str, str]:
    return (gettext("The offer for request #%(id)s lapsed", id=p["id"]),
            gettext("Room %(room)s, %(window)s was not accepted in time and went to the next in line.",
                    room=p["room"], window=_window(p["starts_at"], p["ends_at"])))


def _offer_accepted(p: dict) -> tuple[str, str]:
    return (gettext("%(tenant)s accepted the offer for request #%(id)s", tenant=p["tenant"], id=p["id"]),
            gettext("Room %(room)s, %(window)s is confirmed for %(tenant)s.", room=p["room"],
                    window=_window(p["starts_at"], p["ends_at"]), tenant=p["tenant"]))


RENDERERS: dict[str, Callable[[dict], tuple[str, str]]] = {
    "request_created": _request_created,
    "offer_accepted": _offer_accepted,
    "request_approved": _request_approved,
    "request_rejected": _request_rejected,
    "request_withdrawn": _request_withdrawn,
    "request_waiting": _request_waiting,
    "request_offered": _request_offered,
    "offer_lapsed": _offer_lapsed,
    "reminder": _reminder,
    "hold_expiring": _hold_expiring,
    "booking_moved": _moved,
    "booking_cancelled": _cancelled,
    "daily_summary": _daily_summary,
}

KIND_LABELS = {
    "reminder": _l("Reminder"),
    "hold_expiring": _l("Hold expiring"),
    "booking_moved": _l("Session moved"),
    "booking_cancelled": _l("Session cancelled"),
    "daily_summary": _l("Morning summary"),
    "request_created": _l("New request"),
    "request_approved": _l("Request approved"),
    "request_rejected": _l("Request rejected"),
    "request_withdrawn": _l("Request withdrawn"),
    "request_waiting": _l("On the waitlist"),
    "request_offered": _l("Slot offered"),
    "offer_lapsed": _l("Offer lapsed"),
    "offer_accepted": _l("Offer accepted"),
}


def recipient_locale(settings: Settings, user: User) -> str:
    return user.locale if user.locale in settings.languages else settings.default_locale


def render(kind: str, params: dict, locale: str) -> tuple[str, str]:
    with force_locale(locale):
        return RENDERERS[kind](params)


# ---------------------------------------------------------------------------
# Sending: insert-or-ignore on the sent-log key


def _insert_ignore(session: so.Session, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT (key) DO NOTHING on either engine; True when inserted."""
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = Notification.__table__
    # RETURNING tells whether the row went in (rowcount is not reliable with psycopg here).
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)
    return session.execute(stmt).first() is not None


def existing_keys(session: so.Session, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        found.update(session.scalars(sa.select(Notification.key).where(Notification.key.in_(keys[i:i + 500]))))
    return found


def send(session: so.Session, user: User, kind: str, key: str, params: dict, *,
         booking_id: int | None = None) -> bool:
    """Put a notice in `user`'s inbox (and the email outbox) unless the sent-log
    already has `key`. Returns whether it was new. No commit."""
    settings = settings_of(session)
    locale = recipient_locale(settings, user)
    title, body = render(kind, params, locale)
    now = clock.now()
    wants_email = settings.email_enabled and user.email_notifications and user.active and bool(user.email)
    return _insert_ignore(session, {
        "user_id": user.id, "kind": kind, "key": key[:200], "booking_id": booking_id,
        "title": title[:300], "body": body, "locale": locale, "created_at": now,
        "email_status": "pending" if wants_email else None, "email_next_at": now if wants_email else None,
        "email_attempts": 0, "email_error": "",
    })


# ---------------------------------------------------------------------------
# Hooks: a moved or cancelled session tells its anchors (same transaction)


def _anchor_users(session: so.Session, booking_id: int) -> list[tuple[Assignment, User]]:
    rows = session.execute(
        sa.select(Assignment, User).join(Anchor, Anchor.id == Assignment.anchor_id)
        .join(User, User.id == Anchor.user_id)
        .where(Assignment.booking_id == booking_id, User.active.is_(True))
        .order_by(Assignment.id)
    ).all()
    return [(a, u) for a, u in rows]


def _booking_params(booking: Booking) -> dict[str, Any]:
    return {"title": booking.title, "tenant": booking.tenant.name, "room": booking.room.code,
            "zone": booking.room.zone, "starts_at": booking.starts_at, "ends_at": booking.ends_at}


def booking_moved(session: so.Session, booking: Booking, *, old_room: str, old_starts_at: datetime,
                  old_ends_at: datetime) -> int:
    """Tell the booking's anchors (those with a login) where and when it now is. No commit."""
    session.flush()
    session.refresh(booking, ["room"])
    now = clock.now()
    params = {**_booking_params(booking), "old_room": old_room, "old_starts_at": old_starts_at,
              "old_ends_at": old_ends_at}
    sent = 0
    for assignment, user in _anchor_users(session, booking.id):
        key = (f"booking_moved:{assignment.anchor_id}:{booking.id}:{booking.room_id}:"
               f"{booking.starts_at.isoformat()}:{booking.ends_at.isoformat()}:{now.isoformat()}")
        sent += send(session, user, "booking_moved", key, params, booking_id=booking.id)
    return sent


def booking_cancelled(session: so.Session, booking: Booking) -> int:
    """Tell the booking's anchors that it is cancelled (once per anchor and booking). No commit."""
    params = _booking_params(booking)
    sent = 0
    for assignment, user in _anchor_users(session, booking.id):
        sent += send(session, user, "booking_cancelled", f"booking_cancelled:{assignment.anchor_id}:{booking.id}",
                     params, booking_id=booking.id)
    return sent


# ---------------------------------------------------------------------------
# The inbox


def list_notifications(session: so.Session, user, *, unread_only: bool = False,
                       limit: int | None = None) -> list[Notification]:
    """The user's own notices, newest first."""
    require(user, "notifications.own")
    q = sa.select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    limit = limit or settings_of(session).inbox_page_size
    return list(session.scalars(q.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def unread_count(session: so.Session, user) -> int:
    """One indexed COUNT for the header."""
    return session.scalar(
        sa.select(sa.func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def _own(session: so.Session, user, notification_id: int) -> Notification:
    require(user, "notifications.own")
    notice = session.get(Notification, notification_id)
    if notice is None or notice.user_id != user.id:  # another's inbox reads as "no such notice"
        raise NotFound(_l("No such notification."))
    return notice


@transactional
def mark_read(session: so.Session, user, notification_id: int) -> Notification:
    """Mark one of the user's own notices read (again: no change)."""
    notice = _own(session, user, notification_id)
    if notice.read_at is None:
        notice.read_at = clock.now()
    return notice


@transactional
def mark_all_read(session: so.Session, user) -> int:
    """Mark every unread notice of the user read."""
    require(user, "notifications.own")
    count = session.execute(
        sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now()), execution_options={"synchronize_session": False}
    ).rowcount or 0
    return count


@transactional
def set_email_preference(session: so.Session, user, enabled: bool) -> None:
    """Each user may turn email off (the inbox always has the notice)."""
    require(user, "notifications.own")
    user.email_notifications = bool(enabled)


def failed_emails(session: so.Session, user, limit: int = 100) -> list[Notification]:
    """Emails given up on, newest first (admins)."""
    require(user, "operations.admin")
    return list(session.scalars(
        sa.select(Notification).options(so.joinedload(Notification.user))
        .where(Notification.email_status == "failed")
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


@transactional
def retry_email(session: so.Session, user, notification_id: int) -> Notification:
    """An admin sends a failed email again (after fixing the SMTP settings)."""
    require(user, "operations.admin")
    notice = session.get(Notification, notification_id)
    if notice is None or notice.email_status != "failed":
        raise NotFound(_l("No such failed email."))
    notice.email_status, notice.email_attempts, notice.email_next_at = "pending", 0, clock.now()
    return notice
