"""Uploads of shop exports, shared by the API and the pages."""
from __future__ import annotations

from flask import current_app, request

def raise_upload_limit() -> None:
    """Shop exports may be far larger than the global MAX_CONTENT_LENGTH (which
    guards every other route): raise it for this request only, before the body
    is read."""
    request.max_content_length = current_app.extensions["opsroom.settings"].order_import_max_bytes


def upload_size(upload) -> int:
    stream = upload.stream
    try:
        position = stream.tell()
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(position)
        return size
    except (AttributeError, OSError):
        return 0
