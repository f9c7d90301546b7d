"""A tenant's home page (商家首页), made for a phone: its week, its open
requests, offers to accept, and yesterday's sales."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from opsroom.db import get_session
from opsroom import clock
from opsroom.services.requests.home import tenant_board, tenant_home
from opsroom.web.i18n import park_tz
from opsroom.views.forms import PostForm
from opsroom.web.guards import permission_required

bp = Blueprint("tenant", __name__, url_prefix="/tenant")


@bp.get("/")
@permission_required("tenant.home")
def index():
    return render_template("requests/home.html", home=tenant_home(get_session(), current_user), post_form=PostForm())


@bp.get("/board")
@permission_required("tenant.home")
def board():
    """The park's day for a tenant: its own sessions, and others' only as busy time."""
    today = clock.now().astimezone(park_tz()).date()
    raw = request.args.get("day")
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        abort(400)
    if abs((day - today).days) > 366:
        abort(400)
    return render_template("requests/board.html", rooms=tenant_board(get_session(), current_user, day), day=day,
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1))
