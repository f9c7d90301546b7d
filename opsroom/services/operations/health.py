"""Health: can the database be reached, is the scheduler alive, are jobs failing?"""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from opsroom.models import Notification
from opsroom.services.operations.scheduler import heartbeat_state


def database_reachable(engine: sa.Engine) -> bool:
    """A fresh connection and SELECT 1; any failure to reach the server is False."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except (sa.exc.SQLAlchemyError, OSError):
        return False


def problems(state: dict) -> list[str]:
    """Codes of what is wrong: a stale heartbeat, failing or overdue jobs."""
    found = ["scheduler_stale"] if state["stale"] else []
    found += [f"job_failing:{j['id']}" for j in state["jobs"] if j["failing"]]
    found += [f"job_overdue:{j['id']}" for j in state["jobs"] if j["overdue"]]
    return found


def email_counts(session: so.Session) -> dict[str, int]:
    rows = session.execute(
        sa.select(Notification.email_status, sa.func.count()).where(Notification.email_status.is_not(None))
        .group_by(Notification.email_status)).all()
    counts = {"pending": 0, "sending": 0, "sent": 0, "failed": 0}
    counts.update({status: n for status, n in rows})
    return counts


def report(session: so.Session) -> dict:
    """The scheduler's heartbeat and job records, emails by state, and the overall status."""
    state = heartbeat_state(session)
    return {"status": "degraded" if problems(state) else "ok", "scheduler": state,
            "emails": email_counts(session), "problems": problems(state)}
