"""The audit log: who changed what, old → new."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.models import AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def snapshot(obj, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """{field: [old, new]} for the fields that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def record(session: so.Session, user, entity: str, entity_id: int, action: str, changes: dict | None = None) -> None:
    session.add(
        AuditEntry(
            at=clock.now(),
            user_id=getattr(user, "id", None),
            entity=entity,
            entity_id=entity_id,
            action=action,
            changes=changes or {},
        )
    )


def add_created(session: so.Session, user, entity: str, obj, fields: tuple[str, ...]) -> None:
    """Add a new `obj` and log its creation with the allowed `fields` it was made with."""
    session.add(obj)
    session.flush()
    record(session, user, entity, obj.id, "created", snapshot(obj, fields))


def apply_update(session: so.Session, user, entity: str, obj, fields: tuple[str, ...], data: dict[str, Any]) -> dict:
    """Set the allowed `fields` of `obj` from `data` and log what changed, old → new."""
    before = snapshot(obj, fields)
    for key, value in data.items():
        if key in fields:
            setattr(obj, key, value)
    changes = diff(before, snapshot(obj, fields))
    if changes:
        record(session, user, entity, obj.id, "updated", changes)
    return changes


def history(session: so.Session, entity: str, entity_id: int) -> list[AuditEntry]:
    return session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .options(so.joinedload(AuditEntry.user))
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
