"""The same 抖店 refund message pushed by eight clients at once (real commits,
separate connections, a barrier): it is stored once and applied once, and every
push is answered as accepted (no 409 that would make 抖店 push it yet again);
both engines."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from opsroom.domain.integrations.doudian import parse_push
from opsroom.models import DoudianMessage, Order
from opsroom.services.sales import push
from tests.conftest import at
from tests.support.live import at_once, query
from tests.support.races import arrange

pytestmark = pytest.mark.live
BODY = ('[{"tag":"206","msg_id":"race-206","data":"{\\"p_id\\":\\"1\\",\\"s_id\\":\\"RACE-PUSH-1\\",'
        '\\"refund_amount\\":3000,\\"aftersale_status\\":12}"}]')


def test_one_message_pushed_at_once_is_applied_once(committed_app):
    arranged = arrange(committed_app, email="push-race@test.example", room_code="RACE-P",
                       booking=(at(0, 8), at(0, 10)))
    query(committed_app, lambda s: (s.add(Order(platform="douyin", external_id="RACE-PUSH-1", amount_fen=9900,
                                                status="paid", ordered_at=at(0, 8, 30),
                                                booking_id=arranged.booking_id, attributed_by="booking")),
                                    s.commit()))
    results = at_once(committed_app, arranged.user_id, list(range(8)),
                      lambda session, user, i: push.receive(session, parse_push(BODY)))
    assert sorted(r["stored"] for r in results) == [0] * 7 + [1]
    assert sum(r["duplicates"] for r in results) == 7
    order = query(committed_app, lambda s: s.scalar(sa.select(Order).where(Order.external_id == "RACE-PUSH-1")))
    assert (order.status, order.refund_fen) == ("refunded", 3000)
    assert query(committed_app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(DoudianMessage))) == 1
