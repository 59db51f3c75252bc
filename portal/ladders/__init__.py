from flask import Blueprint

bp = Blueprint("ladders", __name__)

# Each of these modules adds its routes to bp.
from portal.ladders import child_views, progress_views, views  # noqa: E402, F401
