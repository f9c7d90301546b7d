"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import gc

from opsroom import create_app

app = create_app()
# The app's long-lived objects (models, catalogs, templates, routes) are built:
# keep them out of the collector's full passes, which a large request (an order
# batch allocates tens of thousands of rows) would otherwise trigger over and
# over, each walking every one of them (the usual gunicorn practice, once per worker).
gc.freeze()
