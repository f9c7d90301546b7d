"""The inbox (通知) of every user: read and mark notices, and choose whether
they also come by email. The header's unread count comes from here too."""
from __future__ import annotations

from flask import current_app, Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from wtforms import BooleanField

from opsroom.db import get_session
from opsroom.views.forms import PostForm
from opsroom.web.guards import permission_required
from opsroom.services.operations import notifications as service

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


class EmailSettingForm(FlaskForm):
    email = BooleanField(_l("Also send my notices by email"))


@bp.app_context_processor
def _unread():
    """`unread_notifications()` for the header: one indexed COUNT, only when a
    page actually shows it (a logged-in user's page)."""

    def unread_notifications() -> int:
        if not getattr(current_user, "is_authenticated", False):
            return 0
        try:
            return service.unread_count(get_session(), current_user)
        except SQLAlchemyError:  # an error page must still render
            get_session().rollback()
            return 0

    return {"unread_notifications": unread_notifications, "notice_kind_label":
            lambda kind: service.KIND_LABELS.get(kind, kind)}


@bp.get("/")
@permission_required("notifications.own")
def index():
    session = get_session()
    notices = service.list_notifications(session, current_user)
    form = EmailSettingForm(formdata=None, email=current_user.email_notifications)
    return render_template("notifications/index.html", notices=notices, post_form=PostForm(), email_form=form,
                           email_enabled=current_app.extensions["opsroom.settings"].email_enabled,
                           unread=service.unread_count(session, current_user))


@bp.post("/<int:notification_id>/read")
@permission_required("notifications.own")
def mark_read(notification_id: int):
    form = PostForm()
    if form.validate_on_submit():
        service.mark_read(get_session(), current_user, notification_id)
    return redirect(url_for("notifications.index"))


@bp.post("/read-all")
@permission_required("notifications.own")
def mark_all_read():
    form = PostForm()
    if form.validate_on_submit():
        count = service.mark_all_read(get_session(), current_user)
        flash(_("%(n)s notices marked read.", n=count))
    return redirect(url_for("notifications.index"))


@bp.post("/settings")
@permission_required("notifications.own")
def settings():
    form = EmailSettingForm()
    if form.validate_on_submit():
        service.set_email_preference(get_session(), current_user, form.email.data)
        flash(_("Email of notices turned on.") if form.email.data else _("Email of notices turned off."))
    return redirect(url_for("notifications.index"))
