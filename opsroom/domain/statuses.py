"""The closed vocabularies of the park: roles, statuses, kinds.

The database's CHECK constraints, the API's enums, the forms' choices and the
rules all read them from here, so each word is spelled once.
"""
from __future__ import annotations

ROLES = ("admin", "manager", "coordinator", "anchor", "tenant")
# Park staff; a "tenant" user (商家账号) is bound to one tenant and sees only its own.
STAFF_ROLES = ("admin", "manager", "coordinator")
TENANT_STATUSES = ("active", "suspended", "blacklisted")
# 1 = highest. The waitlist offers freed time by priority, then by age.
TENANT_PRIORITIES = (1, 2, 3)
DEFAULT_TENANT_PRIORITY = 2

BOOKING_STATUSES = ("hold", "confirmed", "live", "ended", "cancelled", "no_show")
# Statuses that occupy a room. An expired hold is swept to "cancelled".
ACTIVE_STATUSES = ("hold", "confirmed", "live")
# Statuses whose time counts as booked in utilization (a no-show until its release).
COUNTED_STATUSES = ("confirmed", "live", "ended", "no_show")
# Statuses whose minutes count towards an anchor's day (a cancelled or
# no-show session was not worked).
WORKED_STATUSES = ("hold", "confirmed", "live", "ended")

ANCHOR_ROLES = ("host", "assistant", "controller")

ORDER_STATUSES = ("paid", "refunded", "cancelled")
# Statuses that count in GMV and in `orders`: a refunded order was paid.
SOLD_STATUSES = ("paid", "refunded")
ATTRIBUTION_METHODS = ("booking", "room", "anchor", "manual")
IMPORT_SOURCES = ("json", "csv")
IMPORT_STATES = ("running", "done", "failed")

NOTIFICATION_KINDS = (
    "reminder", "hold_expiring", "daily_summary", "booking_moved", "booking_cancelled",
    # Requests and the waitlist (each notifies the other side).
    "request_created", "request_approved", "request_rejected", "request_withdrawn", "request_waiting",
    "request_offered", "offer_lapsed", "offer_accepted",
)
# Email of a notice: NULL = inbox only; "sending" is a claim that lapses at email_next_at.
EMAIL_STATES = ("pending", "sending", "sent", "failed")

# Requests (预约申请): a tenant asks for time, a coordinator decides.
#   pending → approved | rejected | withdrawn | waiting
#   waiting → offered (time freed: a hold in the tenant's name) | withdrawn | rejected
#   offered → approved (accepted) | lapsed (deadline passed) | withdrawn
REQUEST_STATUSES = ("pending", "approved", "rejected", "withdrawn", "waiting", "offered", "lapsed")
# Requests still asking for time (the queue, the waitlist, open offers).
OPEN_REQUEST_STATUSES = ("pending", "waiting", "offered")
# Where a request may go from each status; every transition is a conditional
# UPDATE on the status, so two writers never both move one request.
REQUEST_TRANSITIONS = {
    "pending": ("approved", "rejected", "withdrawn", "waiting"),
    "waiting": ("offered", "approved", "rejected", "withdrawn"),
    "offered": ("approved", "lapsed", "withdrawn", "waiting"),
    "approved": (),
    "rejected": (),
    "withdrawn": (),
    "lapsed": (),
}
