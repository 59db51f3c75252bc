"""Extensions, created unbound; create_app() binds them."""

from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from portal.db import Database

database = Database()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
migrate = Migrate()
# Sign-in throttling (AU-03). Counters live in Redis when REDIS_URL is set, so several app
# servers share them; in memory otherwise (one process, development and tests).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
