"""Faults injected into real code paths (the code around them runs for real)."""
from __future__ import annotations

import sqlalchemy as sa


def fail_second_write(monkeypatch, message: str = "disk I/O error (injected)") -> list:
    """Each engine's order write (services.sales.ingestion._write_postgres, a COPY or an
    upsert, and _write_sqlite; one per UPSERT_ROWS rows) raises as a database failing
    mid-batch on its second call, after the first has written. → the calls' arguments."""
    from opsroom.services.sales import ingestion

    calls: list = []

    def failing(real):
        def write(session, *args):
            calls.append(args)
            if len(calls) == 2:
                raise sa.exc.OperationalError("INSERT INTO orders", {}, Exception(message))
            return real(session, *args)
        return write

    monkeypatch.setattr(ingestion, "_write_postgres", failing(ingestion._write_postgres))
    monkeypatch.setattr(ingestion, "_write_sqlite", failing(ingestion._write_sqlite))
    return calls
