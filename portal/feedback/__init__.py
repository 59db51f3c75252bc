from flask import Blueprint

bp = Blueprint("feedback", __name__)

# Each of these modules adds its routes to bp.
from portal.feedback import views  # noqa: E402, F401
