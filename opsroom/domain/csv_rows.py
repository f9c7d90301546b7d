"""Reading shop and catalogue CSV exports: encodings, Chinese or English
headers, tab-prefixed ID cells. Pure: rows in, values or row errors out."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Callable

from .money import parse_money
from .numbers import MAX_STOCK, whole_number


class RowError(ValueError):
    """A cell that cannot be read: `code` says why, `column` where."""

    def __init__(self, code: str, column: str):
        super().__init__(code)
        self.code, self.column = code, column


def decode(data: bytes) -> str:
    """UTF-8 with or without BOM, else GBK (GB18030, its superset)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RowError("encoding", "")


def clean(cell: Any) -> str:
    """Shop exports prefix long IDs with a tab (or quote them) so spreadsheets
    keep them as text; strip that and surrounding spaces."""
    return str(cell or "").strip().lstrip("\t'").strip()


@dataclass
class Table:
    columns: dict[str, str]          # our field → the header found
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (line number, {field: cell})
    missing: list[str] = field(default_factory=list)


def read_table(text: str, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> Table:
    """Map headers to our fields by alias (case- and space-insensitive)."""
    # newline="": the csv module reads line ends itself; a lone "\r" inside a cell is
    # otherwise a csv.Error (a 500 the API fuzzing found), not a line end.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return Table({}, [], list(required))
    norm = {clean(h).lower().replace(" ", ""): i for i, h in enumerate(header)}
    index, columns = {}, {}
    for name, names in aliases.items():
        for alias in (name,) + names:
            key = alias.lower().replace(" ", "")
            if key in norm:
                index[name], columns[name] = norm[key], header[norm[key]]
                break
    table = Table(columns, missing=[r for r in required if r not in index])
    for line, raw in enumerate(reader, start=2):
        if not any(clean(c) for c in raw):
            continue
        table.rows.append((line, {name: clean(raw[i]) if i < len(raw) else "" for name, i in index.items()}))
    return table


PRODUCT_COLUMNS = {
    "sku": ("商品编码", "SKU编码", "货号", "商家编码", "编码"),
    "name": ("商品名称", "名称", "品名"),
    "category": ("类目", "分类", "品类"),
    "price": ("价格", "售价", "单价", "价格(元)"),
    "stock": ("库存", "库存数量"),
    "certifications": ("认证", "资质", "certification"),
}


def product_row(cells: dict[str, str]) -> dict[str, Any]:
    """One catalogue row → product fields; RowError names the bad column."""
    sku, name = cells.get("sku", ""), cells.get("name", "")
    for column, cell in cells.items():
        if "\x00" in cell:  # no database keeps a NUL (PostgreSQL refuses it, SQLite would store it)
            raise RowError("nul", column)
    if not sku:
        raise RowError("required", "sku")
    if len(sku) > 64:
        raise RowError("too_long", "sku")
    if not name:
        raise RowError("required", "name")
    if len(name) > 200:  # reported, never cut short in silence
        raise RowError("too_long", "name")
    if len(cells.get("category", "")) > 50:
        raise RowError("too_long", "category")
    out: dict[str, Any] = {"sku": sku, "name": name, "category": cells.get("category", "")}
    try:
        out["price_fen"] = parse_money(cells.get("price") or "0")
    except ValueError:
        raise RowError("price", "price") from None
    stock = whole_number((cells.get("stock") or "0").replace(",", ""), maximum=MAX_STOCK)
    if stock is None:
        raise RowError("stock", "stock")
    out["stock"] = stock
    certs = cells.get("certifications", "")
    out["certifications"] = [c.strip() for c in certs.replace("；", ";").replace("、", ";").replace(",", ";").split(";") if c.strip()]
    return out


def parse_rows(table: Table, convert: Callable[[dict[str, str]], dict]) -> tuple[list[tuple[int, dict]], list[tuple[int, RowError]]]:
    good, bad = [], []
    for line, cells in table.rows:
        try:
            good.append((line, convert(cells)))
        except RowError as exc:
            bad.append((line, exc))
    return good, bad
