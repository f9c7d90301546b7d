"""The email outbox: notices marked ``email_status = "pending"`` are sent over SMTP.

Nothing is lost when the SMTP server is down or refuses: the inbox has the
notice anyway, and the email is retried after base, 2×base, 4×base … seconds
until EMAIL_MAX_ATTEMPTS, then marked "failed" (admins see it and may retry).

Each email is claimed before it is sent (a conditional update to "sending"
whose lease ends at email_next_at), so two outbox runs never both send it. A
process that dies between the server's acceptance and the "sent" commit leaves
a claim that lapses: that one email may then go out twice (at-least-once); an
email the server accepted and whose "sent" was committed is never sent again.

No transaction stays open while the server is talked to (on SQLite it would
hold the one write lock and stall every booking for as long as SMTP takes), as
the integrations sender does: the claim in one short transaction, the claimed
notices read and their messages built in another, then connect and send with
no transaction open, each outcome recorded in a short transaction of its own.
"""
from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.settings import Settings, settings_of
from opsroom.models import Notification

DUE = ("pending", "sending")


def smtp_connect(settings: Settings) -> smtplib.SMTP:
    """A connection to the configured server (STARTTLS, SSL or plain), logged in if a user is set."""
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
    security = (settings.smtp_security or "starttls").lower()
    if security == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            conn.starttls(context=ssl.create_default_context())
    if settings.smtp_user:
        conn.login(settings.smtp_user, settings.smtp_password or "")
    return conn


def build_message(notice: Notification, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = notice.title
    msg["From"] = settings.smtp_from
    msg["To"] = notice.user.email
    msg["Message-ID"] = make_msgid(domain="opsroom")
    msg["X-Opsroom-Notice"] = notice.key
    msg.set_content(notice.body)
    return msg


def _claim(session: so.Session, batch: int, lease: timedelta) -> list[int]:
    now = clock.now()
    due = session.scalars(
        sa.select(Notification.id).where(Notification.email_status.in_(DUE), Notification.email_next_at <= now)
        .order_by(Notification.email_next_at, Notification.id).limit(batch)).all()
    claimed = []
    for notice_id in due:
        won = session.execute(
            sa.update(Notification)
            .where(Notification.id == notice_id, Notification.email_status.in_(DUE),
                   Notification.email_next_at <= now)
            .values(email_status="sending", email_next_at=now + lease),
            execution_options={"synchronize_session": False}).rowcount
        if won:
            claimed.append(notice_id)
    session.commit()
    return claimed


def _failed(notice: Notification, error: Exception, settings: Settings) -> str:
    notice.email_attempts += 1
    notice.email_error = f"{type(error).__name__}: {error}"[:500]
    if notice.email_attempts >= settings.email_max_attempts:
        notice.email_status, notice.email_next_at = "failed", None
        return "failed"
    delay = settings.email_retry_base_seconds * 2 ** (notice.email_attempts - 1)
    notice.email_status, notice.email_next_at = "pending", clock.now() + timedelta(seconds=delay)
    return "retried"


def send_due_emails(session: so.Session) -> dict[str, int]:
    """Send what is due; returns counts of sent, retried (failed, will retry) and failed.
    Commits in steps: the claim first, then each outcome as it happens (an email
    that went out must stay marked sent, whatever happens to the next)."""
    settings = settings_of(session)
    counts = {"sent": 0, "retried": 0, "failed": 0}
    if not settings.email_enabled:
        return counts
    batch = settings.email_batch
    lease = timedelta(seconds=settings.smtp_timeout_seconds * (batch + 2) + 60)
    claimed = _claim(session, batch, lease)
    if not claimed:
        return counts
    notices = session.scalars(
        sa.select(Notification).options(so.joinedload(Notification.user))
        .where(Notification.id.in_(claimed)).order_by(Notification.id)).all()
    messages = [build_message(notice, settings) for notice in notices]
    _between_transactions(session)
    conn = None
    try:
        for i, (notice, message) in enumerate(zip(notices, messages)):
            if conn is None:
                try:
                    conn = smtp_connect(settings)
                except (smtplib.SMTPException, OSError) as exc:
                    # Unreachable or refusing: the whole batch waits for its next attempt.
                    for rest in notices[i:]:
                        counts[_failed(rest, exc, settings)] += 1
                    session.commit()
                    break
            try:
                conn.send_message(message)
            except (smtplib.SMTPException, OSError) as exc:
                counts[_failed(notice, exc, settings)] += 1
                if not isinstance(exc, smtplib.SMTPRecipientsRefused):
                    _close(conn)  # a broken session: start afresh for the next one
                    conn = None
            else:
                notice.email_status, notice.email_sent_at, notice.email_next_at = "sent", clock.now(), None
                notice.email_error = ""
                counts["sent"] += 1
            session.commit()  # each outcome kept at once, in a transaction of its own (no SMTP inside)
    finally:
        if conn is not None:
            _close(conn)
    return counts


def _between_transactions(session: so.Session) -> None:
    """End the unit of work before talking to the server: no transaction stays
    open over the network. Loaded rows stay usable (sessions do not expire on commit)."""
    session.commit()


def _close(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()
