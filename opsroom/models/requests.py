"""Requests (预约申请): a tenant asks for time, a coordinator approves or rejects it,
or it waits for freed time and is offered a hold (候补)."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import Base, UTCDateTime, sql_in
from opsroom.domain.statuses import OPEN_REQUEST_STATUSES, REQUEST_STATUSES

if TYPE_CHECKING:  # the mappers resolve these names by the class registry at run time
    from opsroom.models.bookings import Booking
    from opsroom.models.park import Room, Tenant, User


class BookingRequest(Base):
    """One request for time.

    Where: a specific room (`room_id`), or any room of a kind and/or zone (both
    may be set; neither = any room). When: `date` (park-local), repeated by
    `recurrence` (the bookings' rule: freq, interval, weekdays, until, count),
    each day inside `[window_start, window_end)` — a window may cross midnight
    (end ≤ start) — for `minutes` (the whole window when the tenant gave no
    duration). `anchors` are wanted as `[{anchor_id, role}]`.

    An offer is a hold booking in the tenant's name (`offer_booking_id`) that
    lapses at `offer_expires_at`; the unique key on it means one freed slot is
    never offered to two requests. Bookings made for the request (approved or
    accepted) are linked in `request_bookings`.
    """

    __tablename__ = "booking_requests"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="pending")
    room_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("rooms.id"))
    room_kind: so.Mapped[Optional[str]] = so.mapped_column(sa.String(50))
    zone: so.Mapped[Optional[str]] = so.mapped_column(sa.String(50))
    date: so.Mapped[date] = so.mapped_column(sa.Date)
    recurrence: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column(sa.JSON)
    window_start: so.Mapped[time] = so.mapped_column(sa.Time)
    window_end: so.Mapped[time] = so.mapped_column(sa.Time)
    minutes: so.Mapped[int] = so.mapped_column()
    anchors: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    updated_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime, onupdate=clock.now)
    # The decision: who, when, why (a rejection's reason, or a staff override's).
    decided_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    decided_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    reason: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    # Rejected because nothing fitted, or an offer lapsed: turned-away demand.
    no_room: so.Mapped[bool] = so.mapped_column(default=False)
    # The open offer (status "offered"), or the last one.
    offer_booking_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("bookings.id", ondelete="SET NULL"), unique=True
    )
    offered_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    offer_expires_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    tenant: so.Mapped[Tenant] = so.relationship()
    room: so.Mapped[Optional[Room]] = so.relationship()
    created_by: so.Mapped[Optional[User]] = so.relationship(foreign_keys=[created_by_id])
    decided_by: so.Mapped[Optional[User]] = so.relationship(foreign_keys=[decided_by_id])
    offer_booking: so.Mapped[Optional[Booking]] = so.relationship(foreign_keys=[offer_booking_id])
    bookings: so.Mapped[list[Booking]] = so.relationship(
        secondary="request_bookings", order_by="Booking.starts_at", viewonly=True
    )

    __table_args__ = (
        sa.CheckConstraint(sql_in("status", REQUEST_STATUSES), name="status"),
        sa.CheckConstraint("minutes > 0", name="minutes_positive"),
        sa.CheckConstraint(
            "status <> 'offered' OR (offer_booking_id IS NOT NULL AND offer_expires_at IS NOT NULL)",
            name="offer_complete",
        ),
        # The queue and the waitlist: open requests, oldest first.
        sa.Index("ix_booking_requests_status_created", "status", "created_at"),
        sa.Index("ix_booking_requests_date", "date"),
        # The lapse sweep: open offers by deadline.
        sa.Index("ix_booking_requests_offer_due", "offer_expires_at",
                 sqlite_where=sa.text("status = 'offered'"), postgresql_where=sa.text("status = 'offered'")),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REQUEST_STATUSES


# The bookings a request became (approved, or an accepted offer). A booking
# belongs to at most one request.
request_bookings = sa.Table(
    "request_bookings",
    Base.metadata,
    sa.Column("request_id", sa.ForeignKey("booking_requests.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("booking_id", sa.ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True, unique=True),
)
