"""The inbox over the API and as a page, health, and the admin's operations page."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from config import TestConfig
from opsroom import clock, create_app, jobs
from opsroom.models import Notification
from opsroom.services.operations import reminders, scheduler
from tests.conftest import IsolatedClient, NOW, at, configure
from tests.support.pages import csrf_from


def record_run(app, job_id, error, next_run):
    """A scheduler node's record of one run of `job_id`."""
    with app.extensions["opsroom.sessionmaker"]() as session:
        scheduler.record_run(session, job_id, "test-node", error, next_run)


@pytest.fixture
def inbox(make, db_session):
    """An anchor with two reminders (10:15 and 11:00 sessions) and a token; a stranger with a token."""
    from opsroom.services.park import users

    user = make.user("anchor")
    anchor = make.anchor(user_id=user.id)
    for start in (at(0, 10, 15), at(0, 11, 0)):
        make.assign(make.booking(starts_at=start, ends_at=start + timedelta(minutes=30)), anchor)
    reminders.remind_anchors(db_session)
    stranger = make.user("coordinator")
    tokens = {u.id: users.create_token(db_session, u, "t") for u in (user, stranger)}
    db_session.commit()
    ids = db_session.scalars(sa.select(Notification.id).order_by(Notification.id)).all()
    return {"user": user, "stranger": stranger, "tokens": tokens, "ids": ids}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_api_lists_own_notifications_and_marks_them_read(client, inbox):
    me = bearer(inbox["tokens"][inbox["user"].id])
    r = client.get("/api/v1/notifications", headers=me)
    assert r.status_code == 200
    rows = r.json
    assert len(inbox["ids"]) == 2 and [n["id"] for n in rows] == sorted(inbox["ids"], reverse=True)  # newest first
    assert set(rows[0]) == {"id", "kind", "title", "body", "booking_id", "created_at", "read_at"}
    assert rows[0]["kind"] == "reminder" and rows[0]["created_at"] == NOW.isoformat() and rows[0]["read_at"] is None

    first = inbox["ids"][0]
    r = client.post(f"/api/v1/notifications/{first}/read", headers=me)
    assert r.status_code == 200 and r.json["read_at"] == NOW.isoformat()
    assert [n["id"] for n in client.get("/api/v1/notifications?unread=true", headers=me).json] == [inbox["ids"][1]]
    assert len(client.get("/api/v1/notifications?unread=false", headers=me).json) == 2
    assert client.post("/api/v1/notifications/read-all", headers=me).json == {"updated": 1}
    assert client.get("/api/v1/notifications?unread=1", headers=me).json == []


def test_api_another_users_notification_is_404(client, inbox):
    stranger = bearer(inbox["tokens"][inbox["stranger"].id])
    assert client.get("/api/v1/notifications", headers=stranger).json == []
    r = client.post(f"/api/v1/notifications/{inbox['ids'][0]}/read", headers=stranger)
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    assert client.post("/api/v1/notifications/99999999999/read", headers=stranger).status_code == 404


@pytest.mark.parametrize("query", ["unread=yes", "limit=0", "limit=abc", "unread=%00"])
def test_api_bad_query_is_422(client, inbox, query):
    r = client.get(f"/api/v1/notifications?{query}", headers=bearer(inbox["tokens"][inbox["user"].id]))
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error"


def test_api_needs_a_token(client):
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/1/read").status_code == 401


# ---------------------------------------------------------------------------
# Health


def test_health_bare_without_token(client, app):
    r = client.get("/api/v1/health")
    assert r.status_code == 200 and r.json == {"status": "degraded"}  # no scheduler has ever run
    jobs.beat(app, NOW)
    for job_id in scheduler.JOBS:
        record_run(app, job_id, None, NOW + timedelta(seconds=60))
    assert client.get("/api/v1/health").json == {"status": "ok"}


def test_health_details_for_admins_only(client, app, api):
    jobs.beat(app, NOW - timedelta(minutes=5))
    record_run(app, "sweep", None, NOW + timedelta(seconds=60))
    record_run(app, "email", "SMTPServerDisconnected: gone", NOW + timedelta(seconds=60))
    admin = api("admin").get("/health")
    assert admin.status_code == 200
    body = admin.json
    assert body["status"] == "degraded" and body["database"] == "ok"
    sched = body["scheduler"]
    assert sched["last_heartbeat"] == NOW.isoformat() and sched["stale"] is False
    by_id = {j["id"]: j for j in sched["jobs"]}
    assert set(by_id) == set(scheduler.JOBS)
    assert by_id["sweep"] == {"id": "sweep", "last_run": NOW.isoformat(), "last_error": None, "last_error_at": None,
                              "next_run": (NOW + timedelta(seconds=60)).isoformat(), "failing": False, "overdue": False}
    assert by_id["email"]["last_error"] == "SMTPServerDisconnected: gone" and by_id["email"]["failing"]
    assert "job_failing:email" in body["problems"]
    for role in ("manager", "coordinator", "anchor"):
        assert api(role).get("/health").json == {"status": "degraded"}
    r = client.get("/api/v1/health", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_health_heartbeat_goes_stale_after_two_sweeps(client, app, api):
    admin = api("admin")
    jobs.beat(app, NOW)
    for job_id in scheduler.JOBS:
        record_run(app, job_id, None, NOW + timedelta(seconds=60))
    clock.advance(timedelta(seconds=120))
    assert admin.get("/health").json["scheduler"]["stale"] is False
    clock.advance(timedelta(seconds=1))
    body = admin.get("/health").json
    assert body["status"] == "degraded" and body["scheduler"]["stale"] is True
    assert body["problems"] == ["scheduler_stale"]
    clock.advance(timedelta(seconds=60))  # and the jobs' next runs are two sweeps past
    assert "job_overdue:sweep" in admin.get("/health").json["problems"]


@pytest.mark.parametrize("url", ["sqlite:////nonexistent-dir/opsroom.sqlite3",
                                 "postgresql://nobody@127.0.0.1:1/opsroom"])
def test_health_503_when_the_database_cannot_be_reached(url):
    app = create_app(TestConfig, DATABASE_URL=url)
    app.test_client_class = IsolatedClient  # the request's state stays out of the test's context
    r = app.test_client().get("/api/v1/health")
    assert r.status_code == 503
    assert r.json["status"] == "unavailable" and r.json["error"]["code"] == "unavailable"
    app.extensions["opsroom.engine"].dispose()


# ---------------------------------------------------------------------------
# Pages


def test_inbox_page_count_in_header_mark_one_and_all(client, auth, inbox):
    assert auth.login(inbox["user"].email).status_code == 302
    page = client.get("/notifications/").get_data(as_text=True)
    assert '<span class="badge badge-count">2<span class="visually-hidden"> unread</span>' in page or \
        '<span class="badge badge-count">2<span class="visually-hidden">' in page
    token = csrf_from(page)
    # Without CSRF: refused, nothing marked.
    assert client.post(f"/notifications/{inbox['ids'][0]}/read").status_code == 400
    r = client.post(f"/notifications/{inbox['ids'][0]}/read", data={"csrf_token": token})
    assert r.status_code == 302
    page = client.get("/rooms/").get_data(as_text=True)
    assert 'badge-count">1<' in page
    # Another's notice: 404, whatever the id.
    assert client.post("/notifications/999999/read", data={"csrf_token": token}).status_code == 404
    client.post("/notifications/read-all", data={"csrf_token": token})
    assert "badge-count" not in client.get("/rooms/").get_data(as_text=True)


def test_header_count_is_one_query(app, client, auth, inbox, engine):
    """The header's count costs one query however many notices there are (no N+1)."""
    auth.login(inbox["user"].email)
    client.get("/notifications/")
    seen = []

    def count(conn, cursor, statement, *args):
        if "FROM notifications" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/rooms/")
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(seen) == 1 and "count(" in seen[0].lower()


def test_email_setting_on_the_inbox_page(app, client, auth, db_session, inbox):
    configure(app, db_session, SMTP_HOST="127.0.0.1")
    inbox["user"].locale = "en"
    db_session.commit()
    auth.login(inbox["user"].email)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Also send my notices by email" in page
    client.post("/notifications/settings", data={"csrf_token": csrf_from(page)})  # checkbox unticked
    db_session.refresh(inbox["user"])
    assert inbox["user"].email_notifications is False
    client.post("/notifications/settings", data={"csrf_token": csrf_from(page), "email": "y"})
    db_session.refresh(inbox["user"])
    assert inbox["user"].email_notifications is True


def test_admin_operations_page_shows_problems(app, client, auth, make, db_session, inbox):
    jobs.beat(app, NOW - timedelta(hours=1))
    clock.advance(timedelta(minutes=10))
    record_run(app, "email", "ConnectionRefusedError: [Errno 111] Connection refused", None)
    notice = db_session.get(Notification, inbox["ids"][0])
    notice.email_status, notice.email_attempts, notice.email_error = "failed", 5, "SMTPDataError: (451, b'later')"
    db_session.commit()
    auth.login(make.user("admin", locale="en").email)
    page = client.get("/admin/operations").get_data(as_text=True)
    assert "Heartbeat stale" in page and "Connection refused" in page and "failing" in page
    assert inbox["user"].email in page and "SMTPDataError" in page
    r = client.post(f"/admin/operations/emails/{notice.id}/retry", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302
    db_session.refresh(notice)
    assert notice.email_status == "pending"


@pytest.mark.parametrize("role", ["manager", "coordinator", "anchor"])
def test_admin_operations_page_is_for_admins(client, auth, make, role):
    auth.login(make.user(role).email)
    assert client.get("/admin/operations").status_code == 403


def test_each_job_shows_its_own_next_run(app, api):
    """The daily summary's next run is its set time (08:00
    park time, tomorrow once today's has passed), not the sweep's next tick."""
    jobs.beat(app, NOW)
    for job_id in scheduler.JOBS:
        record_run(app, job_id, None, NOW + timedelta(seconds=60))
    by_id = {j["id"]: j for j in api("admin").get("/health").json["scheduler"]["jobs"]}
    assert by_id["sweep"]["next_run"] == (NOW + timedelta(seconds=60)).isoformat()
    assert by_id["daily_summary"]["next_run"] == at(1, 8).isoformat()
    assert not by_id["daily_summary"]["overdue"]
