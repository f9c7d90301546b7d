"""The zones' order on the board: rooms name their zone as text; a row of
`zones` gives a zone its sort order (a zone without a row sorts as 0)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.db import is_postgres
from opsroom.domain.numbers import MAX_ZONE_ORDER
from opsroom.models import Room, Zone
from opsroom.services import audit
from opsroom.services.errors import ValidationFailed
from opsroom.services.permissions import require
from opsroom.services.transaction import transactional


@dataclass(frozen=True)
class ZoneOrder:
    name: str
    sort_order: int
    rooms: int  # how many rooms name this zone


def list_zones(session: so.Session, user) -> list[ZoneOrder]:
    """Every zone a room names, and every zone with a row, in board order
    (sort order, then name)."""
    require(user, "rooms.read")
    counts = dict(session.execute(
        sa.select(Room.zone, sa.func.count()).where(Room.zone.is_not(None), Room.zone != "").group_by(Room.zone)).all())
    orders = dict(session.execute(sa.select(Zone.name, Zone.sort_order)).all())
    zones = [ZoneOrder(name, orders.get(name, 0), counts.get(name, 0)) for name in set(counts) | set(orders)]
    return sorted(zones, key=lambda z: (z.sort_order, z.name))


@transactional
def set_zone_orders(session: so.Session, user, orders: dict[str, int]) -> list[ZoneOrder]:
    """Give zones their place on the board. Only zones the park knows (named by
    a room or with a row) may be ordered; each order is a whole number in
    0–999. Nothing is saved unless every value is valid; changes are audited."""
    require(user, "rooms.write")
    known = {z.name: z for z in list_zones(session, user)}
    errors = []
    for name, value in orders.items():
        if name not in known:
            errors.append({"field": name, "message": _l("No room is in this zone.")})
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ZONE_ORDER:
            errors.append({"field": name, "message": _l("Enter a whole number from 0 to %(max)s.", max=MAX_ZONE_ORDER)})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    changes = {name: [known[name].sort_order, value] for name, value in orders.items()
               if value != known[name].sort_order}
    if changes:
        if is_postgres(session):
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        # An upsert: two people saving at once both land (the later value wins), never a duplicate key.
        stmt = insert(Zone).values([{"name": name, "sort_order": new} for name, (_old, new) in changes.items()])
        session.execute(stmt.on_conflict_do_update(index_elements=[Zone.name], set_={"sort_order": stmt.excluded.sort_order}))
        audit.record(session, user, "zones", 0, "reordered", changes)
    return list_zones(session, user)
