from flask import Blueprint

bp = Blueprint("rights", __name__)

# Each of these modules adds its routes to bp.
from portal.rights import views  # noqa: E402, F401
