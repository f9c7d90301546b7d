"""Anchors (主播): profiles, calendar feed tokens, schedules, who is free."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.domain import anchor_rules
from opsroom.domain.numbers import whole_number
from opsroom.domain.intervals import Interval
from opsroom.settings import settings_of
from opsroom.models import Anchor, Assignment, Booking, LineupItem, Tenant, User
from opsroom.domain.statuses import ACTIVE_STATUSES, WORKED_STATUSES
from opsroom.services.permissions import STAFF, require
from opsroom.services import audit
from opsroom.services.errors import Forbidden, ValidationFailed, found
from opsroom.services.transaction import transactional

ANCHOR_FIELDS = ("name", "tenant_id", "user_id", "verified", "max_minutes_per_day", "min_rest_minutes", "platform_accounts",
                 "active")


def profile(anchor: Anchor) -> anchor_rules.AnchorProfile:
    return anchor_rules.AnchorProfile(anchor.verified, anchor.max_minutes_per_day, anchor.min_rest_minutes)


def anchor_of(session: so.Session, user) -> Anchor | None:
    """The anchor profile linked to a user account, if any."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return session.scalar(sa.select(Anchor).where(Anchor.user_id == user.id))


def may_see_anchor(session: so.Session, user, anchor: Anchor) -> bool:
    if user.role in STAFF:
        return True
    return user.role == "anchor" and anchor.user_id == user.id


def list_anchors(session: so.Session, user, *, tenant_id: int | None = None, active: bool | None = None) -> list[Anchor]:
    """Staff see every anchor; an anchor sees only themself."""
    require(user, "anchors.read")
    q = sa.select(Anchor).options(so.joinedload(Anchor.user), so.joinedload(Anchor.tenant)).order_by(Anchor.name)
    if user.role == "anchor":
        q = q.where(Anchor.user_id == user.id)
    if tenant_id is not None:
        q = q.where(Anchor.tenant_id == tenant_id)
    if active is not None:
        q = q.where(Anchor.active == active)
    return list(session.scalars(q))


def get_anchor(session: so.Session, user, anchor_id: int) -> Anchor:
    require(user, "anchors.read")
    anchor = found(session.get(Anchor, anchor_id), _l("No such anchor."))
    if not may_see_anchor(session, user, anchor):
        raise Forbidden(_l("You may only see your own profile."))
    return anchor


def _resolve(session: so.Session, anchor: Anchor, data: dict) -> dict:
    """Check references: tenant exists; user_email names an anchor-role user not linked elsewhere."""
    errors, out = [], {k: v for k, v in data.items() if k in ANCHOR_FIELDS}
    if data.get("tenant_id") is not None and session.get(Tenant, data["tenant_id"]) is None:
        errors.append({"field": "tenant_id", "message": _l("No such tenant.")})
    if "user_email" in data:
        email = (data["user_email"] or "").strip().lower()
        if not email:
            out["user_id"] = None
        else:
            user = session.scalar(sa.select(User).where(User.email == email))
            if user is None or user.role != "anchor":
                errors.append({"field": "user_email", "message": _l("No user with the anchor role has this email.")})
            elif session.scalar(sa.select(Anchor.id).where(Anchor.user_id == user.id, Anchor.id != (anchor.id or 0))):
                errors.append({"field": "user_email", "message": _l("This user is linked to another anchor.")})
            else:
                out["user_id"] = user.id
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    return out


@transactional
def create_anchor(session: so.Session, user, data: dict) -> Anchor:
    """Create an anchor profile, optionally linked to an anchor-role user."""
    require(user, "anchors.write")
    anchor = Anchor(platform_accounts={})
    for key, value in _resolve(session, anchor, data).items():
        setattr(anchor, key, value)
    audit.add_created(session, user, "anchor", anchor, ANCHOR_FIELDS)
    return anchor


@transactional
def update_anchor(session: so.Session, user, anchor_id: int, data: dict) -> Anchor:
    require(user, "anchors.write")
    anchor = get_anchor(session, user, anchor_id)
    audit.apply_update(session, user, "anchor", anchor, ANCHOR_FIELDS, _resolve(session, anchor, data))
    return anchor


# ---------------------------------------------------------------------------
# Calendar feed tokens: derived with HMAC, never stored; reset by a version bump.


def _mac(session: so.Session, anchor: Anchor) -> str:
    key = settings_of(session).secret_key.encode()
    digest = hmac.new(key, f"anchor-feed:{anchor.id}:{anchor.feed_version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def feed_token(session: so.Session, anchor: Anchor) -> str:
    return f"{anchor.id}.{_mac(session, anchor)}"


def anchor_for_feed(session: so.Session, token: str) -> Anchor | None:
    """The anchor a feed token belongs to, or None for an unknown or reset token."""
    anchor_id, _, mac = (token or "").partition(".")
    number = whole_number(anchor_id)
    if number is None or not mac:
        return None
    anchor = session.get(Anchor, number)
    if anchor is None or not anchor.active or not hmac.compare_digest(mac, _mac(session, anchor)):
        return None
    return anchor


@transactional
def reset_feed(session: so.Session, user, anchor_id: int) -> Anchor:
    """Invalidate the old feed URL; the anchor themself or staff may."""
    anchor = get_anchor(session, user, anchor_id)
    anchor.feed_version += 1
    audit.record(session, user, "anchor", anchor.id, "feed_reset", {})
    return anchor


# ---------------------------------------------------------------------------
# Schedules


def schedule(session: so.Session, user, anchor_id: int, start: datetime, end: datetime, *,
             include_cancelled: bool = True) -> list[tuple[Booking, Assignment]]:
    """The anchor's sessions overlapping [start, end), with their role; an
    anchor user may read only their own."""
    anchor = get_anchor(session, user, anchor_id)
    return sessions_of(session, anchor.id, start, end, include_cancelled=include_cancelled)


def sessions_of(session: so.Session, anchor_id: int, start: datetime, end: datetime, *,
                include_cancelled: bool = True) -> list[tuple[Booking, Assignment]]:
    q = (
        sa.select(Booking, Assignment)
        .join(Assignment, Assignment.booking_id == Booking.id)
        .where(Assignment.anchor_id == anchor_id, Booking.starts_at < end, Booking.ends_at > start)
        .options(
            so.joinedload(Booking.room), so.joinedload(Booking.tenant),
            so.selectinload(Booking.assignments).joinedload(Assignment.anchor),
            so.selectinload(Booking.lineup).joinedload(LineupItem.product),
        )
        .order_by(Booking.starts_at)
    )
    if not include_cancelled:
        q = q.where(Booking.status != "cancelled")
    return [(b, a) for b, a in session.execute(q).unique().all()]


def _busy(session: so.Session, anchor_ids: list[int], window: Interval,
          exclude_booking: int | None) -> dict[int, list[tuple[Interval, int, str]]]:
    """Worked sessions of the anchors near `window`: {anchor_id: [(interval, booking_id, status)]}."""
    q = (
        sa.select(Assignment.anchor_id, Booking.id, Booking.starts_at, Booking.ends_at, Booking.status)
        .join(Booking, Booking.id == Assignment.booking_id)
        .where(Assignment.anchor_id.in_(anchor_ids), Booking.status.in_(WORKED_STATUSES),
               Booking.starts_at < window.end, Booking.ends_at > window.start)
    )
    if exclude_booking is not None:
        q = q.where(Booking.id != exclude_booking)
    out: dict[int, list[tuple[Interval, int, str]]] = {a: [] for a in anchor_ids}
    for anchor_id, booking_id, s, e, status in session.execute(q):
        out[anchor_id].append((Interval(s, e), booking_id, status))
    return out


def evaluate(session: so.Session, anchors: list[tuple[Anchor, str]], candidate: Interval,
             exclude_booking: int | None = None) -> tuple[list[dict], list[dict]]:
    """Clashes (409) and rule breaches (422) of putting each (anchor, role) in
    a session over `candidate`. Only active sessions clash; ended ones still
    count towards the day and the rest."""
    from opsroom.labels import rule_message

    tz = settings_of(session).tz
    # A local day either side covers the daily limit and any rest period.
    window = Interval(candidate.start - timedelta(days=1), candidate.end + timedelta(days=1))
    busy = _busy(session, [a.id for a, _ in anchors], window, exclude_booking)
    clashes, breaches = [], []
    for anchor, role in anchors:
        rows = busy[anchor.id]
        for i in anchor_rules.clashes(candidate, [iv for iv, *_ in rows]):
            iv, booking_id, status = rows[i]
            if status in ACTIVE_STATUSES:
                clashes.append({"kind": "anchor", "anchor_id": anchor.id, "booking_id": booking_id,
                                "starts_at": iv.start.astimezone(tz).isoformat(),
                                "ends_at": iv.end.astimezone(tz).isoformat()})
        for b in anchor_rules.breaches(candidate, [iv for iv, *_ in rows], profile=profile(anchor), role=role, tz=tz):
            breaches.append({"rule": b.code, "field": "anchors", "anchor_id": anchor.id,
                             "message": f"{anchor.name}: " + rule_message(b.code, **b.params)})
    return clashes, breaches


def free_anchors(session: so.Session, user, starts_at: datetime, ends_at: datetime, *, role: str = "host",
                 tenant_id: int | None = None) -> list[Anchor]:
    """Active anchors who could take a session over [starts_at, ends_at) in
    `role`: no clash, within their daily limit and rest, verified for a host.
    With a tenant, its own anchors and the park's MCN."""
    require(user, "bookings.write")
    q = sa.select(Anchor).where(Anchor.active.is_(True)).order_by(Anchor.name)
    if tenant_id is not None:
        q = q.where(sa.or_(Anchor.tenant_id == tenant_id, Anchor.tenant_id.is_(None)))
    anchors = list(session.scalars(q))
    if not anchors:
        return []
    candidate = Interval(starts_at, ends_at)
    tz = settings_of(session).tz
    window = Interval(starts_at - timedelta(days=1), ends_at + timedelta(days=1))
    busy = _busy(session, [a.id for a in anchors], window, None)
    free = []
    for anchor in anchors:
        rows = [iv for iv, *_ in busy[anchor.id]]
        if anchor_rules.clashes(candidate, rows):
            continue
        if anchor_rules.breaches(candidate, rows, profile=profile(anchor), role=role, tz=tz):
            continue
        free.append(anchor)
    return free
