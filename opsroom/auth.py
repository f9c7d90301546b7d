"""Log in and out, choose a language, manage one's API tokens."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from opsroom.db import get_session
from opsroom.domain.numbers import whole_number
from opsroom.forms import LanguageForm, LoginForm, PostForm, TokenForm
from opsroom.models import ApiToken, User
from opsroom.security import is_safe_next
from opsroom.services import users
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
    number = whole_number(user_id)
    if number is None:
        return None
    user = get_session().get(User, number)
    return user if user is not None and user.active else None


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
            user = users.authenticate(
                db, form.email.data, form.password.data, ip=client_ip(), config=current_app.config
            )
        except TooManyAttempts as exc:
            form.password.errors.append(str(exc.message))
            return render_template("auth/login.html", form=form), 429
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
            status = 401
        else:
            locale = session.get("locale")
            session.clear()  # a fresh session on login (no fixation)
            if locale and not user.locale:
                user.locale = locale  # keep the language chosen before logging in
                get_session().commit()
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
        logout_user()
        session.clear()
    return redirect(url_for("auth.login"))


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
