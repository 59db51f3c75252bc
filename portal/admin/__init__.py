from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Each of these modules adds its routes to bp.
from portal.admin import views  # noqa: E402, F401
