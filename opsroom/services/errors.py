"""Errors a service raises; every face maps them to the same status and code.

Messages are lazy Babel strings, so a face renders them in the user's locale.
"""
from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: Any, details: list[dict] | None = None, **extra: Any):
        super().__init__(str(message))
        self.message = message
        self.details = details or []
        self.extra = extra

    def body(self) -> dict:
        error = {"code": self.code, "message": str(self.message), "details": _plain(self.details)}
        error.update(_plain(self.extra))
        return {"error": error}


class BadRequest(ServiceError):
    status, code = 400, "bad_request"


class Unauthorized(ServiceError):
    status, code = 401, "unauthorized"


class Forbidden(ServiceError):
    status, code = 403, "forbidden"


class NotFound(ServiceError):
    status, code = 404, "not_found"


class Conflict(ServiceError):
    """A clash with another booking, blackout or assignment."""

    status, code = 409, "conflict"


def found(obj, message):
    """`obj`, or NotFound with `message` when it is None (a missing row)."""
    if obj is None:
        raise NotFound(message)
    return obj


class ValidationFailed(ServiceError):
    """A field is missing or malformed: details = [{field, message}]."""

    status, code = 422, "validation_error"


class RuleViolation(ServiceError):
    """Well-formed but against a rule: details = [{rule, field, message}]."""

    status, code = 422, "rule_violation"


class TooManyAttempts(ServiceError):
    status, code = 429, "too_many_requests"


def _plain(value: Any) -> Any:
    """Lazy strings to str, recursively, for JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
