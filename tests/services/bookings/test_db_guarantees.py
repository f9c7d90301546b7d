"""The database itself refuses overlapping active bookings, even when a row is
written behind the service layer's back (PostgreSQL exclusion constraint,
SQLite triggers)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from opsroom.models import Booking
from tests.conftest import at


def raw_booking(room, tenant, start, end, status="confirmed", changeover=None):
    changeover = room.changeover_minutes if changeover is None else changeover
    return Booking(room_id=room.id, tenant_id=tenant.id, starts_at=start, ends_at=end,
                   occupied_until=end + timedelta(minutes=changeover), status=status)


def test_overlapping_insert_is_refused_by_the_database(make, db_session):
    room, tenant = make.room(changeover_minutes=30), make.tenant()
    make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    db_session.add(raw_booking(room, tenant, at(1, 16), at(1, 17)))  # inside the changeover
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_overlapping_raw_sql_insert_is_refused(make, db_session):
    """Even plain SQL (no ORM, no service) cannot double-book."""
    room, tenant = make.room(), make.tenant()
    make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    table = Booking.__table__
    with pytest.raises(IntegrityError):
        db_session.execute(table.insert().values(
            room_id=room.id, tenant_id=tenant.id, title="", starts_at=at(1, 15), ends_at=at(1, 17),
            occupied_until=at(1, 17), status="confirmed", cancel_reason="", created_at=at(0, 9)))
    db_session.rollback()


def test_moving_onto_another_booking_is_refused(make, db_session):
    room, tenant = make.room(), make.tenant()
    make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    other = make.booking(room, tenant, starts_at=at(1, 18), ends_at=at(1, 20))
    other.starts_at, other.ends_at, other.occupied_until = at(1, 15), at(1, 17), at(1, 17, 30)
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_reactivating_a_cancelled_booking_over_another_is_refused(make, db_session):
    room, tenant = make.room(), make.tenant()
    make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    cancelled = make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16), status="cancelled")
    cancelled.status = "confirmed"
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


@pytest.mark.parametrize("status", ["cancelled", "ended", "no_show"])
def test_inactive_bookings_do_not_block(make, db_session, status):
    room, tenant = make.room(), make.tenant()
    make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16), status=status)
    make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 2


def test_touching_occupied_ranges_are_allowed(make, db_session):
    room, tenant = make.room(changeover_minutes=30), make.tenant()
    make.booking(room, tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    make.booking(room, tenant, starts_at=at(1, 16, 30), ends_at=at(1, 18))
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 2


def test_other_rooms_are_independent(make, db_session):
    tenant = make.tenant()
    make.booking(make.room(), tenant, starts_at=at(1, 14), ends_at=at(1, 16))
    make.booking(make.room(), tenant, starts_at=at(1, 14), ends_at=at(1, 16))


def test_naive_datetime_is_refused_on_write(make, db_session):
    """The UTC column type refuses naive datetimes instead of guessing a zone."""
    room, tenant = make.room(), make.tenant()
    db_session.add(raw_booking(room, tenant, at(1, 14).replace(tzinfo=None), at(1, 16)))
    with pytest.raises(Exception, match="naive"):
        db_session.flush()
    db_session.rollback()


def test_instants_read_back_as_aware_utc(make, db_session):
    b = make.booking(starts_at=at(1, 14), ends_at=at(1, 16))
    db_session.expire_all()
    fresh = db_session.get(Booking, b.id)
    assert fresh.starts_at.utcoffset() == timedelta(0)
    assert fresh.starts_at == at(1, 14)
