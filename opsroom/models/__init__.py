"""Mapped classes, one module per area. Column constraints only; rules live in
`domain/` and `services/`.

The database is the last line of defence: the overlap of active bookings is
refused by an exclusion constraint (PostgreSQL) or triggers (SQLite) created in
the migrations, not here. Every class is imported here so that the mappers can
resolve each other's names, whichever module a caller imports.
"""
from opsroom.models.park import ApiToken, Blackout, LoginFailure, LoginSession, Room, Tenant, User, Zone
from opsroom.models.bookings import Assignment, AuditEntry, Booking, LineupItem, Series
from opsroom.models.people_goods import Anchor, Product
from opsroom.models.sales import SOLD, ImportBatch, ImportReject, Order, ReviewNote, ScreenToken, SessionForecast, sales_quarters
from opsroom.models.reporting import (
    TurnedAway, report_booking_days, report_days, report_dirty, report_room_days, report_start_hours,
    report_tenant_days,
)
from opsroom.models.operations import JobRecord, Notification, SchedulerHeartbeat
from opsroom.models.integrations import Delivery, DoudianMessage, OutboxEvent, Robot, RobotSend, Webhook
from opsroom.models.requests import BookingRequest, request_bookings
from opsroom.models.planning import PLAN_STATUSES, Plan

__all__ = [
    "SessionForecast",
    "Anchor", "ApiToken", "Delivery", "DoudianMessage", "OutboxEvent", "Robot", "RobotSend", "Webhook", "Assignment", "AuditEntry", "Blackout", "Booking", "BookingRequest", "ImportBatch", "ImportReject",
    "JobRecord", "LineupItem", "LoginFailure", "LoginSession", "Notification", "Order", "PLAN_STATUSES", "Plan", "Product", "ReviewNote",
    "Room", "SOLD", "SchedulerHeartbeat", "ScreenToken", "Series", "Tenant", "TurnedAway", "User", "Zone",
    "report_booking_days", "report_days", "report_dirty", "report_room_days", "report_start_hours",
    "report_tenant_days", "request_bookings", "sales_quarters",
]
