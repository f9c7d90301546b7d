"""Import batches: each ingestion's record (who, when, counts, state) and its rejects."""
from __future__ import annotations

import csv
import io
import tempfile
from typing import IO

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from opsroom.domain.cells import safe_cell
from opsroom.models import ImportBatch, ImportReject
from opsroom.services.permissions import require
from opsroom.services.errors import NotFound, found


def get_batch(session: so.Session, user, batch_id: int) -> ImportBatch:
    """An import batch; staff see every batch (imports are the park's, not one person's)."""
    require(user, "orders.write")
    return found(session.get(ImportBatch, batch_id), _l("No such import."))


def batch_by_key(session: so.Session, user, upload_key: str) -> ImportBatch:
    """The user's batch started with this upload key (the upload page's progress)."""
    require(user, "orders.write")
    batch = session.scalar(sa.select(ImportBatch).where(
        ImportBatch.user_id == user.id, ImportBatch.upload_key == upload_key, ImportBatch.upload_key != "")
        .order_by(ImportBatch.id.desc()).limit(1))
    if batch is None:
        raise NotFound(_l("No such import."))
    return batch


def recent_batches(session: so.Session, user, limit: int = 20) -> list[ImportBatch]:
    require(user, "orders.write")
    return list(session.scalars(sa.select(ImportBatch).options(so.joinedload(ImportBatch.user))
                                .order_by(ImportBatch.id.desc()).limit(limit)))


def batch_rejects(session: so.Session, user, batch_id: int, limit: int | None = None) -> list[ImportReject]:
    get_batch(session, user, batch_id)
    q = sa.select(ImportReject).where(ImportReject.batch_id == batch_id).order_by(ImportReject.position, ImportReject.id)
    return list(session.scalars(q.limit(limit) if limit else q))


def rejects_csv(session: so.Session, user, batch_id: int) -> IO[bytes]:
    """The rejects of a batch as a CSV file (UTF-8 with BOM, so Excel reads the
    Chinese), written page by page to a temporary file that spills to disk,
    so a million rejects never sit in memory."""
    batch = get_batch(session, user, batch_id)
    position = _l("line") if batch.source == "csv" else _l("index")
    out = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+b")
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([str(position), str(_l("order number")), str(_l("reason"))])
    last = (-1, 0)
    while True:
        page = session.execute(
            sa.select(ImportReject.position, ImportReject.id, ImportReject.external_id, ImportReject.reason)
            .where(ImportReject.batch_id == batch_id,
                   sa.or_(ImportReject.position > last[0],
                          sa.and_(ImportReject.position == last[0], ImportReject.id > last[1])))
            .order_by(ImportReject.position, ImportReject.id).limit(5000)).all()
        if not page:
            break
        # A leading tab keeps a long order number text in a spreadsheet.
        # Anything else a spreadsheet would run as a formula is neutralised.
        writer.writerows([pos, ("\t" + ext if ext.isdigit() else safe_cell(ext)) if ext else "", safe_cell(reason)]
                         for pos, _id, ext, reason in page)
        last = (page[-1][0], page[-1][1])
    text.detach()
    out.seek(0)
    return out
