"""Secure messaging between the family and the therapist (DESIGN §6)."""

from flask import Blueprint

bp = Blueprint("messages", __name__)

# Each of these modules adds its routes to bp.
from portal.messages import views  # noqa: E402, F401
