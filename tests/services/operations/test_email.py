"""Email of notices against a real SMTP server started by the test (aiosmtpd):
sent once, in the recipient's language; a refusing or unreachable server loses
nothing (the inbox has the notice), the email is retried with exponential
backoff and then marked failed, which admins see and may retry."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.models import Notification
from opsroom.services.operations import mailer, notifications, reminders
from tests.conftest import NOW, at, configure
from tests.support.http import free_port
from tests.support.mail import SmtpServer


@pytest.fixture
def smtp_server():
    """start("ok" | "rcpt" | "data") → (handler, port) of a real SMTP server on 127.0.0.1."""
    running = []

    def start(refuse: str | None = None):
        server = SmtpServer(refuse).start()
        running.append(server)
        return server.inbox, server.port

    yield start
    for server in running:
        server.stop()


def use_smtp(app, port: int, *sessions, **kw) -> None:
    configure(app, *sessions, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none", SMTP_TIMEOUT_SECONDS=5,
                      SMTP_FROM="opsroom@park.example", EMAIL_MAX_ATTEMPTS=3, EMAIL_RETRY_BASE_SECONDS=60, **kw)


@pytest.fixture
def due_reminder(make):
    user = make.user("anchor", email="lihua@park.example")
    anchor = make.anchor(user_id=user.id)
    booking = make.booking(make.room(code="A101"), starts_at=at(0, 10, 30), title="南果梨专场")
    make.assign(booking, anchor)
    return user


def only_notice(session) -> Notification:
    (notice,) = session.scalars(sa.select(Notification)).all()
    session.refresh(notice)
    return notice


def test_email_sent_once_in_the_recipients_language(app, db_session, smtp_server, due_reminder):
    inbox, port = smtp_server()
    use_smtp(app, port, db_session)
    assert reminders.remind_anchors(db_session) == 1
    assert only_notice(db_session).email_status == "pending"
    assert mailer.send_due_emails(db_session) == {"sent": 1, "retried": 0, "failed": 0}
    assert mailer.send_due_emails(db_session)["sent"] == 0
    assert reminders.remind_anchors(db_session) == 0
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    notice = only_notice(db_session)
    assert msg["To"] == "lihua@park.example" and msg["From"] == "opsroom@park.example"
    assert msg["Subject"] == notice.title
    text = msg.get_content()
    assert "南果梨专场" in text and "主播" in text  # UTF-8 intact, zh_CN role label
    assert notice.email_status == "sent" and notice.email_sent_at == NOW and notice.read_at is None


def test_no_email_without_smtp_settings_or_when_turned_off(app, db_session, make, smtp_server, due_reminder):
    inbox, port = smtp_server()
    reminders.remind_anchors(db_session)  # no SMTP configured: inbox only
    assert only_notice(db_session).email_status is None
    use_smtp(app, port, db_session)
    notifications.set_email_preference(db_session, due_reminder, False)
    other = make.user("anchor")
    b = make.booking(starts_at=at(0, 10, 45))
    make.assign(b, make.anchor(user_id=other.id))
    notifications.set_email_preference(db_session, other, False)
    reminders.remind_anchors(db_session)
    assert mailer.send_due_emails(db_session)["sent"] == 0
    assert inbox.messages == []
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2  # both in the inbox


@pytest.mark.parametrize("server", ["rcpt", "data", "unreachable"])
def test_refusing_or_unreachable_server_retries_with_backoff_then_fails(app, db_session, make, smtp_server,
                                                                       due_reminder, server):
    """Attempts at 10:00, 10:01, 10:03 (60 s, then 120 s later); the third failure gives up.
    The inbox has the notice throughout; an admin sees the failure and may send it again."""
    port = free_port() if server == "unreachable" else smtp_server(server)[1]
    use_smtp(app, port, db_session)
    reminders.remind_anchors(db_session)
    assert mailer.send_due_emails(db_session) == {"sent": 0, "retried": 1, "failed": 0}
    notice = only_notice(db_session)
    assert (notice.email_status, notice.email_attempts) == ("pending", 1)
    assert notice.email_next_at == NOW + timedelta(seconds=60) and notice.email_error

    assert mailer.send_due_emails(db_session)["retried"] == 0  # not due yet
    clock.set_now(NOW + timedelta(seconds=60))
    assert mailer.send_due_emails(db_session)["retried"] == 1
    assert only_notice(db_session).email_next_at == NOW + timedelta(seconds=60 + 120)
    clock.set_now(NOW + timedelta(seconds=179))
    assert mailer.send_due_emails(db_session)["retried"] == 0
    clock.set_now(NOW + timedelta(seconds=180))
    assert mailer.send_due_emails(db_session) == {"sent": 0, "retried": 0, "failed": 1}
    notice = only_notice(db_session)
    assert (notice.email_status, notice.email_attempts, notice.email_next_at) == ("failed", 3, None)
    clock.advance(timedelta(days=1))
    assert mailer.send_due_emails(db_session)["failed"] == 0  # given up: not tried again

    assert notifications.list_notifications(db_session, due_reminder) == [notice]  # nothing lost
    admin = make.user("admin")
    assert notifications.failed_emails(db_session, admin) == [notice]

    # The admin fixes the mail server and sends it again.
    inbox, port = smtp_server()
    use_smtp(app, port, db_session)
    notifications.retry_email(db_session, admin, notice.id)
    assert mailer.send_due_emails(db_session)["sent"] == 1
    assert len(inbox.messages) == 1 and only_notice(db_session).email_status == "sent"
    assert notifications.failed_emails(db_session, admin) == []


def test_a_claimed_email_is_not_sent_by_a_second_outbox_run(app, db_session, smtp_server, due_reminder):
    """An outbox run claims an email before sending; another run meanwhile skips it.
    A claim whose run died lapses after its lease and the email goes out then."""
    inbox, port = smtp_server()
    use_smtp(app, port, db_session, EMAIL_BATCH=10)
    reminders.remind_anchors(db_session)
    lease = timedelta(seconds=5 * 12 + 60)
    assert len(mailer._claim(db_session, 10, lease)) == 1  # a run that then dies
    assert mailer.send_due_emails(db_session)["sent"] == 0
    clock.advance(lease)
    assert mailer.send_due_emails(db_session)["sent"] == 1
    assert len(inbox.messages) == 1


def test_the_park_writes_while_the_mail_server_takes_its_time(committed_app):
    """No transaction is open while the outbox talks to the server (on SQLite it
    would hold the one write lock): the server's handler itself writes to the
    database while it accepts each email, and is never kept waiting; each
    email is still sent once and recorded sent. Real commits."""
    import time

    from opsroom.models import Tenant
    from tests.support.factories import Factory
    from tests.support.live import query
    from tests.support.mail import Inbox

    app = committed_app
    waits: list[float] = []

    class WritingInbox(Inbox):
        async def handle_DATA(self, server, session, envelope):
            started = time.monotonic()
            query(app, lambda s: (s.add(Tenant(name=f"写入 {len(waits)}")), s.commit()))
            waits.append(time.monotonic() - started)
            return await super().handle_DATA(server, session, envelope)

    server = SmtpServer()
    server.inbox = server._controller.handler = WritingInbox()  # before start: the server answers with it
    server.start()
    try:
        use_smtp(app, server.port)

        def arrange(session):
            make = Factory(session)
            for n in (1, 2):
                user = make.user("anchor", email=f"anchor{n}@park.example")
                booking = make.booking(make.room(), starts_at=at(0, 10, 30))
                make.assign(booking, make.anchor(user_id=user.id))
            assert reminders.remind_anchors(session) == 2

        query(app, arrange)
        counts = query(app, mailer.send_due_emails)
        again = query(app, mailer.send_due_emails)
        statuses = query(app, lambda s: sorted(s.scalars(sa.select(Notification.email_status))))
    finally:
        server.stop()
    assert counts == {"sent": 2, "retried": 0, "failed": 0} and again["sent"] == 0, (counts, waits)
    assert len(server.inbox.messages) == 2 and statuses == ["sent", "sent"]
    assert len(waits) == 2 and max(waits) < 1.0, waits  # the SMTP timeout is 5 s: a held lock would show
