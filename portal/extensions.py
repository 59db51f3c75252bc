"""Extensions, created unbound; create_app() binds them."""

from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from portal.db import Database

database = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
migrate = Migrate()
