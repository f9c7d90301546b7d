"""Guards of the HTML faces: log in first, then the role's permission; a recent
password for admin pages; safe `next` targets."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from datetime import timedelta

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opsroom import clock
from opsroom.services.permissions import can


def permission_required(permission: str):
    """View decorator: log in first, then 403 for a role without `permission`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths: no scheme, no host, no `//` or `\\` tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and all(ord(c) >= 32 for c in target)


def recently_authenticated() -> bool:
    """Whether the current login typed its password within REAUTH_MAX_AGE_MINUTES."""
    row = g.get("login_session")
    if row is None:
        return False
    limit = timedelta(minutes=current_app.extensions["opsroom.settings"].reauth_max_age_minutes)
    return clock.now() - row.authenticated_at <= limit


def recent_login_required(view):
    """Admin pages and actions: a login whose password was typed recently,
    else the re-authentication page (then back to the page, or for a POST to
    the page it came from)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.is_authenticated and not recently_authenticated():
            if request.method in ("GET", "HEAD"):
                target = request.full_path.rstrip("?")
            else:
                referrer = request.referrer or ""
                parts = urlsplit(referrer)
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if parts.netloc and parts.netloc != request.host:
                    target = ""
            flash(_("Please enter your password again to continue."))
            return redirect(url_for("auth.reauth", next=target if is_safe_next(target) else None))
        return view(*args, **kwargs)

    return wrapped


def client_ip() -> str:
    # Behind a proxy, deploy with ProxyFix so remote_addr is the client (README).
    return request.remote_addr or "unknown"
