"""What the tests share, in one place (fixtures stay in tests/conftest.py):

- `factories`: rows with sensible defaults (`Factory(session).room()`, `.booking()`, …);
- `live`: a real opsroom server in this process (`LiveServer`), real gunicorn
  workers (`Gunicorn`), fresh migrated databases, race clients (`at_once`);
- `receivers`: stand-ins for the chat robots and a webhook receiver;
- `pages`: a form's CSRF token, logging in and out through the forms, no
  inline code in a page, compiled catalogs;
- `mail`: a real SMTP server (aiosmtpd) and its inbox;
- `http`: a free port for a server, and one small urllib client for real
  servers (no redirects followed; a cookie jar or a fixed cookie; a bearer
  token for the API; JSON, form or multipart bodies);
- `races`: the coordinator, room and tenant (and booking, token) a race
  test commits before its clients start;
- `surface`: what users and clients see, written to a folder
  (`python -m tests.support.surface DIR`);
- `fuzz_hooks`: schemathesis hooks for the API fuzzing test.

`ROOT` is the repository's root.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
