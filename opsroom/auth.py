"""Log in and out, choose a language, manage one's API tokens."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_required, login_user, logout_user, user_loaded_from_cookie

from opsroom import clock
from opsroom.db import get_session
from opsroom.domain.numbers import whole_number
from opsroom.forms import LanguageForm, LoginForm, PasswordChangeForm, PostForm, ReauthForm, TokenForm
from opsroom.models import ApiToken, LoginSession, User
from opsroom.web.guards import is_safe_next
from opsroom.services.park import users
from opsroom.services.errors import ServiceError, TooManyAttempts

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
    from opsroom.web import install_converters

    install_converters(app)  # the first blueprint registered: its <int:> too
    app.register_blueprint(bp)


@login_manager.user_loader
def _load_user(user_id: str):
    """The user of a session or remember cookie: "id:key", where key names a
    live LoginSession row. A logged-out, expired or pre-issue-11 cookie names
    none and is anonymous."""
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


def _cookie_lifetime() -> timedelta:
    """The longest any cookie of a login can live (session or remember-me)."""
    remember = current_app.config.get("REMEMBER_COOKIE_DURATION", timedelta(days=365))
    if not isinstance(remember, timedelta):
        remember = timedelta(seconds=remember)
    lifetime = current_app.permanent_session_lifetime
    return max(remember, lifetime)


def recently_authenticated() -> bool:
    """Whether the current login typed its password within REAUTH_MAX_AGE_MINUTES."""
    row = g.get("login_session")
    if row is None:
        return False
    limit = timedelta(minutes=current_app.config["REAUTH_MAX_AGE_MINUTES"])
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
                from urllib.parse import urlsplit

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


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        db = get_session()
        try:
            user = users.authenticate(db, form.email.data, form.password.data, ip=client_ip())
        except TooManyAttempts as exc:
            form.password.errors.append(str(exc.message))
            return render_template("auth/login.html", form=form), 429
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
            status = 401
        else:
            locale = session.get("locale")
            # A fresh session on login (no fixation): nothing of the anonymous
            # session survives (its CSRF token neither), and the login lives in
            # a new server-side row whose key only the new cookie carries.
            session.clear()
            if locale and not user.locale:
                user.locale = locale  # keep the language chosen before logging in
            users.prune_login_sessions(db, user, older_than=clock.now() - _cookie_lifetime())
            user.login_key = users.start_login_session(db, user)
            db.commit()
            login_user(user, remember=form.remember.data)
            session.permanent = True
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("web.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    form = PostForm()
    if form.validate_on_submit():
        _end_this_login()
    return redirect(url_for("auth.login"))


def _end_this_login() -> None:
    """Log out here and server-side: the login's row goes, so every copy of its
    session and remember cookies (a stolen one too) is anonymous from now on."""
    key = getattr(current_user, "login_key", None)
    if key:
        db = get_session()
        users.end_login_session(db, key)
        db.commit()
    logout_user()
    session.clear()


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
def reauth():
    """Type the password again (admin pages want a recent login). Throttled like the login."""
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        db = get_session()
        try:
            ok = users.confirm_password(db, current_user, form.password.data, ip=client_ip(),
                                        key=getattr(current_user, "login_key", ""))
        except TooManyAttempts as exc:
            form.password.errors.append(str(exc.message))
            return render_template("auth/reauth.html", form=form), 429
        if ok:
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("web.home"))
        form.password.errors.append(_("Wrong password."))
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/reauth.html", form=form), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password: every other login of the account ends, this
    browser gets a new one."""
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        if form.new_password.data != form.confirm.data:
            form.confirm.errors.append(_("The two new passwords differ."))
            status = 422
        else:
            db = get_session()
            user = current_user._get_current_object()
            try:
                users.change_password(db, user, current=form.current_password.data, new=form.new_password.data,
                                      ip=client_ip())
            except TooManyAttempts as exc:
                form.current_password.errors.append(str(exc.message))
                return render_template("auth/password.html", form=form), 429
            except ServiceError as exc:
                from opsroom.views import apply_errors

                db.rollback()
                apply_errors(form, exc)
                status = 422
            else:
                session.clear()
                user.login_key = users.start_login_session(db, user)
                db.commit()
                login_user(user)
                session.permanent = True
                flash(_("Password changed. Every other login of this account has ended."))
                return redirect(url_for("auth.tokens"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form), status


@bp.post("/language")
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            get_session().commit()
    target = form.next.data or request.referrer or ""
    return redirect(target if is_safe_next(target) else url_for("web.home"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
@recent_login_required  # a stolen session cookie must not mint a long-lived token
def tokens():
    db = get_session()
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token = users.create_token(db, current_user, form.label.data or "")
        db.commit()
    rows = db.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
    ).all()
    return render_template("auth/tokens.html", form=form, tokens=rows, new_token=new_token, revoke_form=PostForm())


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    form = PostForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            users.revoke_token(db, current_user, token_id)
        except ServiceError:
            return render_template("errors/error.html", code=404), 404
        db.commit()
        flash(_("Token revoked."))
    return redirect(url_for("auth.tokens"))
