"""Log in and out, choose a language, manage one's API tokens."""
from __future__ import annotations


import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from opsroom import clock
from opsroom.db import get_session
from opsroom.views.forms import LanguageForm, LoginForm, PasswordChangeForm, PostForm, ReauthForm, TokenForm
from opsroom.models import ApiToken
from opsroom.views.helpers import apply_errors
from opsroom.web.guards import is_safe_next
from opsroom.services.park import users
from opsroom.services.errors import ServiceError, TooManyAttempts
from opsroom.web.guards import client_ip, recent_login_required
from opsroom.web.login import cookie_lifetime

bp = Blueprint("auth", __name__)


def _password_form(form_class):
    """The login or re-authentication form, remembering where to go next."""
    form = form_class()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    return form


def _throttled(form, template: str, check):
    """A password check: (its outcome, None), or (None, the page again with 429)
    while the account or the address has failed too often."""
    try:
        return check(), None
    except TooManyAttempts as exc:
        form.password.errors.append(str(exc.message))
        return None, (render_template(template, form=form), 429)


def _to_next(form):
    target = form.next.data
    return redirect(target if is_safe_next(target) else url_for("auth.home"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = _password_form(LoginForm)
    status = 200
    if form.validate_on_submit():
        db = get_session()
        user, throttled = _throttled(form, "auth/login.html", lambda: users.authenticate(
            db, form.email.data, form.password.data, ip=client_ip()))
        if throttled:
            return throttled
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
            status = 401
        else:
            locale = session.get("locale")
            # A fresh session on login (no fixation): nothing of the anonymous
            # session survives (its CSRF token neither), and the login lives in
            # a new server-side row whose key only the new cookie carries.
            session.clear()
            user.login_key = users.log_in(db, user, cookies_live_since=clock.now() - cookie_lifetime(),
                                          locale=locale)
            login_user(user, remember=form.remember.data)
            session.permanent = True
            return _to_next(form)
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
        users.end_login_session(get_session(), key)
    logout_user()
    session.clear()


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
def reauth():
    """Type the password again (admin pages want a recent login). Throttled like the login."""
    form = _password_form(ReauthForm)
    status = 200
    if form.validate_on_submit():
        ok, throttled = _throttled(form, "auth/reauth.html", lambda: users.confirm_password(
            get_session(), current_user, form.password.data, ip=client_ip(), key=getattr(current_user, "login_key", "")))
        if throttled:
            return throttled
        if ok:
            return _to_next(form)
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
                apply_errors(form, exc)
                status = 422
            else:
                session.clear()
                user.login_key = users.start_login_session(db, user)
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
            users.set_locale(get_session(), current_user, form.locale.data)
    target = form.next.data or request.referrer or ""
    return redirect(target if is_safe_next(target) else url_for("auth.home"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
@recent_login_required  # a stolen session cookie must not mint a long-lived token
def tokens():
    db = get_session()
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token = users.create_token(db, current_user, form.label.data or "")
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
        flash(_("Token revoked."))
    return redirect(url_for("auth.tokens"))


@bp.route("/", endpoint="home")
@login_required
def home():
    if current_user.role == "anchor":
        return redirect(url_for("me.schedule"))
    if current_user.role == "tenant":
        return redirect(url_for("tenant.index"))
    return redirect(url_for("board.day"))
