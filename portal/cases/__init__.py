from flask import Blueprint

bp = Blueprint("cases", __name__)

# Each of these modules adds its routes to bp.
from portal.cases import views  # noqa: E402, F401
