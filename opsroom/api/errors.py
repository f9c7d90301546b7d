"""The API's error bodies (API.md)."""
from __future__ import annotations

from flask import jsonify
from flask_babel import lazy_gettext as _l

_DEFAULTS = {
    400: ("bad_request", _l("The request could not be understood.")),
    401: ("unauthorized", _l("A valid API token is required.")),
    403: ("forbidden", _l("Your role may not do this.")),
    404: ("not_found", _l("No such object.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    409: ("conflict", _l("The request clashes with existing data.")),
    413: ("too_large", _l("The request is too large.")),
    422: ("validation_error", _l("Please correct the marked fields.")),
    429: ("too_many_requests", _l("Too many requests.")),
    500: ("internal_error", _l("Something went wrong on our side.")),
}


def error_response(status: int, message=None, details=None, code=None):
    default_code, default_message = _DEFAULTS.get(status, ("error", _l("Error.")))
    body = {"error": {"code": code or default_code, "message": str(message or default_message), "details": details or []}}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="opsroom"'
    return response
