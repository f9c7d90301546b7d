"""Random months from the database, planned and accepted whole (docs/planner.md):
every placed session is then checked, rule by rule, by the same services that
guard a single booking (the bookings' create service: hours, duration, blackouts,
clashes with the changeover, anchors' clashes, rest and daily limits, the tenant's
status), so acceptance must book all of it with no conflict; the tenant's weekly
prime quota (a requests rule, not a bookings one) is checked on the bookings made;
and every request left out carries a reason that names its rule or what holds its
time, in words."""
from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from opsroom import clock
from opsroom.models import Booking, BookingRequest, Plan
from opsroom.services.planning import accept, runs
from opsroom.services.planning.reasons import CODES, message
from tests.conftest import TZ

RULE_CODES = set(CODES) - {"free"}


def _month(make, rng: random.Random):
    rooms = [make.room(code=f"RR{i}", kind=rng.choice(["服装", "美妆"]), open_time=time(rng.choice([8, 10, 18])),
                       close_time=time(rng.choice([0, 1, 2, 23])), changeover_minutes=rng.choice([0, 15, 30]),
                       min_minutes=60, max_minutes=rng.choice([180, 240, 720])) for i in range(3)]
    # Tenant 0 always has a quota, so the quota check below always checks someone.
    tenants = [make.tenant(name=f"随机{i}", priority=rng.choice([1, 2, 3]),
                           prime_quota_hours_per_week=4 if rng.choice([None, None, 4]) or i == 0 else None,
                           status="suspended" if i == 3 else "active") for i in range(4)]
    anchors = [make.anchor(verified=i != 2, max_minutes_per_day=rng.choice([180, 240]), min_rest_minutes=60,
                           tenant_id=None) for i in range(3)]
    for room in rooms:
        for _ in range(3):
            day = rng.randint(1, 14)
            start = datetime(2026, 12, day, rng.choice([19, 20, 21]), tzinfo=TZ)
            if rng.random() < 0.5:
                make.blackout(room, starts_at=start, ends_at=start + timedelta(hours=2))
            else:
                b = make.booking(room, rng.choice(tenants[:3]), starts_at=start, ends_at=start + timedelta(hours=2))
                if rng.random() < 0.5:
                    make.assign(b, rng.choice(anchors[:2]))
    for _ in range(14):
        tenant = rng.choice(tenants)
        s = rng.choice([18, 19, 20, 21])
        window = (time(s), time((s + rng.choice([3, 4, 5])) % 24))
        minutes = rng.choice([60, 120, 180])
        where = {"room_id": rng.choice(rooms).id} if rng.random() < 0.4 else {"room_kind": rng.choice(["服装", "美妆"])}
        rule = {"freq": "weekly", "count": rng.choice([2, 3])} if rng.random() < 0.4 else None
        want = [{"anchor_id": rng.choice(anchors).id, "role": "host"}] if rng.random() < 0.5 else []
        make._save(BookingRequest(tenant_id=tenant.id, status="pending", date=date(2026, 12, rng.randint(1, 14)),
                                  window_start=window[0], window_end=window[1], minutes=minutes, recurrence=rule,
                                  anchors=want, note="", created_at=clock.now(), **where))
    return tenants


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_months_accept_whole_without_a_conflict(app, make, db_session, seed):
    tenants = _month(make, random.Random(seed))
    coordinator = make.user("coordinator")
    plan = runs.start(db_session, coordinator, date(2026, 12, 1), time_limit_seconds=5)
    db_session.commit()
    assert runs.execute(app.extensions["opsroom.sessionmaker"], plan.id, "random") == "done"
    db_session.expire_all()
    plan = db_session.get(Plan, plan.id)
    draft = plan.result
    assert draft["placed"], "a month with nothing placed tests nothing"
    for u in draft["unplaced"]:
        assert u["code"] in RULE_CODES, u
        assert message(u["code"], u["params"], u["blocking"])
        if u["code"] in ("taken", "anchor_busy"):
            assert u["blocking"], u  # names the requests or bookings that hold its time

    before = db_session.scalar(sa.select(sa.func.count()).select_from(Booking))
    out = accept.accept(db_session, coordinator, plan.id)
    assert out["conflicts"] == [] and out["created"] == len(draft["placed"])
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Booking)) == before + out["created"]
    # The weekly prime quota (19:00–24:00), counting what the tenant had booked before.
    for tenant in tenants:
        if tenant.prime_quota_hours_per_week is None:
            continue
        weeks = Counter()
        for b in db_session.scalars(sa.select(Booking).where(Booking.tenant_id == tenant.id)):
            start, end = b.starts_at.astimezone(TZ), b.ends_at.astimezone(TZ)
            prime_start = start.replace(hour=19, minute=0)
            prime = max(timedelta(0), min(end, prime_start + timedelta(hours=5)) - max(start, prime_start))
            weeks[start.isocalendar()[:2]] += prime.total_seconds() / 60
        assert all(m <= tenant.prime_quota_hours_per_week * 60 for m in weeks.values()), weeks
