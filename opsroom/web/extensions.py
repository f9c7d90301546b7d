"""The Flask extensions, created once here and bound to the app in `create_app`:
every face imports them from here, never from the app or from each other."""
from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
