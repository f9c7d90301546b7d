"""Two managers saving the zones' order at the same moment (real commits,
separate connections, both engines): both saves land, one value per zone
(the later wins), and neither gets a duplicate-key error, though the zone had
no row before."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from opsroom.db import intent
from opsroom.models import User, Zone
from opsroom.services.park import zones
from tests.support.live import at_once
from tests.support.races import arrange

pytestmark = pytest.mark.live


def test_two_managers_ordering_a_new_zone_at_once_both_succeed(committed_app):
    ids = arrange(committed_app)  # its room is in zone "z", which has no row yet
    with committed_app.app_context(), intent(write=True):
        session = committed_app.extensions["opsroom.sessionmaker"]()
        try:
            session.get(User, ids.user_id).role = "manager"
            session.commit()
        finally:
            session.close()

    def save(session, user, value):
        return [z.sort_order for z in zones.set_zone_orders(session, user, {"z": value})]

    results = at_once(committed_app, ids.user_id, [3, 7], save, timeout=30)
    assert sorted(r[0] for r in results) == [3, 7]
    with committed_app.app_context():
        session = committed_app.extensions["opsroom.sessionmaker"]()
        try:
            assert session.execute(sa.select(Zone.name, Zone.sort_order)).all() in ([("z", 3)], [("z", 7)])
        finally:
            session.close()
