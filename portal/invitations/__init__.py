from flask import Blueprint

bp = Blueprint("invitations", __name__)

# Each of these modules adds its routes to bp.
from portal.invitations import views  # noqa: E402, F401
