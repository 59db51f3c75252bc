"""Reading the audit trail: the clinic admin's report (LG-05) and "who viewed the record" for a
child's guardians and therapists (DESIGN §7)."""

from flask import Blueprint

bp = Blueprint("audit", __name__)

# Each of these modules adds its routes to bp.
from portal.audit_report import views  # noqa: E402, F401
