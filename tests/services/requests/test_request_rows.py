"""The request pages' rows (services/requests/core.with_fits): one rule for when a
request shows what fits now (pending or waiting; an offered one shows its offer),
the same places the one-request search finds, and a constant number of queries
however many requests the queue holds."""
from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from opsroom import clock
from opsroom.models import BookingRequest
from opsroom.services.requests import core
from tests.conftest import NOW, at


def ask(make, tenant, *, day: int = 1, start: str = "19:00", end: str = "23:00", minutes: int = 120,
        status: str = "pending", **kw) -> BookingRequest:
    return make._save(BookingRequest(
        tenant_id=tenant.id, status=status, date=(NOW + timedelta(days=day)).date(),
        window_start=time.fromisoformat(start), window_end=time.fromisoformat(end), minutes=minutes, anchors=[],
        note="", created_at=clock.now() - timedelta(hours=5), **kw))


class Statements:
    def __init__(self, engine):
        self.engine, self.n = engine, 0

    def __call__(self, *args):
        self.n += 1

    def count(self, fn):
        sa.event.listen(self.engine, "before_cursor_execute", self)
        try:
            self.n = 0
            result = fn()
        finally:
            sa.event.remove(self.engine, "before_cursor_execute", self)
        return self.n, result


def test_only_pending_and_waiting_requests_show_what_fits(make, db_session):
    """Both pages read the same rule: a pending and a waiting request get their
    places; an offered one (and a decided one) none, though a room is free."""
    make.room(code="F1", kind="服装", zone="服装区")
    tenant = make.tenant()
    held = make.booking(make.room(code="F2", kind="珠宝"), tenant, starts_at=at(5, 19), status="hold",
                        hold_expires_at=NOW + timedelta(hours=1))
    offer = dict(offer_booking_id=held.id, offered_at=NOW, offer_expires_at=NOW + timedelta(hours=1))
    reqs = {s: ask(make, tenant, status=s, **(offer if s == "offered" else {}))
            for s in ("pending", "waiting", "offered", "rejected")}
    rows = {row["req"].status: row for row in core.with_fits(db_session, list(reqs.values()))}
    assert rows["pending"]["fits"] and rows["waiting"]["fits"]
    assert rows["offered"]["fits"] == [] and rows["rejected"]["fits"] == []
    assert rows["pending"]["age_hours"] == 5
    coordinator = make.user("coordinator")
    queue = {row["req"].id: row for row in core.queue_rows(db_session, coordinator)}
    assert set(queue) == {reqs[s].id for s in ("pending", "waiting", "offered")}
    assert len(queue[reqs["pending"].id]["fits"]) == 1 and queue[reqs["offered"].id]["fits"] == []


def test_the_batch_finds_what_the_one_request_search_finds(make, db_session):
    """Requests for a room, a kind, a zone, days with a booking, a blackout, a
    room closed, a duration no room allows: per request, the same places as
    `fits` (the search the approval uses)."""
    a = make.room(code="A1", kind="服装", zone="服装区", changeover_minutes=30)
    b = make.room(code="B1", kind="美妆", zone="美妆区", changeover_minutes=15)
    make.room(code="C1", kind="美妆", zone="美妆区", open_time=time(9), close_time=time(18))
    make.room(code="D1", kind="美妆", zone="美妆区", active=False)
    tenant = make.tenant()
    make.booking(a, tenant, starts_at=at(1, 19), ends_at=at(1, 21))
    make.booking(b, tenant, starts_at=at(2, 20), ends_at=at(2, 22), status="hold", hold_expires_at=at(0, 9))
    make.booking(b, tenant, starts_at=at(3, 18), ends_at=at(3, 20))
    make.blackout(b, starts_at=at(1, 19), ends_at=at(1, 22))
    reqs = [ask(make, tenant, room_id=a.id, end="23:30"), ask(make, tenant, room_kind="美妆", day=4, start="10:00"),
            ask(make, tenant, zone="美妆区", day=2), ask(make, tenant, zone="美妆区", day=3, start="10:00"),
            ask(make, tenant, room_kind="服装", minutes=800, end="23:50", start="08:00"),
            ask(make, tenant, day=1, start="00:00", end="23:59", minutes=60),
            ask(make, tenant, room_id=a.id, day=9, recurrence={"freq": "weekly", "count": 3})]
    batch = core.fits_now(db_session, reqs, limit=50)
    for req in reqs:
        assert batch[req.id] == core.fits(db_session, req, limit=50), req.id
    assert batch[reqs[4].id] == [] and batch[reqs[1].id]
    assert [p.slot.start for p in batch[reqs[0].id]] == [at(1, 21, 30)]  # after the booking's changeover
    assert {p.room.code for p in batch[reqs[1].id]} == {"B1", "C1"}


def test_the_queue_reads_its_fits_in_the_same_queries_for_one_request_or_many(make, db_session, engine):
    """The queue's fits come from three queries (rooms, bookings, blackouts),
    not a search per queued request."""
    tenant = make.tenant()
    rooms = [make.room(code=f"Q{i}") for i in range(3)]
    for i, room in enumerate(rooms):
        make.booking(room, tenant, starts_at=at(1 + i, 19), ends_at=at(1 + i, 21))
        make.blackout(room, starts_at=at(2 + i, 8), ends_at=at(2 + i, 10))
    coordinator = make.user("coordinator")
    counter = Statements(engine)
    ask(make, tenant, room_id=rooms[0].id, end="23:59")
    one, rows = counter.count(lambda: core.queue_rows(db_session, coordinator))
    assert len(rows) == 1 and rows[0]["fits"]
    for i in range(8):
        ask(make, tenant, day=1 + i % 4, end="23:59", room_id=rooms[i % 3].id if i % 2 else None,
            status=("pending", "waiting")[i % 2])
    many, rows = counter.count(lambda: core.queue_rows(db_session, coordinator))
    assert len(rows) == 9 and all(row["fits"] for row in rows)
    assert many == one, (one, many)
