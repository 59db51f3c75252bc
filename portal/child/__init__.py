from flask import Blueprint

bp = Blueprint("child", __name__)

# Each of these modules adds its routes to bp.
from portal.child import views  # noqa: E402, F401
