"""The JSON API (docs/api.md): thin routes over the services, one module per area;
the live OpenAPI document at /api/v1/openapi.json describes every route."""
from __future__ import annotations


def register(app) -> None:
    """Every route of the API, on its blueprint, exempt from CSRF (bearer tokens only)."""
    from opsroom.api import openapi  # noqa: F401  (imports every area module: their routes join the blueprint)
    from opsroom.api.base import bp
    from opsroom.web.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
