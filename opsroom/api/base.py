"""The JSON API's blueprint under /api/v1: bearer tokens only (no cookies, so no
CSRF), the role check, the JSON body, and service errors as the API's error bodies."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError

from opsroom.web.errors import database_unavailable, error_response
from opsroom.db import get_session, lost_race
from opsroom.services.permissions import require
from opsroom.services.sales import screen as screen_service
from opsroom.services.park import users
from opsroom.services.errors import BadRequest, ServiceError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Endpoints that need no token (the health check answers more with an admin token;
# the 抖店 push is signed by 抖店 instead).
PUBLIC_ENDPOINTS = {"api.openapi", "api.health", "api.push_doudian"}
# Endpoints that read nothing but the token's user (and, rarely, its anchor):
# they authenticate on a connection of their own and open no ORM session.
SESSIONLESS_ENDPOINTS = {"api.me"}
# The only endpoints a screen token opens.
SCREEN_ENDPOINTS = {"api.screen"}


@bp.before_request
def _authenticate():
    # The request and `g` themselves, not their proxies: this runs on every API request.
    req, ctx = request._get_current_object(), g._get_current_object()
    endpoint = req.endpoint
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    if token.startswith(screen_service.TOKEN_PREFIX):
        # A screen token is read-only: it opens the screen's data and nothing else.
        viewer = screen_service.viewer_for_token(get_session(), token)
        if viewer is None:
            return error_response(401)
        if endpoint not in SCREEN_ENDPOINTS:
            return error_response(403, _l("A screen token opens only the big screen."))
        ctx.api_user = viewer
        return None
    if endpoint in SESSIONLESS_ENDPOINTS:
        # One statement on a pooled connection of its own: no ORM session at all.
        found = users.token_principal_read(current_app.extensions["opsroom.sessionmaker"].kw["bind"], token)
    else:  # the same statement as the first of the request's session
        found = users.token_principal(get_session().connection(), token)
    if found is None:
        return error_response(401)
    ctx.api_principal, ctx.api_anchor_id = found
    return None


def current():
    """The user behind the request's token, in the request's session."""
    user = g.get("api_user")
    if user is None:
        # Every column loaded: merged without SQL (the session's own instance,
        # should the route have loaded that user already).
        user = g.api_user = users.adopt(get_session(), g.api_principal)
    return user


def principal():
    """The user behind the request's token, for reading its columns only (no session)."""
    ctx = g._get_current_object()
    return ctx.get("api_user") or ctx.api_principal


def needs(permission: str):
    """Check the role before reading the body: a wrong role is a 403 whatever it sent."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            require(current(), permission)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def body() -> object:
    """The request's JSON body, or a 400 bad_request."""
    if not request.is_json:
        raise BadRequest(_l("Send JSON with Content-Type: application/json."))
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest(_l("The body is not valid JSON."))
    return data


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    get_session().rollback()
    response = jsonify(exc.body())
    response.status_code = exc.status
    return response


@bp.errorhandler(IntegrityError)
def _integrity_error(exc):
    # A constraint the service did not foresee (e.g. a race on a unique key).
    get_session().rollback()
    return error_response(409, _l("The change clashes with data saved at the same moment. Please retry."))


@bp.errorhandler(OperationalError)
def _operational_error(exc):
    if lost_race(exc):  # a race lost outside flush_or_conflict's watch
        return _integrity_error(exc)
    return database_unavailable(exc)  # rollback that survives a lost connection, Retry-After


def operation(summary: str, *, query: dict | None = None, body: tuple | None = None, answers: dict | None = None,
              ok: int = 200, errors: tuple[int, ...] = (401, 403, 404, 422), **extra):
    """Describe a route for the OpenAPI document, from the tables it parses with.

    `query`: its query string's parse table (the view parses `request.args` with
    the same table); `body`: (component name, parse table[, partial]) of its JSON
    body; `answers`: the schema of its answer with status `ok`; `errors`: the
    error statuses it answers besides those every route of its kind can (the
    document adds 401/403 with a token, 400/413/422 with a body, 503). `extra`
    replaces keys of the operation as written (a multipart body, the responses of
    a download, the security of a public route)."""

    def describe(view):
        view.openapi = {"summary": summary, "query": query, "body": body, "answers": answers, "ok": ok,
                        "errors": errors, "extra": extra}
        return view

    return describe
