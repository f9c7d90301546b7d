"""Notices: the job functions under the frozen clock (NOW = Friday 10:00 park
time), on SQLite and PostgreSQL. Each notice is sent exactly once, however often
a job runs, and also when two run at once; a moved session is reminded again;
a move or cancel tells the session's anchors in the same transaction."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.models import Booking, Notification
from opsroom.services.operations import notifications, reminders
from opsroom.services.errors import NotFound
from tests.conftest import NOW, at, configure
from opsroom.services.bookings.create import create_booking
from opsroom.services.bookings.lifecycle import cancel_booking
from opsroom.services.bookings.move import update_booking


def notices(session, **where):
    q = sa.select(Notification).order_by(Notification.id)
    for k, v in where.items():
        q = q.where(getattr(Notification, k) == v)
    return session.scalars(q).all()


@pytest.fixture
def session_with_anchor(make):
    """A confirmed session at 10:45 today in room A101 with a host (who logs in)
    and an assistant without a login."""
    tenant = make.tenant(name="西柳服装")
    room = make.room(code="A101", zone="服装区")
    user = make.user("anchor", name="李梨花")
    host = make.anchor(name="李梨花", user_id=user.id)
    helper = make.anchor(name="王助播")
    booking = make.booking(room, tenant, starts_at=at(0, 10, 45), ends_at=at(0, 12, 45), title="秋冬新款")
    make.assign(booking, host, "host")
    make.assign(booking, helper, "assistant")
    return {"booking": booking, "user": user, "host": host, "room": room, "tenant": tenant}


def test_reminder_sent_once_per_anchor_and_session(db_session, session_with_anchor):
    """Due within 60 minutes: one reminder to the anchor with a login; a second run sends nothing."""
    w = session_with_anchor
    assert reminders.remind_anchors(db_session) == 1
    assert reminders.remind_anchors(db_session) == 0
    rows = notices(db_session)
    assert len(rows) == 1
    n = rows[0]
    assert (n.user_id, n.kind, n.booking_id) == (w["user"].id, "reminder", w["booking"].id)
    assert n.key == f"reminder:{w['host'].id}:{w['booking'].id}:{w['booking'].starts_at.isoformat()}"
    # In the anchor's language (no choice made: the park's zh_CN): the role label is Chinese.
    assert n.locale == "zh_CN" and "主播" in n.body and "A101" in n.body and "秋冬新款" in n.body
    assert n.read_at is None and n.email_status is None  # no SMTP configured: inbox only


def test_reminder_in_english_for_an_english_user(db_session, session_with_anchor):
    session_with_anchor["user"].locale = "en"
    db_session.commit()
    reminders.remind_anchors(db_session)
    (n,) = notices(db_session)
    assert n.locale == "en" and "host" in n.body and "主播" not in n.body
    assert n.title == "Your session starts at 10:45"


@pytest.mark.parametrize("starts,status,sent", [
    (at(0, 11, 0), "confirmed", 1),     # exactly 60 minutes ahead: due
    (at(0, 11, 15), "confirmed", 0),    # 75 minutes ahead: not yet
    (at(0, 10, 0), "confirmed", 0),     # starts now: too late to remind
    (at(0, 10, 30), "hold", 0),         # a hold is no session yet
    (at(0, 10, 30), "cancelled", 0),
])
def test_reminder_window(db_session, make, starts, status, sent):
    user = make.user("anchor")
    anchor = make.anchor(user_id=user.id)
    booking = make.booking(starts_at=starts, status=status)
    make.assign(booking, anchor)
    assert reminders.remind_anchors(db_session) == sent


def test_reminder_minutes_are_configurable(app, db_session, session_with_anchor):
    configure(app, db_session, REMINDER_MINUTES_BEFORE=30)
    assert reminders.remind_anchors(db_session) == 0
    clock.advance(timedelta(minutes=15))
    assert reminders.remind_anchors(db_session) == 1


def test_moved_session_is_reminded_again_and_anchor_told(db_session, make, session_with_anchor):
    """Reminded for 10:45; moved to 10:30 (still within the hour): a move notice and a fresh
    reminder for the new start. Moved again to 14:00: no reminder until 13:00."""
    w = session_with_anchor
    staff = make.user("coordinator")
    assert reminders.remind_anchors(db_session) == 1
    update_booking(db_session, staff, w["booking"].id, {"starts_at": at(0, 10, 30), "ends_at": at(0, 12, 30)})
    moved = notices(db_session, kind="booking_moved")
    assert len(moved) == 1 and moved[0].user_id == w["user"].id and "A101" in moved[0].body
    assert reminders.remind_anchors(db_session) == 1
    assert reminders.remind_anchors(db_session) == 0
    starts = [n.key.rsplit(":", 3)[-3:] for n in notices(db_session, kind="reminder")]
    assert len(starts) == 2

    update_booking(db_session, staff, w["booking"].id, {"starts_at": at(0, 14), "ends_at": at(0, 16)})
    assert len(notices(db_session, kind="booking_moved")) == 2
    assert reminders.remind_anchors(db_session) == 0
    clock.set_now(at(0, 13, 0))
    assert reminders.remind_anchors(db_session) == 1
    assert len(notices(db_session, kind="reminder")) == 3


def test_retitle_is_no_move(db_session, make, session_with_anchor):
    update_booking(db_session, make.user("coordinator"), session_with_anchor["booking"].id, {"title": "新标题"})
    assert notices(db_session, kind="booking_moved") == []


def test_cancel_tells_the_anchors_once(db_session, make, session_with_anchor):
    w = session_with_anchor
    cancel_booking(db_session, make.user("coordinator"), w["booking"].id, reason="设备故障")
    (n,) = notices(db_session, kind="booking_cancelled")
    assert n.user_id == w["user"].id and n.booking_id == w["booking"].id
    assert reminders.remind_anchors(db_session) == 0  # cancelled: no reminder either


def test_failed_move_leaves_no_notice(db_session, make, session_with_anchor):
    """The notice is written in the move's transaction: a move refused (here by a clash) sends nothing."""
    w = session_with_anchor
    make.booking(w["room"], w["tenant"], starts_at=at(0, 15), ends_at=at(0, 17))
    with pytest.raises(Exception):
        update_booking(db_session, make.user("coordinator"), w["booking"].id,
                                {"starts_at": at(0, 15), "ends_at": at(0, 17)})
    db_session.rollback()
    assert notices(db_session) == []


def test_hold_expiring_goes_to_its_creator_once(db_session, make):
    """A hold made at 10:00 expires at 11:00; from 10:45 its creator is warned, once."""
    coordinator, other = make.user("coordinator"), make.user("coordinator")
    result = create_booking(db_session, coordinator, {
        "room_id": make.room().id, "tenant_id": make.tenant().id, "starts_at": at(1, 14), "ends_at": at(1, 16),
        "status": "hold"})
    hold = result.bookings[0]
    assert hold.hold_expires_at == NOW + timedelta(minutes=60)
    assert reminders.warn_expiring_holds(db_session) == 0
    clock.set_now(NOW + timedelta(minutes=44))
    assert reminders.warn_expiring_holds(db_session) == 0
    clock.set_now(NOW + timedelta(minutes=45))
    assert reminders.warn_expiring_holds(db_session) == 1
    assert reminders.warn_expiring_holds(db_session) == 0
    (n,) = notices(db_session)
    assert (n.user_id, n.kind, n.booking_id) == (coordinator.id, "hold_expiring", hold.id)
    assert other.id not in {x.user_id for x in notices(db_session)}
    clock.set_now(NOW + timedelta(minutes=60))  # expired: nothing more to warn about
    assert reminders.warn_expiring_holds(db_session) == 0


def test_hold_made_outside_the_app_warns_every_coordinator(db_session, make):
    c1, c2 = make.user("coordinator"), make.user("coordinator")
    make.user("manager")
    make.booking(starts_at=at(1, 14), status="hold", hold_expires_at=NOW + timedelta(minutes=10))
    assert reminders.warn_expiring_holds(db_session) == 2
    assert {n.user_id for n in notices(db_session)} == {c1.id, c2.id}


# ---------------------------------------------------------------------------
# Two schedulers at once (real commits, concurrent sessions)


def test_two_schedulers_at_once_send_each_notice_once(committed_app):
    """Eight sweeps at once, as if on eight schedulers: one reminder per anchor and one hold warning."""
    from tests.support.factories import Factory

    app = committed_app
    with app.app_context():
        s = app.extensions["opsroom.sessionmaker"]()
        make = Factory(s)
        room, tenant = make.room(), make.tenant()
        users = [make.user("anchor") for _ in range(3)]
        booking = make.booking(room, tenant, starts_at=at(0, 10, 30))
        for u in users:
            make.assign(booking, make.anchor(user_id=u.id))
        make.user("coordinator")
        make.booking(room, tenant, starts_at=at(1, 14), status="hold", hold_expires_at=NOW + timedelta(minutes=5))
        s.close()

    barrier = threading.Barrier(8)
    errors = []

    def scheduler():
        try:
            with app.app_context():
                session = app.extensions["opsroom.sessionmaker"]()
                barrier.wait()
                reminders.remind_anchors(session)
                reminders.warn_expiring_holds(session)
                session.close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with app.app_context():
        s = app.extensions["opsroom.sessionmaker"]()
        kinds = [n.kind for n in notices(s)]
        s.close()
    assert sorted(kinds) == ["hold_expiring", "reminder", "reminder", "reminder"]


# ---------------------------------------------------------------------------
# The inbox service


def test_mark_read_only_own(db_session, make, session_with_anchor):
    w = session_with_anchor
    reminders.remind_anchors(db_session)
    (n,) = notices(db_session)
    stranger = make.user("anchor")
    with pytest.raises(NotFound):
        notifications.mark_read(db_session, stranger, n.id)
    assert notifications.unread_count(db_session, w["user"]) == 1
    notifications.mark_read(db_session, w["user"], n.id)
    assert notifications.unread_count(db_session, w["user"]) == 0
    assert notifications.mark_all_read(db_session, w["user"]) == 0


def test_booking_deleted_keeps_the_notice(db_session, session_with_anchor):
    reminders.remind_anchors(db_session)
    db_session.execute(sa.delete(Booking).where(Booking.id == session_with_anchor["booking"].id))
    db_session.commit()
    (n,) = notices(db_session)
    assert n.booking_id is None


# ---------------------------------------------------------------------------
# The managers' morning summary


@pytest.fixture
def yesterday_and_today(make):
    """Thursday: a 2-hour session with 3 paid orders (297.00), a no-show released after
    15 minutes, and a 1-hour session in a room that takes 1 order an hour but got 2
    (load 200 %). Friday (today): one session, one cancelled."""
    tenant = make.tenant()
    room = make.room(code="A101")
    tiny = make.room(code="Z901", order_capacity_per_hour=1)
    a = make.booking(room, tenant, starts_at=at(-1, 14), ends_at=at(-1, 16), status="ended",
                     checked_in_at=at(-1, 13, 50))
    for _ in range(3):
        make.order(a)
    make.booking(room, tenant, starts_at=at(-1, 19), ends_at=at(-1, 19, 15), status="no_show")
    c = make.booking(tiny, tenant, starts_at=at(-1, 10), ends_at=at(-1, 11), status="ended",
                     checked_in_at=at(-1, 9, 55))
    make.order(c)
    make.order(c, amount_fen=2000)
    make.booking(room, tenant, starts_at=at(0, 14), ends_at=at(0, 16))
    make.booking(room, tenant, starts_at=at(0, 18), ends_at=at(0, 20), status="cancelled")
    return {"room": room, "tiny": tiny}


def test_summary_figures(db_session, yesterday_and_today):
    f = reminders.summary_figures(db_session, NOW.date())
    assert f["yesterday"] == (NOW - timedelta(days=1)).date()
    assert (f["bookings"], f["no_shows"], f["orders"], f["gmv_fen"]) == (3, 1, 5, 3 * 9900 + 9900 + 2000)
    # Each room is open 08:00–02:00: 18 bookable hours of Thursday; booked 2 h + 15 min + 1 h.
    assert f["utilization"] == pytest.approx((120 + 15 + 60) / (2 * 18 * 60))
    assert f["today_sessions"] == 1
    assert f["overloaded"] == [{"room": "Z901", "load": pytest.approx(2.0)}]


def test_summary_sent_once_to_each_manager_from_eight(app, db_session, make, yesterday_and_today):
    manager, admin = make.user("manager"), make.user("admin")
    make.user("coordinator")
    clock.set_now(at(0, 7, 59))
    assert reminders.send_daily_summary(db_session) == 0
    clock.set_now(at(0, 8, 0))
    assert reminders.send_daily_summary(db_session) == 2
    assert reminders.send_daily_summary(db_session) == 0
    rows = notices(db_session, kind="daily_summary")
    assert {n.user_id for n in rows} == {manager.id, admin.id}
    body = rows[0].body
    assert "¥416.00" in body and "Z901 (200%)" in body and "9.0%" in body
    clock.set_now(at(1, 8, 0))  # the next morning: a new summary
    assert reminders.send_daily_summary(db_session) == 2
