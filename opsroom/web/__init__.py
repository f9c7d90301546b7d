"""Cross-cutting web concerns: CSRF, security headers, error pages, home."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from werkzeug.routing import IntegerConverter

from opsroom.forms import LanguageForm, PostForm

csrf = CSRFProtect()
bp = Blueprint("web", __name__)

# No inline script or style anywhere, so the policy can be strict.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS = (("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                    ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"))


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


def locale_code() -> str:
    """The active language as LANGUAGES spells it ("zh_CN", "en"), for templates:
    Babel's own name for zh_CN is "zh_Hans_CN", so `get_locale()|string` never
    equalled "zh_CN" and Chinese pages said lang="en"."""
    from babel import Locale
    from flask import current_app

    active = get_locale()
    for code in current_app.config["LANGUAGES"]:
        if Locale.parse(code) == active:
            return code
    return str(active)


def install_converters(app) -> None:
    """Before any blueprint is registered: rules bind their converters when added."""
    app.url_map.converters["int"] = IdConverter


def init_app(app) -> None:
    from opsroom.views import register as register_views

    install_converters(app)

    from opsroom.api import bp as api_bp

    csrf.init_app(app)
    csrf.exempt(api_bp)  # the API authenticates by bearer token, never by cookie
    app.register_blueprint(bp)
    register_views(app)

    @app.after_request
    def _security_headers(response):
        # As headers.setdefault on each, with one pass over the response's headers
        # (a miss in werkzeug's Headers raises and catches an exception per name).
        headers = response.headers
        present = {name.lower() for name, _value in headers}
        for name, value in SECURITY_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000")
        return response

    from opsroom import labels
    from opsroom.services.permissions import can

    # Globals, not a context processor: imported macros see them too.
    app.jinja_env.globals.update(
        get_locale=locale_code,
        can=lambda perm: can(current_user, perm),
        booking_status_label=lambda s: labels.BOOKING_STATUS_LABELS.get(s, s),
        tenant_status_label=lambda s: labels.TENANT_STATUS_LABELS.get(s, s),
        role_label=lambda s: labels.ROLE_LABELS.get(s, s),
        action_label=lambda s: labels.ACTION_LABELS.get(s, s),
        anchor_role_label=lambda s: labels.ANCHOR_ROLE_LABELS.get(s, s),
        cancel_reason_label=lambda s: labels.CANCEL_REASON_LABELS.get(s, s),
    )

    @app.context_processor
    def _forms():
        return {"language_form": LanguageForm(formdata=None), "post_form": PostForm(formdata=None)}

    def _error_page(code):
        def handler(exc):
            if request.path.startswith("/api/"):
                from opsroom.api.errors import error_response

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
        from opsroom.db import get_session

        get_session().rollback()
        return _error_page(400)(exc)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc):
        """The database went away (or stays locked): a clean 503, never a
        traceback; the next request reconnects (pool_pre_ping) once it is back.
        A transaction the database aborted because it raced another (a
        deadlock) is a lost race: 409, "try again"."""
        from opsroom.db import get_session, lost_race

        if lost_race(exc):
            get_session().rollback()
            return _error_page(409)(exc)
        return database_unavailable(exc)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return render_template("errors/error.html", code=400, csrf=True), 400


def database_unavailable(exc=None):
    """503 for a request the database could not serve: JSON `unavailable` under
    /api/, else the error page rendered for an anonymous visitor (so that the
    page itself needs no query)."""
    from flask import current_app, g

    from opsroom.db import get_session

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

        from opsroom.api.errors import error_response

        response = error_response(503, _l("The database cannot be reached. Please retry in a moment."),
                                  code="unavailable")
    else:
        response = current_app.make_response((render_template("errors/error.html", code=503), 503))
    response.headers["Retry-After"] = "5"
    return response


@bp.route("/")
@login_required
def home():
    if current_user.role == "anchor":
        return redirect(url_for("me.schedule"))
    return redirect(url_for("board.day"))
