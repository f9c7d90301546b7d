"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from opsroom import create_app

app = create_app()
