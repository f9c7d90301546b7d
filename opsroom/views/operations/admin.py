"""Admin pages: operations (scheduler heartbeat, job runs, failed emails)."""
from __future__ import annotations

from flask import current_app, Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opsroom.web.guards import recent_login_required
from opsroom.db import get_session
from opsroom.views.forms import PostForm
from opsroom.web.guards import permission_required
from opsroom.services.integrations import targets as integration_targets
from opsroom.services.operations import health
from opsroom.services.operations import notifications as notification_service

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/operations")
@permission_required("operations.admin")
@recent_login_required
def operations():
    session = get_session()
    state = health.report(session)
    failed = notification_service.failed_emails(session, current_user)
    return render_template("admin/operations.html", state=state, failed=failed, post_form=PostForm(),
                           integration_failures=integration_targets.failure_count(session),
                           email_enabled=current_app.extensions["opsroom.settings"].email_enabled)


@bp.post("/operations/emails/<int:notification_id>/retry")
@permission_required("operations.admin")
@recent_login_required
def retry_email(notification_id: int):
    if PostForm().validate_on_submit():
        notification_service.retry_email(get_session(), current_user, notification_id)
        flash(_("The email will be sent again."))
    return redirect(url_for("admin.operations"))
