"""The admins' integrations page: group robots and webhooks (add, test, remove),
the delivery log with "send again", and the failures."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from opsroom import labels
from opsroom.db import get_session
from opsroom.domain.integrations.signing import generate_webhook_secret
from opsroom.services.errors import ServiceError
from opsroom.services.integrations import targets
from opsroom.views.forms import PostForm, RobotForm, WebhookForm
from opsroom.views.helpers import apply_errors
from opsroom.views.operations.admin import bp
from opsroom.web.guards import permission_required, recent_login_required


def _page(robot_form=None, webhook_form=None, status=200):
    session = get_session()
    webhook_form = webhook_form or WebhookForm(formdata=None, secret=generate_webhook_secret())
    return render_template(
        "admin/integrations.html", robots=targets.list_robots(session, current_user),
        webhooks=targets.list_webhooks(session, current_user),
        deliveries=targets.deliveries(session, current_user, limit=50),
        failures=targets.failure_count(session), robot_form=robot_form or RobotForm(formdata=None),
        webhook_form=webhook_form, post_form=PostForm(), event_label=lambda e: labels.EVENT_LABELS.get(e, e),
        kind_label=lambda k: labels.ROBOT_KIND_LABELS.get(k, k),
        state_label=lambda s: labels.DELIVERY_STATE_LABELS.get(s, s)), status


@bp.get("/integrations")
@permission_required("integrations.admin")
@recent_login_required
def integrations():
    return _page()


@bp.post("/integrations/robots")
@permission_required("integrations.admin")
@recent_login_required
def add_robot():
    form = RobotForm()
    if form.validate_on_submit():
        try:
            targets.create_robot(get_session(), current_user, {
                "kind": form.kind.data, "name": form.name.data or "", "url": form.url.data.strip(),
                "secret": (form.secret.data or "").strip(), "events": form.events.data})
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            flash(_("The robot was added."))
            return redirect(url_for("admin.integrations"))
    return _page(robot_form=form, status=422)


@bp.post("/integrations/webhooks")
@permission_required("integrations.admin")
@recent_login_required
def add_webhook():
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            targets.create_webhook(get_session(), current_user, {
                "url": form.url.data.strip(), "secret": form.secret.data.strip(), "events": form.events.data})
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            flash(_("The webhook was added."))
            return redirect(url_for("admin.integrations"))
    return _page(webhook_form=form, status=422)


def _flash_outcome(delivery) -> None:
    if delivery.state == "sent":
        flash(_("Test message delivered (HTTP %(status)s).", status=delivery.last_status))
    elif delivery.state == "failed":
        flash(_("Test message failed: %(error)s", error=delivery.last_error or delivery.last_response
                or delivery.last_status), "error")
    else:
        flash(_("The robot's rate limit is reached: the test message waits in the outbox."))


@bp.post("/integrations/robots/<int:robot_id>/test")
@permission_required("integrations.admin")
@recent_login_required
def test_robot(robot_id: int):
    if PostForm().validate_on_submit():
        _flash_outcome(targets.test_robot(get_session(), current_user, robot_id))
    return redirect(url_for("admin.integrations"))


@bp.post("/integrations/webhooks/<int:webhook_id>/test")
@permission_required("integrations.admin")
@recent_login_required
def test_webhook(webhook_id: int):
    if PostForm().validate_on_submit():
        _flash_outcome(targets.test_webhook(get_session(), current_user, webhook_id))
    return redirect(url_for("admin.integrations"))


@bp.post("/integrations/robots/<int:robot_id>/delete")
@permission_required("integrations.admin")
@recent_login_required
def delete_robot(robot_id: int):
    if PostForm().validate_on_submit():
        targets.delete_robot(get_session(), current_user, robot_id)
        flash(_("The robot was removed."))
    return redirect(url_for("admin.integrations"))


@bp.post("/integrations/webhooks/<int:webhook_id>/delete")
@permission_required("integrations.admin")
@recent_login_required
def delete_webhook(webhook_id: int):
    if PostForm().validate_on_submit():
        targets.delete_webhook(get_session(), current_user, webhook_id)
        flash(_("The webhook was removed."))
    return redirect(url_for("admin.integrations"))


@bp.post("/integrations/deliveries/<int:delivery_id>/resend")
@permission_required("integrations.admin")
@recent_login_required
def resend_delivery(delivery_id: int):
    if PostForm().validate_on_submit():
        targets.resend(get_session(), current_user, delivery_id)
        flash(_("The message will be sent again."))
    return redirect(url_for("admin.integrations") + "#deliveries")
