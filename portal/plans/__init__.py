from flask import Blueprint

bp = Blueprint("plans", __name__)

# Each of these modules adds its routes to bp.
from portal.plans import family_views, views  # noqa: E402, F401
