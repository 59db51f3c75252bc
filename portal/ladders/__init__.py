from flask import Blueprint

bp = Blueprint("ladders", __name__)

# Each of these modules adds its routes to bp.
from portal.ladders import (  # noqa: E402, F401
    child_views,
    offline,
    progress_views,
    views,
    young_views,
)
