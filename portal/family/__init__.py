from flask import Blueprint

from portal.policies import require

bp = Blueprint("family", __name__)


@bp.before_request
def _guardians_only() -> None:
    """Every route of this blueprint is a guardian's own: one guard for all of them."""
    require("family.use")


# Each of these modules adds its routes to bp.
from portal.family import views  # noqa: E402, F401
