from flask import Blueprint

bp = Blueprint("feedback", __name__)

# Each of these modules adds its routes to bp.
from portal.feedback.alert_words import alert_summary  # noqa: E402

bp.add_app_template_filter(alert_summary, "alert_summary")  # an alert in the reader's language

from portal.feedback import views  # noqa: E402, F401
