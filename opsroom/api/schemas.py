"""Building blocks of the API's response schemas, shared by the area modules."""
from __future__ import annotations

ERROR = {"$ref": "#/components/responses/Error"}
# Instants the API answers with: RFC 3339 in the park's offset (UTC for a local mean time offset).
AT = {"type": "string", "format": "date-time"}
AT_OR_NULL = {**AT, "nullable": True}
S = {"type": "string"}
I = {"type": "integer"}  # noqa: E741
B = {"type": "boolean"}
# Money as the API writes it: a decimal string with two places.
MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "129.90"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def list_of(name: str) -> dict:
    return {"type": "array", "items": ref(name)}
