"""Errors as both faces answer them: the API's JSON error body (docs/api.md),
the error page, and the handlers every request shares (a database that went
away is a 503, a lost race a 409, a value no column holds a 400)."""
from __future__ import annotations

from flask import current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from flask_babel import lazy_gettext as _l

from opsroom.db import get_session, lost_race
from opsroom.services.errors import Forbidden as ServiceForbidden
from opsroom.services.errors import NotFound as ServiceNotFound

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


def init_app(app) -> None:
    def _error_page(code):
        def handler(exc):
            if request.path.startswith("/api/"):
                from opsroom.web.errors import error_response

                response = error_response(code)
            else:
                response = app.make_response((render_template("errors/error.html", code=code), code))
            if code == 405 and getattr(exc, "valid_methods", None):
                # RFC 9110: a 405 names the methods the resource takes (as Werkzeug computed them).
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            return response

        return handler

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page(code))

    @app.errorhandler(DataError)
    def _data_error(exc):
        # A value the database cannot hold that no validator caught (e.g. a NUL
        # character in a form field on PostgreSQL): the request is bad, not us.
        get_session().rollback()
        return _error_page(400)(exc)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc):
        """The database went away (or stays locked): a clean 503, never a
        traceback; the next request reconnects (pool_pre_ping) once it is back.
        A transaction the database aborted because it raced another (a
        deadlock) is a lost race: 409, "try again"."""
        if lost_race(exc):
            get_session().rollback()
            return _error_page(409)(exc)
        return database_unavailable(exc)

    @app.errorhandler(ServiceNotFound)
    @app.errorhandler(ServiceForbidden)
    def _service_refusal(exc):
        # A page's object that is missing or not the user's (the API's blueprint
        # answers its own with the JSON error body first).
        return _error_page(exc.status)(exc)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return render_template("errors/error.html", code=400, csrf=True), 400


def database_unavailable(exc=None):
    """503 for a request the database could not serve: JSON `unavailable` under
    /api/, else the error page rendered for an anonymous visitor (so that the
    page itself needs no query)."""
    # Nothing below may query: not the user loader (the locale selector and
    # the page ask for current_user), not the session.
    g._login_user = current_app.login_manager.anonymous_user()
    try:
        get_session().rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool drops it
        current_app.logger.debug("rollback after a lost connection failed", exc_info=True)
    current_app.logger.warning("database unavailable for %s %s: %s", request.method, request.path,
                               str(exc).splitlines()[0] if exc is not None else "")
    if request.path.startswith("/api/"):
        from flask_babel import lazy_gettext as _l

        from opsroom.web.errors import error_response

        response = error_response(503, _l("The database cannot be reached. Please retry in a moment."),
                                  code="unavailable")
    else:
        response = current_app.make_response((render_template("errors/error.html", code=503), 503))
    response.headers["Retry-After"] = "5"
    return response
