"""A booking's history in words: who did what, in the park's time, with names.

The audit log stores codes and ids (`{"anchors": [[], [[26, "host"]]]}`); a page
shows sentences ("添加主播 思思（主播）"). The names are looked up once per page;
each audit action has one sentence maker, and an unknown action falls back to
its label, never to the raw change dictionary.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from opsroom.labels import ACTION_LABELS, ANCHOR_ROLE_LABELS, BOOKING_STATUS_LABELS
from opsroom.models import Anchor, Booking, Product, Room
from opsroom.services import audit
from opsroom.settings import settings_of


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    who: str
    sentences: list[str]


def _when(value, tz) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(tz)


def time_span(start: datetime, end: datetime, *, with_date: bool) -> str:
    """13:30–18:30, or 11-21 13:30–18:30 when the day matters."""
    span = f"{start:%H:%M}–{end:%H:%M}"
    return f"{start:%m-%d} {span}" if with_date else span


def _old_new(value) -> list:
    """An [old, new] change, or nothing (a creation stores plain values)."""
    return list(value) if isinstance(value, (list, tuple)) and len(value) == 2 else []


class _Names:
    """Anchor, product and room names for the ids an audit log mentions."""

    def __init__(self, session: so.Session, entries) -> None:
        anchor_ids, product_ids, room_ids = set(), set(), set()
        for e in entries:
            changes = e.changes or {}
            for pairs in _old_new(changes.get("anchors")):
                anchor_ids.update(p[0] for p in pairs or [])
            for ids in _old_new(changes.get("lineup")):
                product_ids.update(ids or [])
            room_ids.update(v for v in _old_new(changes.get("room_id")) if isinstance(v, int))
        self.anchors = dict(session.execute(sa.select(Anchor.id, Anchor.name).where(Anchor.id.in_(anchor_ids))).all()) \
            if anchor_ids else {}
        self.products = dict(session.execute(sa.select(Product.id, Product.name).where(Product.id.in_(product_ids))).all()) \
            if product_ids else {}
        self.rooms = dict(session.execute(sa.select(Room.id, Room.code).where(Room.id.in_(room_ids))).all()) \
            if room_ids else {}

    def anchor(self, anchor_id) -> str:
        return self.anchors.get(anchor_id) or _("anchor #%(id)s", id=anchor_id)

    def product(self, product_id) -> str:
        return self.products.get(product_id) or _("product #%(id)s", id=product_id)

    def room(self, room_id) -> str:
        return self.rooms.get(room_id) or _("room #%(id)s", id=room_id)


def _anchor_sentences(before, after, names: _Names) -> list[str]:
    old = {a: r for a, r in before or []}
    new = {a: r for a, r in after or []}

    def who(anchor_id, role) -> str:
        return _("%(name)s (%(role)s)", name=names.anchor(anchor_id), role=ANCHOR_ROLE_LABELS.get(role, role))

    out = [_("added anchor %(who)s", who=who(a, r)) for a, r in new.items() if a not in old]
    out += [_("removed anchor %(who)s", who=who(a, r)) for a, r in old.items() if a not in new]
    out += [_("made %(name)s %(role)s", name=names.anchor(a), role=ANCHOR_ROLE_LABELS.get(r, r))
            for a, r in new.items() if a in old and old[a] != r]
    return out


def _lineup_sentences(before, after, names: _Names) -> list[str]:
    before, after = list(before or []), list(after or [])
    out = [_("added product %(name)s", name=names.product(p)) for p in after if p not in before]
    out += [_("removed product %(name)s", name=names.product(p)) for p in before if p not in after]
    if not out and before != after:
        out.append(_("reordered the lineup"))
    return out


def _change_sentences(changes: dict, names: _Names, tz) -> list[str]:
    """The fields of a booking's update or move, one sentence each (the two
    times together)."""
    out = []
    if "starts_at" in changes or "ends_at" in changes:
        # A field that did not change is not in the diff: it is the same before and after.
        start = changes.get("starts_at") or [None, None]
        end = changes.get("ends_at") or [None, None]
        old_start, new_start = (_when(v, tz) for v in start)
        old_end, new_end = (_when(v, tz) for v in end)
        if old_start and new_start and old_end and new_end:
            with_date = old_start.date() != new_start.date()
            out.append(_("changed the time from %(old)s to %(new)s",
                         old=time_span(old_start, old_end, with_date=with_date),
                         new=time_span(new_start, new_end, with_date=with_date)))
        elif new_start:
            out.append(_("changed the start from %(old)s to %(new)s", old=f"{old_start:%H:%M}", new=f"{new_start:%H:%M}"))
        elif new_end:
            out.append(_("changed the end from %(old)s to %(new)s", old=f"{old_end:%H:%M}", new=f"{new_end:%H:%M}"))
    if "room_id" in changes:
        old, new = changes["room_id"]
        out.append(_("moved it from room %(old)s to %(new)s", old=names.room(old), new=names.room(new)))
    if "title" in changes:
        old, new = changes["title"]
        out.append(_("changed the title from “%(old)s” to “%(new)s”", old=old or "—", new=new or "—"))
    if "status" in changes:
        old, new = changes["status"]
        out.append(_("changed the status from %(old)s to %(new)s",
                     old=BOOKING_STATUS_LABELS.get(old, old), new=BOOKING_STATUS_LABELS.get(new, new)))
    return out


def sentences(action: str, changes: dict, names: _Names, tz) -> list[str]:
    """What one audit entry of a booking says, in the current language."""
    if action == "created":
        start, end = _when(changes.get("starts_at"), tz), _when(changes.get("ends_at"), tz)
        if start and end:
            return [_("booked %(span)s", span=time_span(start, end, with_date=True))]
    elif action in ("updated", "moved"):
        return _change_sentences(changes, names, tz) or [str(ACTION_LABELS[action])]
    elif action == "anchors_changed":
        return _anchor_sentences(*changes.get("anchors", [[], []]), names) or [str(ACTION_LABELS[action])]
    elif action == "lineup_changed":
        return _lineup_sentences(*changes.get("lineup", [[], []]), names) or [str(ACTION_LABELS[action])]
    elif action == "cancelled":
        reason = changes.get("reason")
        return [_("cancelled the booking: %(reason)s", reason=reason) if reason else _("cancelled the booking")]
    elif action == "ended_early":
        end = _when((changes.get("ends_at") or [None, None])[1], tz)
        return [_("ended the session at %(time)s: %(reason)s", time=f"{end:%H:%M}" if end else "—",
                  reason=changes.get("reason") or "—")]
    elif action == "checked_in":
        moment = _when(changes.get("checked_in_at"), tz)
        if moment:
            return [_("checked in at %(time)s", time=f"{moment:%H:%M}")]
    elif action == "confirmed":
        return [_("confirmed the hold")]
    elif action == "orders_attributed":
        return [_("assigned %(n)s orders to this session by hand", n=changes.get("orders", 0))]
    elif action == "setup_copied":
        return [_("copied the anchors and lineup from booking #%(id)s", id=changes.get("from"))]
    return [str(ACTION_LABELS.get(action, action))]


def describe_history(session: so.Session, booking: Booking) -> list[HistoryLine]:
    """The booking's audit log as lines a person reads, oldest first."""
    entries = audit.history(session, "booking", booking.id)
    names = _Names(session, entries)
    tz = settings_of(session).tz
    return [HistoryLine(at=e.at, who=e.user.name if e.user else _("the system"),
                        sentences=sentences(e.action, e.changes or {}, names, tz)) for e in entries]
