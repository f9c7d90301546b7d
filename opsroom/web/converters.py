"""URL converters shared by every blueprint."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

# Ids are 32-bit INTEGER columns on PostgreSQL (and SQLite refuses anything past
# 64 bits): a larger number in a URL names no object, so it must end in the
# view's usual 404, not reach the database and fail there with a 500.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>`: an id past what a column can hold reads as 0, which no row has.

    (Refusing it in the converter instead would make Werkzeug answer 405 for
    some methods, and would skip the 401/403 checks that come before a 404.)"""

    def to_python(self, value):
        number = super().to_python(value)
        return number if number <= MAX_ID else 0


def init_app(app) -> None:
    """Before any blueprint is registered: rules bind their converters when added."""
    app.url_map.converters["int"] = IdConverter
