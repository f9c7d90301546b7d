"""The hall's big screen (大屏) and the admins' page of screen tokens.

`/screen?token=…` opens the screen with a read-only screen token, so a hall PC
needs no staff login (which would expire mid-day); staff may open `/screen`
logged in. The page draws itself from the JSON of `GET /api/v1/screen` (with
the token) or `/screen/data` (with the staff login) and polls it
(static/js/screen.js), reconnecting after a server restart.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from opsroom.db import get_session
from opsroom.views.forms import PostForm
from opsroom.web.guards import recent_login_required
from opsroom.services.permissions import can
from opsroom.web.guards import permission_required
from opsroom.services.sales import screen as service
from opsroom.views.helpers import attempt

bp = Blueprint("screen", __name__)


class ScreenTokenForm(FlaskForm):
    label = StringField(_l("Label (where the screen hangs)"), validators=[Optional(), Length(max=100)])


def _screen_locale() -> str:
    """zh_CN unless ?lang= names another language of the app; a logged-in
    person keeps their own language."""
    wanted = request.args.get("lang")
    if wanted in current_app.config["LANGUAGES"]:
        return wanted
    if current_user.is_authenticated and current_user.locale in current_app.config["LANGUAGES"]:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _render(viewer, token: str | None):
    session = get_session()
    with force_locale(_screen_locale()):
        snapshot = service.snapshot(session, viewer)
        html = render_template(
            "screen/index.html", snapshot=snapshot, token=token or "",
            endpoint=url_for("api.screen") if token else url_for("screen.data"),
            poll_seconds=current_app.config["SCREEN_POLL_SECONDS"], lang=_screen_locale())
    response = current_app.make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/screen")
def index():
    token = request.args.get("token")
    if token is not None:
        viewer = service.viewer_for_token(get_session(), token.strip())
        if viewer is None:
            with force_locale(_screen_locale()):
                return render_template("screen/refused.html"), 401
        return _render(viewer, token.strip())
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not can(current_user, "screen.read"):
        abort(403)
    return _render(current_user, None)


@bp.get("/screen/data")
@permission_required("screen.read")
def data():
    """The screen's JSON for a logged-in staff member (the API takes tokens only)."""
    response = jsonify(service.snapshot(get_session(), current_user))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/screen/tokens", methods=["GET", "POST"])
@permission_required("screen.admin")
@recent_login_required
def tokens():
    session = get_session()
    form = ScreenTokenForm()
    new_token = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            ok, new_token = attempt(form, lambda: service.create_token(session, current_user, form.label.data or ""))
            if ok:
                flash(_("Screen token created. Copy it now: it is shown only once."))
                form = ScreenTokenForm(formdata=None)
            else:
                status = 422
        else:
            status = 422
    rows = service.list_tokens(session, current_user)
    screen_url = url_for("screen.index", token=new_token, _external=True) if new_token else None
    return render_template("screen/tokens.html", form=form, rows=rows, new_token=new_token,
                           screen_url=screen_url, revoke_form=PostForm(formdata=None)), status


@bp.post("/screen/tokens/<int:token_id>/revoke")
@permission_required("screen.admin")
@recent_login_required
def revoke(token_id: int):
    form = PostForm()
    if not form.validate():
        abort(400)
    ok, _row = attempt(form, lambda: service.revoke_token(get_session(), current_user, token_id))
    if not ok:
        abort(404)
    flash(_("Screen token revoked: that screen stops updating at its next refresh."))
    return redirect(url_for("screen.tokens"))
