"""After `make demo`, Dr. Rivera (the clinic admin) sees a non-empty audit report, Carla sees who
viewed Leo's record, and the chain verifies."""

from __future__ import annotations

import re
from pathlib import Path

from portal import create_app
from portal.db import get_session
from tests.conftest import Browser


def test_LG05_the_demo_shows_the_audit_report_and_who_viewed_leos_record(tmp_path: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
            "SECRET_KEY": "d" * 40,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    assert runner.invoke(args=["demo-data"]).exit_code == 0  # a second run adds nothing

    rivera = Browser(app.test_client())
    rivera.login("rivera@demo.rapport.test", "rapport-demo-2026")
    report = rivera.get("/admin/audit").get_data(as_text=True)
    assert "David Martin" in report and "denied" in report and "Dr. Kai Chen" in report

    carla = Browser(app.test_client())
    carla.login("carla@demo.rapport.test", "rapport-demo-2026")
    family = carla.get("/family").headers["Location"]
    case_id = int(re.findall(r"\d+", family)[-1])
    page = carla.get(f"/cases/{case_id}/record-views").get_data(as_text=True)
    assert "Who viewed Leo&#39;s record" in page or "Who viewed Leo's record" in page
    assert "Dr. Rosa Rivera" in page and "David Martin" in page
    assert "Dr. Kai Chen" not in page  # his refused attempt is for the admin, not a viewing
    assert "Ana Okafor" not in page  # Maya's family never shows on Leo's page

    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0 and "chain intact" in result.output
    with app.app_context():
        get_session().close()
