from flask import Blueprint

bp = Blueprint("calendar", __name__)

# Each of these modules adds its routes to bp.
from portal.calendar import views  # noqa: E402, F401
