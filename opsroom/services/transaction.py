"""One owner for each transaction: the service a face calls.

A public service function that writes is decorated with `transactional`: when
it returns, its unit of work is committed; when it raises (a refused rule, a
clash, anything), everything it wrote is rolled back. A transactional service
called by another joins the caller's unit of work, so the outermost call
commits once. Faces (views, API, CLI, scheduler jobs) never commit.

A few services must commit in steps (a shop export committed chunk by chunk, so
that its progress can be followed and a crash keeps what was taken; the report
rollups refreshed in short transactions, because SQLite has one write lock;
emails, each outcome kept as it happens; turned-away demand recorded in a
transaction of its own beside the 409 it accompanies). Each says so at the
function, and commits there itself.
"""
from __future__ import annotations

import functools
from typing import Callable, TypeVar

import sqlalchemy.orm as so

F = TypeVar("F", bound=Callable)
_DEPTH = "opsroom.transaction_depth"


def transactional(service: F) -> F:
    """Commit `service(session, ...)`'s work when the outermost transactional call
    returns; roll it back when it raises."""

    @functools.wraps(service)
    def run(session: so.Session, *args, **kwargs):
        depth = session.info.get(_DEPTH, 0)
        session.info[_DEPTH] = depth + 1
        try:
            result = service(session, *args, **kwargs)
        except BaseException:
            session.info[_DEPTH] = depth
            if depth == 0:
                session.rollback()
            raise
        session.info[_DEPTH] = depth
        if depth == 0:
            session.commit()
        return result

    return run  # type: ignore[return-value]


def outermost(session: so.Session) -> bool:
    """Whether the transactional service running on `session` is the outermost one (called
    by a route or a job, not by another service within its transaction)."""
    return session.info.get(_DEPTH, 0) <= 1
