"""Reading a shop's order export (CSV) as a stream, in bounded memory.

The file is read in blocks; only the current block and the current row are
held. Encoding: a UTF-8 byte-order mark means UTF-8; else the first block
decides between UTF-8 and GB18030 (the superset of GBK that Excel on a
Chinese Windows writes). A line that does not decode in the file's encoding
is a rejected row, not the end of the import.
"""
from __future__ import annotations

import codecs
import csv
import re
from datetime import timedelta, tzinfo
from typing import IO, Any, Iterator

from . import orders as rules
from .csv_rows import RowError
from .order_formats import FORMATS, ExportFormat, Match, match_header

BLOCK = 1 << 16
SAMPLE = 1 << 20  # bytes looked at to choose the encoding
# The longest cell we read; a longer one is a rejected row (csv raises).
FIELD_LIMIT = 1 << 16


# The fast path (ExportReader._fast): the id columns with their lengths, the
# text columns, and a park-local time to the second ("2026-11-20 20:05:33").
_IDS = tuple((name, rules.PLAIN_IDS[name], name == "external_id")
             for name in ("external_id", "parent_id", "room_code", "anchor_account", "sku"))
_TEXTS = (("product_name", rules.LIMITS["product_name"]), ("buyer", rules.LIMITS["buyer"]))
_LOCAL_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:[0-5]\d")


class ExportError(ValueError):
    """The file as a whole cannot be read: `code` says why, `details` what is missing."""

    def __init__(self, code: str, details: list[str] | None = None):
        super().__init__(code)
        self.code, self.details = code, details or []


def detect_encoding(sample: bytes) -> str:
    """"utf-8-sig", "utf-8" or "gb18030" for a file starting with `sample`."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ExportError("utf16")
    if b"\x00" in sample[:4096]:  # no text file of ours holds a NUL byte
        raise ExportError("binary")
    lines = sample.split(b"\n")
    if len(lines) > 1:
        lines.pop()  # perhaps cut in the middle of a character
    valid = {enc: sum(_decodes(line, enc) for line in lines) for enc in ("utf-8", "gb18030")}
    header_ok = {enc: _decodes(lines[0], enc) for enc in valid}
    if not any(header_ok.values()):
        raise ExportError("encoding")
    # Prefer UTF-8 (GB18030 decodes much UTF-8 as nonsense); a file mixing both
    # is read in the encoding most of its lines are in, the rest are rejected.
    if header_ok["utf-8"] and valid["utf-8"] >= valid["gb18030"]:
        return "utf-8"
    if header_ok["gb18030"]:
        return "gb18030"
    return "utf-8"


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


class ExportReader:
    """Rows of an order export: iterate for `(line, row)` or `(line, RowError)`.

    `line` is the file's physical line (the header is line 1). `bytes_read`
    says how far into the file the reader is (for progress).
    """

    def __init__(self, stream: IO[bytes], *, tz: tzinfo, platform: str | None = None,
                 formats: tuple[ExportFormat, ...] = FORMATS):
        self.stream, self.tz = stream, tz
        self.bytes_read = 0
        sample = self._read(SAMPLE)
        if not sample.strip():
            raise ExportError("empty")
        self.encoding = detect_encoding(sample)
        self._pending = [sample]
        self._bad_lines: set[int] = set()
        self._physical = 0
        csv.field_size_limit(FIELD_LIMIT)
        self._reader = csv.reader(self._lines())
        try:
            header = next(self._reader)
        except StopIteration:
            raise ExportError("empty") from None
        except csv.Error:
            raise ExportError("header") from None
        if self._bad_lines:
            raise ExportError("encoding")
        header = [rules.clean_cell(h).lstrip("\ufeff") for h in header]
        self.header = header
        match: Match = match_header(header, formats, prefer=platform)
        if match.missing:
            raise ExportError("columns", [f"{match.format.name}:{m}" for m in match.missing])
        self.format = match.format
        self.columns = {name: header[i] for name, i in match.index.items()}
        self._index = match.index
        self.platform = platform or match.format.platform or "douyin"
        self._amounts: dict = {}
        self._times: dict = {}
        self._statuses: dict = {}
        self._minutes: dict = {}
        self._at = dict(match.index)  # column name → cell index, for the fast path

    # -- bytes → text lines -------------------------------------------------

    def _read(self, n: int) -> bytes:
        data = self.stream.read(n)
        self.bytes_read += len(data)
        return data

    def _blocks(self) -> Iterator[bytes]:
        while self._pending:
            yield self._pending.pop()
        while True:
            block = self._read(BLOCK)
            if not block:
                return
            yield block

    def _lines(self) -> Iterator[str]:
        """Decoded physical lines, each decoded on its own (a newline byte never
        occurs inside a UTF-8 or GB18030 character), so one bad line stays one
        rejected row."""
        encoding = self.encoding
        first = True
        rest = b""
        for block in self._blocks():
            if rest:
                block = rest + block
            parts = block.split(b"\n")
            rest = parts.pop()
            for raw in parts:
                yield self._decode(raw + b"\n", encoding if first else encoding.replace("-sig", ""))
                first = False
        if rest:
            yield self._decode(rest, encoding if first else encoding.replace("-sig", ""))

    def _decode(self, raw: bytes, encoding: str) -> str:
        self._physical += 1
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            self._bad_lines.add(self._physical)
            return raw.decode(encoding, errors="replace")

    # -- rows ---------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
        reader, index = self._reader, self._index
        fast, need = self._fast, max(index.values(), default=-1) + 1
        last_line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                first, last_line = last_line + 1, reader.line_num
                yield first, RowError("csv", "")
                continue
            first, last_line = last_line + 1, reader.line_num
            if not cells or not any(c.strip() for c in cells):
                continue
            if self._bad_lines and any(n in self._bad_lines for n in range(first, last_line + 1)):
                yield first, RowError("encoding", "")
                continue
            if len(cells) >= need:
                row = fast(cells)
                if row is not None:
                    yield first, row
                    continue
            values = {name: cells[i] if i < len(cells) else "" for name, i in index.items()}
            try:
                yield first, self.convert(values)
            except RowError as exc:
                exc.external_id = rules.clean_cell(values.get("external_id", ""))[:64]
                yield first, exc

    # Exports repeat prices, seconds and statuses row after row: parse each
    # distinct cell once (bounded caches; a RowError is never cached).
    CACHE = 4096

    def _cached(self, cache: dict, key, parse):
        try:
            return cache[key]
        except KeyError:
            value = parse(key)
            if len(cache) >= self.CACHE:
                cache.clear()
            cache[key] = value
            return value

    def _time(self, cell):
        return rules.parse_time(cell, self.tz)

    @staticmethod
    def _status(cells):
        return rules.order_status(*cells)

    def _fast(self, cells: list[str]) -> dict[str, Any] | None:
        """The common well-formed row straight from its cells (all present), or
        None: then `convert` decides and names the error. Whatever this returns
        is what `convert` returns for the same cells."""
        at = self._at
        platform = cells[at["platform"]].strip().lower() or self.platform if "platform" in at else self.platform
        if not rules.PLATFORM_RE.match(platform):
            return None
        row: dict[str, Any] = {"platform": platform}
        for key, plain, required in _IDS:
            i = at.get(key)
            text = cells[i].strip() if i is not None else ""
            if not text:
                if required:
                    return None
                row[key] = ""
            elif plain.fullmatch(text):
                row[key] = text
            else:
                return None
        for key, limit in _TEXTS:
            i = at.get(key)
            text = cells[i].strip() if i is not None else ""
            if not text:
                row[key] = ""
            elif rules.PLAIN_TEXT.fullmatch(text):
                row[key] = text[:limit]
            else:
                return None
        i = at.get("booking_id")
        text = cells[i].strip() if i is not None else ""
        if text:
            if not (text.isascii() and text.isdigit() and len(text) <= 19):
                return None
            booking_id = int(text)
            if not 0 < booking_id <= rules.MAX_INT:
                return None
            row["booking_id"] = booking_id
        else:
            row["booking_id"] = None
        i = at.get("quantity")
        text = cells[i].strip() if i is not None else ""
        if text:
            if not (text.isascii() and text.isdigit() and len(text) <= 7):
                return None
            quantity = int(text)
            if quantity > rules.MAX_QUANTITY:
                return None
            row["quantity"] = quantity
        else:
            row["quantity"] = 1
        i = at.get("amount")
        fen = rules.plain_fen(cells[i].strip()) if i is not None else None
        if fen is None:
            return None
        i = at.get("ordered_at")
        text = cells[i].strip() if i is not None else ""
        if not _LOCAL_SECONDS.fullmatch(text):
            return None
        seconds = int(text[17:])
        try:
            minute = self._cached(self._minutes, text[:16], self._time)
            status = self._cached(self._statuses, (cells[at["status"]] if "status" in at else None,
                                                   cells[at["after_sale"]] if "after_sale" in at else None),
                                  self._status)
        except RowError:
            return None
        refund = None
        i = at.get("refund")
        text = cells[i].strip() if i is not None else ""
        if text and text[0] in "'=":
            return None
        if status == "refunded" and text and text not in ("-", "--"):
            refund = rules.plain_fen(text)
            if refund is None:
                return None
        if refund is None:
            refund = fen if status == "refunded" else 0
        elif refund > fen:
            return None
        row["amount_fen"], row["status"] = fen, status
        row["ordered_at"] = minute + timedelta(seconds=seconds)
        row["refund_fen"] = 0 if status == "cancelled" else refund
        return row

    def convert(self, cells: dict[str, str]) -> dict[str, Any]:
        """One export row → the parsed row `services.orders.ingest_rows` takes."""
        get = cells.get
        platform = rules.clean_cell(get("platform", "")).lower() or self.platform
        if not rules.PLATFORM_RE.match(platform):
            raise RowError("platform", "platform")
        row = {
            "platform": platform,
            "external_id": rules.clean_id(get("external_id"), "external_id"),
            "parent_id": rules.clean_id(get("parent_id"), "parent_id", required=False),
            "booking_id": rules.parse_booking_id(get("booking_id")),
            "room_code": rules.clean_id(get("room_code"), "room_code", required=False),
            "anchor_account": rules.clean_id(get("anchor_account"), "anchor_account", required=False),
            "sku": rules.clean_id(get("sku"), "sku", required=False),
            "product_name": rules.clean_text(get("product_name"), "product_name", truncate=True),
            "buyer": rules.clean_text(get("buyer"), "buyer", truncate=True),
            "quantity": rules.parse_quantity(get("quantity", "")),
            "amount_fen": self._cached(self._amounts, get("amount"), rules.parse_amount),
            "ordered_at": self._cached(self._times, get("ordered_at"), self._time),
            "status": self._cached(self._statuses, (get("status"), get("after_sale")), self._status),
        }
        # A refund amount counts once the status says refunded (a partial refund
        # keeps its amount); while a refund is only asked for, it is not one.
        refund = rules.clean_cell(get("refund", ""))
        if row["status"] == "refunded" and refund and refund not in ("-", "--"):
            row["refund_fen"] = rules.parse_amount(refund, "refund")
        # Every cell was checked above: only the refund rule is left.
        return rules.complete_refund(row)
