"""The HTML faces: thin views over the services, one blueprint per module,
grouped by the same areas as the services (park, bookings, people and goods,
sales, reporting, operations)."""
from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user

from opsroom import labels
from opsroom.services.permissions import can
from opsroom.views.forms import LanguageForm, PostForm
from opsroom.web.i18n import locale_code


def register(app) -> None:
    """Every view blueprint, and what every template sees."""
    from opsroom.views.bookings import board, bookings, calendar, lineup  # noqa: F401  (lineup's routes join bookings.bp)
    from opsroom.views.operations import admin, integrations, notifications  # noqa: F401  (integrations' routes join admin.bp)
    from opsroom.views.park import account, rooms, tenants
    from opsroom.views.people_goods import anchors, me, products
    from opsroom.views.planning import plans
    from opsroom.views.reporting import reports
    from opsroom.views.requests import home as tenant_home
    from opsroom.views.requests import requests
    from opsroom.views.sales import forecast, orders, review, screen

    for module in (account, rooms, tenants, board, bookings, calendar, me, anchors, products, orders, screen,
                   reports, notifications, admin, review, requests, tenant_home, forecast, plans):
        app.register_blueprint(module.bp)

    # Globals, not a context processor: imported macros see them too.
    app.jinja_env.globals.update(
        get_locale=locale_code,
        can=lambda perm: can(current_user, perm),
        booking_status_label=lambda s: labels.BOOKING_STATUS_LABELS.get(s, s),
        tenant_status_label=lambda s: labels.TENANT_STATUS_LABELS.get(s, s),
        role_label=lambda s: labels.ROLE_LABELS.get(s, s),
        action_label=lambda s: labels.ACTION_LABELS.get(s, s),
        anchor_role_label=lambda s: labels.ANCHOR_ROLE_LABELS.get(s, s),
        cancel_reason_label=lambda s: labels.CANCEL_REASON_LABELS.get(s, s),
        job_label=lambda s: labels.JOB_LABELS.get(s, s),
    )

    def favicon():
        """Browsers ask for /favicon.ico where a page names no icon (the screen's own page, a PDF viewer)."""
        return redirect(url_for("static", filename="favicon.svg"), 301)

    app.add_url_rule("/favicon.ico", "favicon", favicon)

    @app.context_processor
    def _forms():
        return {"language_form": LanguageForm(formdata=None), "post_form": PostForm(formdata=None)}
