"""Translatable labels for stored codes (statuses, roles, rule codes)."""
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "manager": _l("Manager"),
    "coordinator": _l("Coordinator"),
    "anchor": _l("Anchor"),
    "tenant": _l("Tenant account"),
}

REQUEST_STATUS_LABELS = {
    "pending": _l("pending"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "withdrawn": _l("withdrawn"),
    "waiting": _l("waiting"),
    "offered": _l("offered"),
    "lapsed": _l("lapsed"),
}

PLAN_STATUS_LABELS = {
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
    "cancelled": _l("stopped"),
}

TENANT_STATUS_LABELS = {
    "active": _l("active"),
    "suspended": _l("suspended"),
    "blacklisted": _l("blacklisted"),
}

ANCHOR_ROLE_LABELS = {
    "host": _l("host"),
    "assistant": _l("assistant"),
    "controller": _l("controller"),
}

BOOKING_STATUS_LABELS = {
    "hold": _l("hold"),
    "confirmed": _l("confirmed"),
    "live": _l("live"),
    "ended": _l("ended"),
    "cancelled": _l("cancelled"),
    "no_show": _l("no-show"),
}

ACTION_LABELS = {
    "created": _l("created"),
    "updated": _l("changed"),
    "moved": _l("moved"),
    "confirmed": _l("confirmed"),
    "cancelled": _l("cancelled"),
    "checked_in": _l("checked in"),
    "ended_early": _l("ended early"),
    "orders_attributed": _l("orders assigned"),
    "expired": _l("hold expired"),
    "no_show": _l("marked no-show"),
    "anchors_changed": _l("anchors changed"),
    "lineup_changed": _l("lineup changed"),
    "setup_copied": _l("anchors and lineup copied"),
    "feed_reset": _l("calendar link reset"),
    "catalogue_imported": _l("catalogue imported"),
    "blackout_added": _l("blackout added"),
    "blackout_removed": _l("blackout removed"),
}

# The scheduler's jobs (services/operations/scheduler.JOBS), as the operations page names them.
JOB_LABELS = {
    "sweep": _l("Bookings sweep (holds, no-shows, sessions)"),
    "anchor_reminders": _l("Anchor reminders"),
    "hold_warnings": _l("Expiring hold warnings"),
    "daily_summary": _l("Daily summary"),
    "email": _l("Email sending"),
    "report_rollups": _l("Report rollups"),
    "sales_quarters": _l("Sales quarter-hours"),
}

CANCEL_REASON_LABELS = {
    "hold_expired": _l("the hold expired"),
}

# Rule codes → message templates; params come from the rule (domain Breach).
RULE_MESSAGES = {
    "end_before_start": _l("The end must be after the start."),
    "granularity": _l("Times must fall on %(minutes)s-minute steps."),
    "min_duration": _l("This room takes bookings of at least %(minutes)s minutes."),
    "max_duration": _l("This room takes bookings of at most %(minutes)s minutes."),
    "open_hours": _l("The room is open from %(open)s to %(close)s."),
    "past": _l("A booking cannot start in the past."),
    "tenant_status": _l("This tenant is suspended or blacklisted and cannot book."),
    "room_inactive": _l("This room is not bookable at the moment."),
    "status": _l("A booking in this status cannot be changed."),
    "hold_expired": _l("The hold has expired; book again."),
    "checkin_window": _l("Check-in opens %(minutes)s minutes before the start and closes at the end."),
    "anchor_unverified": _l("A host must be real-name verified."),
    "anchor_daily_limit": _l("This would exceed the anchor's %(minutes)s minutes on %(date)s."),
    "anchor_rest": _l("The anchor needs %(minutes)s minutes of rest between sessions."),
    "product_tenant": _l("Only the booking tenant's products can be in the lineup."),
    "planned_times": _l("Planned times must lie inside the session."),
    "freq": _l("Choose daily or weekly."),
    "interval": _l("The interval must be between 1 and 52."),
    "weekdays": _l("Choose at least one weekday (0 = Monday … 6 = Sunday)."),
    "until_or_count": _l("Give either an end date or a number of occurrences."),
    "count": _l("The number of occurrences must be at least 1."),
    "until": _l("The end date must not be before the first booking."),
    "too_many": _l("A series may have at most %(max)s occurrences."),
    # Requests and the waitlist
    "no_room": _l("No room matches this request."),
    "window_hours": _l("No matching room is open for %(minutes)s minutes inside this window."),
    "window_blackout": _l("Every matching room is closed (blackout) during this window."),
    "window_past": _l("This window lies in the past."),
    "window_short": _l("The duration must fit inside the window."),
    "anchor_tenant": _l("This anchor works for another tenant."),
    "prime_quota": _l("This would take the tenant past its %(hours)s prime-time hours in the week."),
    "priority": _l("A tenant with a higher priority is waiting for this time (request #%(id)s)."),
    "request_status": _l("A request in this status cannot do this."),
    "wait_recurring": _l("Only a request for one date can wait for freed time."),
    "offer_expired": _l("The offer has expired."),
}


def rule_message(code: str, **params) -> str:
    template = RULE_MESSAGES.get(code)
    if template is None:
        return code
    try:
        return str(template) % params if params else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)

# Integrations: the events robots and webhooks are told, robot platforms, delivery states.
EVENT_LABELS = {
    "booking.created": _l("Booking made"),
    "booking.moved": _l("Booking moved"),
    "booking.cancelled": _l("Booking cancelled"),
    "session.started": _l("Session started"),
    "session.ended": _l("Session ended"),
    "session.no_show": _l("No-show released"),
    "capacity.alert": _l("Capacity alert"),
    "request.created": _l("Request made"),
    "request.approved": _l("Request approved"),
    "request.rejected": _l("Request rejected"),
    "request.offered": _l("Waitlist offer"),
    "daily.summary": _l("Morning summary"),
    "robot.test": _l("Test message"),
    "webhook.test": _l("Test message"),
}

ROBOT_KIND_LABELS = {
    "wecom": _l("WeCom group robot"),
    "dingtalk": _l("DingTalk group robot"),
    "feishu": _l("Feishu group bot"),
}

DELIVERY_STATE_LABELS = {
    "pending": _l("waiting"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
}
