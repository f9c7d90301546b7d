"""Logins in the browser: Flask-Login's user loader over server-side login
sessions (a cookie names a live `LoginSession` row, so logging out or a new
password ends every copy of it), and how long a login's cookies may live."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, session
from flask_babel import lazy_gettext as _l
from flask_login import user_loaded_from_cookie

from opsroom.db import get_session
from opsroom.domain.numbers import whole_number
from opsroom.models import LoginSession, User
from opsroom.services.park import users
from opsroom.web.extensions import login_manager


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.login_message = _l("Please log in to see this page.")


@login_manager.user_loader
def _load_user(user_id: str):
    """The user of a session or remember cookie: "id:key", where key names a
    live LoginSession row. A logged-out or expired cookie (or one from before
    server-side logins) names none and is anonymous."""
    number_text, _sep, key = (user_id or "").partition(":")
    number = whole_number(number_text)
    if number is None or not key:
        return None
    row = get_session().execute(
        sa.select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == number, LoginSession.key_hash == users.hash_token(key))
    ).first()
    if row is None or not row.User.active:
        return None
    user = row.User
    user.login_key = key
    g.login_session = row.LoginSession
    return user


@user_loaded_from_cookie.connect
def _remembered(app, user=None, **_kw):
    """A login restored from the remember-me cookie: bind the new session to
    this browser as login_user would (Flask-Login leaves "_id" unset, and its
    "strong" protection then ends the session at the very next request)."""
    session["_id"] = login_manager._session_identifier_generator()
    session.permanent = True


def cookie_lifetime() -> timedelta:
    """The longest any cookie of a login can live (session or remember-me)."""
    remember = current_app.config.get("REMEMBER_COOKIE_DURATION", timedelta(days=365))
    if not isinstance(remember, timedelta):
        remember = timedelta(seconds=remember)
    lifetime = current_app.permanent_session_lifetime
    return max(remember, lifetime)
