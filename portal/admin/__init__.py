from flask import Blueprint

from portal.policies import require

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _clinic_admins_only() -> None:
    """Every route of this blueprint is the clinic admin's: one guard for all of them."""
    require("clinic.manage_therapists")


# Each of these modules adds its routes to bp.
from portal.admin import views  # noqa: E402, F401
