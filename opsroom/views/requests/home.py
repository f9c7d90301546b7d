"""A tenant's home page (商家首页), made for a phone: its week, its open
requests, offers to accept, and yesterday's sales."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from opsroom.db import get_session
from opsroom.services.requests.home import tenant_home
from opsroom.views.forms import PostForm
from opsroom.web.guards import permission_required

bp = Blueprint("tenant", __name__, url_prefix="/tenant")


@bp.get("/")
@permission_required("tenant.home")
def index():
    return render_template("requests/home.html", home=tenant_home(get_session(), current_user), post_form=PostForm())
