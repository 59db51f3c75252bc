from flask import Blueprint

bp = Blueprint("about", __name__)

# Each of these modules adds its routes to bp.
from portal.about import views  # noqa: E402, F401
