"""The framework's floor: a bare Flask JSON endpoint, served by `bench/run.py`
under the same gunicorn settings as opsroom (`gunicorn bench.bare_app:app`).
No database, no session, no auth: what Flask + gunicorn cost per request."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping():
    return jsonify({"ok": True})
