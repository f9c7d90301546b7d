"""Why a request occurrence was left out, in words a coordinator can act on:
the rule that forbids it, or what holds its time (the solver gives the code,
its parameters and the blocking requests, bookings, blackouts and anchors)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

CODES = ("open_hours", "blackout", "taken", "anchor_busy", "anchor_rest", "anchor_daily_limit", "anchor_unverified",
         "anchor_unknown", "quota", "tenant_status", "no_room", "duration", "granularity", "window", "free")


def _ids(blocking: list[dict], kind: str) -> str:
    return ", ".join(f"#{b['id']}" for b in blocking if b["kind"] == kind)


def message(code: str, params: dict[str, Any], blocking: list[dict]) -> str:
    """The reason in the reader's language."""
    p = dict(params or {})
    if code == "open_hours":
        return _("The rooms are closed in its window (open %(open)s–%(close)s).", open=p.get("open", ""),
                 close=p.get("close", ""))
    if code == "blackout":
        return _("A blackout covers its window (blackout %(ids)s).", ids=_ids(blocking, "blackout") or "—")
    if code == "taken":
        parts = []
        if _ids(blocking, "request"):
            parts.append(_("requests %(ids)s", ids=_ids(blocking, "request")))
        if _ids(blocking, "booking"):
            parts.append(_("bookings %(ids)s", ids=_ids(blocking, "booking")))
        return _("Its time is taken by %(what)s.", what="; ".join(parts) or "—")
    if code == "anchor_busy":
        return _("Anchor #%(anchor)s is on another session then (%(what)s).", anchor=p.get("anchor_id"),
                 what=", ".join(f"{b['kind']} #{b['id']}" for b in blocking if b["kind"] != "anchor") or "—")
    if code == "anchor_rest":
        return _("Anchor #%(anchor)s would not get the %(minutes)s minutes of rest between sessions.",
                 anchor=p.get("anchor_id"), minutes=p.get("minutes"))
    if code == "anchor_daily_limit":
        return _("Anchor #%(anchor)s would pass the daily limit of %(minutes)s minutes on %(date)s.",
                 anchor=p.get("anchor_id"), minutes=p.get("minutes"), date=p.get("date", ""))
    if code == "anchor_unverified":
        return _("Host #%(anchor)s is not real-name verified.", anchor=p.get("anchor_id"))
    if code == "anchor_unknown":
        return _("Anchor #%(anchor)s does not exist or is inactive.", anchor=p.get("anchor_id"))
    if code == "quota":
        return _("The tenant's prime-time quota of %(hours)s hours in week %(week)s is used up.",
                 hours=p.get("hours"), week=p.get("week", ""))
    if code == "tenant_status":
        return _("The tenant may not book (status: %(status)s).", status=p.get("status", ""))
    if code == "no_room":
        return _("No active room matches the request's room, kind or zone.")
    if code == "duration":
        return _("No matching room allows sessions of %(minutes)s minutes.", minutes=p.get("minutes", ""))
    if code == "granularity":
        return _("The duration is not a multiple of %(minutes)s minutes.", minutes=p.get("minutes", ""))
    if code == "window":
        return _("The session does not fit its window.")
    return _("Not placed: a better plan used its time.")
