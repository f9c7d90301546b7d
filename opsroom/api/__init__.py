"""The JSON API (docs/api.md): thin routes over the services, one module per area;
the live OpenAPI document at /api/v1/openapi.json describes every route."""
from __future__ import annotations


def register(app) -> None:
    """Every route of the API, on its blueprint, exempt from CSRF (bearer tokens only)."""
    from opsroom.api import (  # noqa: F401  (importing a module adds its routes to the blueprint)
        anchors, bookings, health, me, notifications, openapi, orders, products, reports, rooms, screen, stats,
        tenants,
    )
    from opsroom.api.base import bp
    from opsroom.web.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
