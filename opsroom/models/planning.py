"""Plans (the month planner's runs): a draft for a month, solved outside the web
request by a runner that claims the row, reports progress and heartbeats on it,
and honours a cancel written to it."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom import clock
from opsroom.db import Base, UTCDateTime, sql_in

if TYPE_CHECKING:
    from opsroom.models.park import User

PLAN_STATUSES = ("running", "done", "failed", "cancelled")


class Plan(Base):
    """One run of the month planner and its draft.

    `request_ids` is the chosen set (NULL: the month's pending requests at the
    start). `pins` are placements of an earlier draft kept fixed
    (`[{request_id, date, room_id, starts_at, ends_at}]`), `based_on_id` that
    draft. While `running`, the runner that claimed it (`runner`) writes
    `progress` `{placed, bound, gap, objective, phase}` and `heartbeat_at`; a
    row whose heartbeat is older than the lease is failed by the sweep.
    `result` is `{placed: [...], unplaced: [...], stats}`; `accepted` lists the
    request ids accepted from it.
    """

    __tablename__ = "plans"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    month: so.Mapped[date] = so.mapped_column(sa.Date, index=True)  # its first day
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="running")
    request_ids: so.Mapped[Optional[list[int]]] = so.mapped_column(sa.JSON)
    time_limit_seconds: so.Mapped[int] = so.mapped_column(default=60)
    pins: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    based_on_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("plans.id", ondelete="SET NULL"))
    progress: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    result: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column(sa.JSON)
    accepted: so.Mapped[list[int]] = so.mapped_column(sa.JSON, default=list)
    error: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    runner: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120))
    heartbeat_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=clock.now)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    started_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    created_by: so.Mapped[Optional[User]] = so.relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        sa.CheckConstraint(sql_in("status", PLAN_STATUSES), name="status"),
        sa.CheckConstraint("time_limit_seconds > 0", name="time_limit_positive"),
        sa.Index("ix_plans_status", "status"),
    )
