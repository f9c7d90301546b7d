"""The closed vocabularies of the park: roles, statuses, kinds.

The database's CHECK constraints, the API's enums, the forms' choices and the
rules all read them from here, so each word is spelled once.
"""
from __future__ import annotations

ROLES = ("admin", "manager", "coordinator", "anchor")
TENANT_STATUSES = ("active", "suspended", "blacklisted")

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

NOTIFICATION_KINDS = ("reminder", "hold_expiring", "daily_summary", "booking_moved", "booking_cancelled")
# Email of a notice: NULL = inbox only; "sending" is a claim that lapses at email_next_at.
EMAIL_STATES = ("pending", "sending", "sent", "failed")
