"""Declarative parsing of JSON bodies and query strings.

Every malformed field is collected, then one ValidationFailed lists them all
(docs/api.md: 422 validation_error with details [{field, message}]).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Callable

from flask_babel import lazy_gettext as _l

from opsroom.domain import hours
from opsroom.domain.money import parse_money
from opsroom.domain.numbers import MAX_INT, whole_number
from opsroom.services.errors import ValidationFailed

_MISSING = object()
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# The largest value an INTEGER column holds on PostgreSQL: a bigger number is
# a 422 on its field, never a database error (500).
# Years an instant or a date may have: far enough either way for any real use,
# near enough that converting to UTC and adding days, changeovers or a series of
# weeks can never overflow Python's datetime (a 500).
MIN_YEAR, MAX_YEAR = 1900, 9000

# JSON Schema patterns for the OpenAPI document (opsroom/api/openapi.py): each
# converter carries `.schema`, the exact set of JSON values it takes.
_NO_NUL = "^[^\\u0000]*$"
# Stripped, something remains (a bare \S would admit one NUL: NUL is no whitespace).
_NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
_YEAR = "(19[0-9]{2}|[2-8][0-9]{3}|9000)"
_DATE = _YEAR + "-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE_SCHEMA = {"type": "string", "format": "date", "pattern": f"^{_DATE}$"}
# A subset of what `instant` reads (it also takes a space for T and no seconds):
# RFC 3339 with an offset, at most microseconds, years MIN_YEAR..MAX_YEAR.
INSTANT_SCHEMA = {"type": "string", "format": "date-time",
                  "pattern": f"^{_DATE}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{{1,6}})?(Z|[+-][01][0-9]:[0-5][0-9])$"}
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
# A month (YYYY-MM) is one of the booking board's years, 2000–2099: the month
# planner plans no other (services/planning/runs.MIN_YEAR..MAX_YEAR) and a
# month filter needs no other. The parser reads exactly the documented pattern.
MONTH_SCHEMA = {"type": "string", "pattern": hours.MONTH_PATTERN}


class FieldError(ValueError):
    pass


@dataclass
class F:
    """One field: a converter plus presence rules."""

    convert: Callable[[Any], Any]
    required: bool = False
    nullable: bool = False
    default: Any = _MISSING
    extra: dict = field(default_factory=dict)


def parse(schema: dict[str, F], data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Convert `data` by `schema`; with `partial` (PATCH) absent fields are left out."""
    if not isinstance(data, dict):
        raise ValidationFailed(_l("The body must be a JSON object."), [{"field": "", "message": _l("Expected an object.")}])
    out, errors = {}, []
    for name, spec in schema.items():
        if name not in data:
            if spec.required and not partial:
                errors.append({"field": name, "message": _l("This field is required.")})
            elif spec.default is not _MISSING and not partial:
                out[name] = spec.default() if callable(spec.default) else spec.default
            continue
        value = data[name]
        if value is None:
            if spec.nullable:
                out[name] = None
            else:
                errors.append({"field": name, "message": _l("This field may not be null.")})
            continue
        try:
            out[name] = spec.convert(value)
        except FieldError as exc:
            errors.append({"field": name, "message": exc.args[0]})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    return out


# Converters -----------------------------------------------------------------

def string(max_len: int = 200, *, min_len: int = 0, choices: tuple[str, ...] | None = None, strip: bool = True):
    """Text of at most `max_len` characters as sent (surrounding spaces count,
    then are stripped), at least `min_len` once stripped, no NUL; with
    `choices`, exactly one of them."""
    def convert(v):
        if not isinstance(v, str):
            raise FieldError(_l("Expected a string."))
        if "\x00" in v:  # PostgreSQL text cannot hold NUL: refuse it here, not with a 500
            raise FieldError(_l("Must not contain a NUL character."))
        if len(v) > max_len:
            raise FieldError(_l("At most %(n)s characters.", n=max_len))
        if choices is not None:
            if v not in choices:
                raise FieldError(_l("Must be one of: %(choices)s.", choices=", ".join(choices)))
            return v
        v = v.strip() if strip else v
        if len(v) < min_len:
            raise FieldError(_l("This field may not be empty.") if min_len == 1 else _l("Too short."))
        return v

    if choices is not None:
        convert.schema = {"type": "string", "enum": list(choices)}
    else:
        convert.schema = {"type": "string", "maxLength": max_len, "pattern": _NO_NUL}
        if min_len == 1:
            convert.schema.update(minLength=1, pattern=_NOT_BLANK if strip else _NO_NUL)
        elif min_len:
            convert.schema["minLength"] = min_len
    return convert


def integer(minimum: int | None = None, maximum: int | None = None):
    maximum = MAX_INT if maximum is None else min(maximum, MAX_INT)

    def convert(v):
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            else:
                raise FieldError(_l("Expected a whole number."))
        if minimum is not None and v < minimum:
            raise FieldError(_l("Must be at least %(n)s.", n=minimum))
        if maximum is not None and v > maximum:
            raise FieldError(_l("Must be at most %(n)s.", n=maximum))
        return v

    convert.schema = {"type": "integer", "maximum": maximum}
    if minimum is not None:
        convert.schema["minimum"] = minimum
    return convert


def number(minimum: float | None = None, maximum: float | None = None):
    def convert(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise FieldError(_l("Expected a number."))
        if minimum is not None and v < minimum:
            raise FieldError(_l("Must be at least %(n)s.", n=minimum))
        if maximum is not None and v > maximum:
            raise FieldError(_l("Must be at most %(n)s.", n=maximum))
        return float(v)

    convert.schema = {"type": "number"}
    if minimum is not None:
        convert.schema["minimum"] = minimum
    if maximum is not None:
        convert.schema["maximum"] = maximum
    return convert


def boolean(v):
    if not isinstance(v, bool):
        raise FieldError(_l("Expected true or false."))
    return v


boolean.schema = {"type": "boolean"}


def time_of_day(v) -> time:
    if not isinstance(v, str) or not _HHMM.match(v):
        raise FieldError(_l("Expected a time of day as HH:MM."))
    h, m = v.split(":")
    return time(int(h), int(m))


time_of_day.schema = {"type": "string", "pattern": _HHMM.pattern}


def instant(v) -> datetime:
    """RFC 3339 with an offset; a naive datetime is refused."""
    if not isinstance(v, str):
        raise FieldError(_l("Expected a date-time string."))
    if not _RFC3339.match(v.strip()):
        raise FieldError(_l("Expected an RFC 3339 date-time with an offset, e.g. 2026-11-22T20:00:00+08:00."))
    try:
        parsed = datetime.fromisoformat(v.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(_l("Not a valid date-time.")) from None
    if parsed.tzinfo is None:
        raise FieldError(_l("The date-time needs an offset."))
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise FieldError(_l("The year must be between %(lo)s and %(hi)s.", lo=MIN_YEAR, hi=MAX_YEAR))
    return parsed


instant.schema = INSTANT_SCHEMA


def day(v) -> date:
    if not isinstance(v, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", v):
        raise FieldError(_l("Expected a date as YYYY-MM-DD."))
    try:
        parsed = date.fromisoformat(v)
    except ValueError:
        raise FieldError(_l("Not a valid date.")) from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise FieldError(_l("The year must be between %(lo)s and %(hi)s.", lo=MIN_YEAR, hi=MAX_YEAR))
    return parsed


day.schema = DATE_SCHEMA


def month(v) -> date:
    """YYYY-MM → the month's first day."""
    first = hours.parse_month(v)
    if first is None:
        raise FieldError(_l("Expected a month as YYYY-MM, 2000–2099."))
    return first


month.schema = MONTH_SCHEMA


def string_list(max_items: int = 50, max_len: int = 100):
    item = string(max_len, min_len=1)

    def convert(v):
        if not isinstance(v, list) or len(v) > max_items:
            raise FieldError(_l("Expected a list of at most %(n)s strings.", n=max_items))
        return [item(x) for x in v]

    convert.schema = {"type": "array", "maxItems": max_items, "items": item.schema}
    return convert


def int_list(minimum: int, maximum: int, max_items: int = 50):
    item = integer(minimum, maximum)

    def convert(v):
        if not isinstance(v, list) or len(v) > max_items:
            raise FieldError(_l("Expected a list of at most %(n)s numbers.", n=max_items))
        return [item(x) for x in v]

    convert.schema = {"type": "array", "maxItems": max_items, "items": item.schema}
    return convert


def money(v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise FieldError(_l("Expected an amount such as \"129.90\"."))
    try:
        return parse_money(v)
    except ValueError:
        raise FieldError(_l("Expected an amount such as \"129.90\".")) from None


# Also taken (and not promised here): thousands separators, a leading ¥, full-width digits.
money.schema = {"oneOf": [{"type": "string", "pattern": "^[0-9]{1,10}(\\.[0-9]{1,2})?$", "example": "129.90"},
                          {"type": "number", "minimum": 0, "maximum": 10**10}]}


def obj(schema: dict[str, F]):
    def convert(v):
        try:
            return parse(schema, v)
        except ValidationFailed as exc:
            raise FieldError("; ".join(f"{d['field']}: {d['message']}" for d in exc.details)) from None

    convert.schema = json_schema(schema)
    return convert


def obj_list(schema: dict[str, F], max_items: int = 200):
    def convert(v):
        if not isinstance(v, list) or len(v) > max_items:
            raise FieldError(_l("Expected a list of at most %(n)s objects.", n=max_items))
        out = []
        for i, item in enumerate(v):
            try:
                out.append(parse(schema, item))
            except ValidationFailed as exc:
                raise FieldError(
                    f"[{i}] " + "; ".join(f"{d['field']}: {d['message']}" for d in exc.details)
                ) from None
        return out

    convert.schema = {"type": "array", "maxItems": max_items, "items": json_schema(schema)}
    return convert


def id_param(v) -> int:
    """A positive id from a query string."""
    value = whole_number(v, maximum=MAX_INT)
    if not value:
        raise FieldError(_l("Expected a positive whole number."))
    return value


id_param.schema = ID_SCHEMA


def json_schema(fields: dict[str, F], *, partial: bool = False) -> dict:
    """The JSON Schema of the objects `parse(fields, ..., partial=partial)` takes.
    Unknown members are ignored (additionalProperties stays open)."""
    props = {}
    for name, spec in fields.items():
        prop = dict(getattr(spec.convert, "schema", {}))
        if spec.nullable:
            prop = {**prop, "nullable": True} if "oneOf" not in prop else {"oneOf": prop["oneOf"], "nullable": True}
        props[name] = prop
    out = {"type": "object", "properties": props}
    required = [name for name, spec in fields.items() if spec.required]
    if required and not partial:
        out["required"] = required
    return out


def bound(v) -> date | datetime:
    """A bound of a listed range, from a query string: a park-local day (a whole
    day, inclusive: the face turns it into that day's start or end) or an RFC 3339 instant."""
    if isinstance(v, str) and len(v) == 10:
        return day(v)
    return instant(v)


bound.schema = {"oneOf": [DATE_SCHEMA, INSTANT_SCHEMA]}


def positive(maximum: int):
    """A positive whole number from a query string, at most `maximum`."""
    def convert(v):
        value = id_param(v)
        if value > maximum:
            raise FieldError(_l("Must be at most %(n)s.", n=maximum))
        return value

    convert.schema = {"type": "integer", "minimum": 1, "maximum": maximum}
    return convert


def flag(v) -> bool:
    """true/false (or 1/0) from a query string."""
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise FieldError(_l("Expected true or false."))


flag.schema = {"type": "string", "enum": ["true", "false", "1", "0"]}


def query(args, table: dict[str, F]) -> dict[str, Any]:
    """The query string's parameters by `table` (absent or empty: None), or one 422
    naming every bad parameter. The same table describes them in the OpenAPI document."""
    out, errors = {}, []
    for name, spec in table.items():
        try:
            out[name] = query_value(args, name, spec.convert, required=spec.required)
        except ValidationFailed as exc:
            errors.extend(exc.details)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    return out


def query_parameter(name: str, spec: F) -> dict:
    """The OpenAPI description of one query parameter of a table. An optional one
    sent empty (`?to=`) counts as absent."""
    schema = {**getattr(spec.convert, "schema", {}), **spec.extra}
    param = {"name": name, "in": "query", "required": spec.required, "schema": schema}
    if not spec.required:
        param["allowEmptyValue"] = True
    return param


def query_value(args, name: str, convert, *, required: bool = False):
    """Convert one query-string argument, as a 422 naming the parameter on error."""
    raw = args.get(name)
    if raw in (None, ""):
        if required:
            raise ValidationFailed(_l("Please correct the marked fields."), [{"field": name, "message": _l("This field is required.")}])
        return None
    try:
        return convert(raw)
    except FieldError as exc:
        raise ValidationFailed(_l("Please correct the marked fields."), [{"field": name, "message": exc.args[0]}]) from None
