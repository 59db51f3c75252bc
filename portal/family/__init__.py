from flask import Blueprint

bp = Blueprint("family", __name__)

# Each of these modules adds its routes to bp.
from portal.family import views  # noqa: E402, F401
