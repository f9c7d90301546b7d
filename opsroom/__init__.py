"""opsroom: operations for e-commerce parks and live-streaming bases."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from opsroom.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the work Flask does on every request
    that has no session to keep (every API call: bearer tokens only): no serializer
    built when no cookie came, and no cookie settings computed when nothing is to
    be set or deleted. The answers are Flask's own (an empty session that was read
    still adds `Vary: Cookie`)."""

    def open_session(self, app, request):
        if app.secret_key and (not request.environ.get("HTTP_COOKIE")
                               or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not session and not session.modified:  # Flask would set and delete nothing
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


class OpsroomFlask(Flask):
    """Flask, with the async check of each hook and view done once instead of on every request."""

    session_interface = _CookieSessions()

    def ensure_sync(self, func):
        cache = self.__dict__.setdefault("_sync_functions", {})
        try:
            return cache[func]
        except KeyError:
            cache[func] = synced = super().ensure_sync(func)
            return synced
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)


def create_app(config_object=None, **overrides) -> Flask:
    """Application factory: templates and static files live at the top level."""
    app = OpsroomFlask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    if config_object is None:
        from config import Config as config_object
    app.config.from_object(config_object)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)
    # Read once: services get them with their session, faces from the app.
    app.extensions["opsroom.settings"] = Settings.from_config(app.config)

    from opsroom import api, catalogs, cli, db, planner, views
    from opsroom.web import converters, errors, headers, i18n, login
    from opsroom.web.extensions import csrf

    db.init_app(app)
    catalogs.compile_catalogs(app.config["BABEL_TRANSLATION_DIRECTORIES"])  # a fresh checkout has no .mo
    i18n.init_app(app)
    login.init_app(app)
    csrf.init_app(app)
    converters.init_app(app)  # before any blueprint: rules bind their converters when added
    headers.init_app(app)
    errors.init_app(app)
    views.register(app)
    api.register(app)
    cli.init_app(app)
    planner.init_app(app)

    if app.config.get("EMBED_SCHEDULER") and not app.config.get("TESTING"):
        from opsroom import jobs

        jobs.start_embedded(app)
    return app


def _instance_secret(app: Flask) -> str:
    """A development secret kept in instance/ (production sets OPSROOM_SECRET_KEY)."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        os.makedirs(app.instance_path, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
