from flask import Blueprint

bp = Blueprint("auth", __name__)

# Each of these modules adds its routes to bp.
from portal.auth import account, second_step, views  # noqa: E402, F401
