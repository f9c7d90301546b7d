"""The weekly prime-time quota (services/requests/core.quota_breaches): each week
the new sessions touch counts the tenant's booked prime time of that week only,
and every week is read in one query, however long the series."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from opsroom.domain.intervals import Interval
from opsroom.services.requests import core
from tests.conftest import at

PRIME_2H = 120  # 19:00–21:00 lies inside the default prime time (19:00–24:00)


def weekly(weeks: int, first_day: int = 3) -> list[Interval]:
    return [Interval(at(first_day + 7 * w, 19), at(first_day + 7 * w, 21)) for w in range(weeks)]


def test_a_full_week_late_in_a_year_long_series_breaks_the_quota(make, db_session):
    """Quota 3 h a week: a year of weekly 2 h sessions fits, unless one week of
    it already holds 2 h (2 + 2 > 3), even the 50th; bookings cancelled, or
    in a week the series does not touch, count nothing."""
    tenant = make.tenant(prime_quota_hours_per_week=3)
    room = make.room()
    slots = weekly(52)
    make.booking(room, tenant, starts_at=at(4 + 7 * 60, 19))  # 2 h, a week after the series
    make.booking(room, tenant, starts_at=at(4 + 7 * 49, 19), status="cancelled")
    assert core.quota_breaches(db_session, tenant, slots) == []
    make.booking(room, tenant, starts_at=at(4 + 7 * 49, 19))  # 2 h in the series' 50th week
    (breach,) = core.quota_breaches(db_session, tenant, slots)
    assert breach["rule"] == "prime_quota" and breach["field"] == "tenant_id"
    assert core.quota_breaches(db_session, tenant, slots[:49]) == []  # weeks 1–49 are free
    assert core.quota_breaches(db_session, make.tenant(), slots) == []  # no quota, nothing to count


def test_every_week_is_read_in_one_query(make, db_session, engine):
    tenant = make.tenant(prime_quota_hours_per_week=40)
    room = make.room()
    for w in range(0, 52, 5):
        make.booking(room, tenant, starts_at=at(5 + 7 * w, 19))
    statements: list[str] = []

    def count(*args):
        if args[2].lstrip().upper().startswith("SELECT"):  # not the test session's savepoints
            statements.append(args[2])

    def read(slots):
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert core.quota_breaches(db_session, tenant, slots) == []
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    assert read(weekly(52)) == read(weekly(2)) == 1, statements
