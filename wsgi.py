"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import gc
import sys

from opsroom import create_app

app = create_app()
# The app's long-lived objects (models, catalogs, templates, routes) are built:
# keep them out of the collector's full passes, which a large request (an order
# batch allocates tens of thousands of rows) would otherwise trigger over and
# over, each walking every one of them (the usual gunicorn practice, once per worker).
gc.freeze()
# A worker's threads take turns on the interpreter every 0.5 ms instead of 5: a
# thread whose database answer has arrived (an ingestion's writer, another request)
# waits that long at most while another thread computes (docs/performance.md).
sys.setswitchinterval(0.0005)
