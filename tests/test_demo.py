"""The demo clinic is a contract: fixed, fictional people whose sign-ins stay stable, and
`make demo` is always safe to run again (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import create_app
from portal.db import get_session, utcnow
from portal.models import Case, Child, ConsentRecord, DataRequest, User
from tests.support.browser import Browser
from tests.support.demo import copied_app, migrated_app
from tests.support.tallies import kept, recounted


@pytest.fixture(scope="module")
def loaded_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo clinic loaded once by `flask demo-data`, as `make demo` does; tests that start
    from a loaded clinic take a copy of it (`_demo_in_use`)."""
    db_file = tmp_path_factory.mktemp("demo-loaded") / "demo.db"
    app = migrated_app(db_file)
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0 and "Demo clinic loaded." in result.output
    with app.app_context():
        get_session().close()
    return db_file


def test_demo_data_loads_once_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    app = migrated_app(tmp_path / "demo.db")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0 and "Demo clinic loaded." in first.output
    assert "rivera@demo.rapport.test" in first.output and "PIN 2468" in first.output

    def counts() -> tuple[int | None, ...]:
        with app.app_context():
            session = get_session()
            return tuple(
                session.scalar(select(func.count()).select_from(model))
                for model in (User, Child, Case, ConsentRecord)
            )

    before = counts()
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0 and "already present" in second.output
    # The README's nine people and three children, and eight families without published sign-ins
    # that give Dr. Rivera's caseload one family per kind of urgency (issue 14).
    assert counts() == before == (17, 11, 11, before[3])

    with app.app_context():
        session = get_session()
        today = utcnow().date()
        ages = {c.first_name: c.age(today) for c in session.scalars(select(Child))}
    assert {name: ages[name] for name in ("Maya", "Leo", "Sam")} == {
        "Maya": 6,
        "Leo": 10,
        "Sam": 14,
    }
    assert set(ages) - {"Maya", "Leo", "Sam"} == {
        "Ivy",
        "Rosa",
        "Theo",
        "Amira",
        "Jonah",
        "Noah",
        "Elsie",
        "Felix",
    }

    for email in ("rivera@demo.rapport.test", "carla@demo.rapport.test"):
        person = Browser(app.test_client())
        assert person.login(email, "rapport-demo-2026").status_code == 302
    assert Browser(app.test_client()).login("leo", "2468").headers["Location"] == "/me"

    # Issue 8: on Leo's case David reads Rapport in Spanish, Carla in English.
    pages = {}
    for email in ("david@demo.rapport.test", "carla@demo.rapport.test"):
        person = Browser(app.test_client())
        person.login(email, "rapport-demo-2026")
        pages[email] = person.get("/family", follow_redirects=True).get_data(as_text=True)
    assert "Cerrar sesión" in pages["david@demo.rapport.test"]
    assert "Sign out" in pages["carla@demo.rapport.test"]


def test_demo_data_refused_in_production(tmp_path: Path) -> None:
    app = create_app(
        {
            "PORTAL_ENV": "production",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
            "SECRET_KEY": "p" * 64,
        }
    )
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code != 0 and "never loaded in production" in result.output


def test_LG05_the_demo_shows_the_audit_report_and_who_viewed_leos_record(
    loaded_demo: Path, tmp_path: Path
) -> None:
    """After `make demo`, Dr. Rivera (the clinic admin) sees a non-empty audit report, Carla
    sees who viewed Leo's record, and the chain verifies."""
    app = _demo_in_use(loaded_demo, tmp_path)
    runner = app.test_cli_runner()
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


# --- Issue 13: `make demo` is always safe to run again ----------------------------------------


def _demo_in_use(loaded_demo: Path, tmp_path: Path) -> Flask:
    """A copy of the demo clinic as `make demo` left it."""
    return copied_app(loaded_demo, tmp_path / "demo.db")


def _change(app: Flask, change: str) -> None:
    from portal.rights import services as rights

    with app.test_request_context():
        session = get_session()
        if change == "deletion":
            maya = session.scalars(select(Case).join(Child).where(Child.first_name == "Maya")).one()
            ana = session.scalars(select(User).where(User.email == "ana@demo.rapport.test")).one()
            rivera = session.scalars(
                select(User).where(User.email == "rivera@demo.rapport.test")
            ).one()
            request = rights.do_request_deletion(ana, maya, "We moved away")
            session.flush()
            rights.do_complete_deletion(rivera, session.get(DataRequest, request.id))
        else:
            leo = session.scalars(select(Child).where(Child.first_name == "Leo")).one()
            leo.first_name = "Leon"
            david = session.scalars(select(User).where(User.username == "leo")).one()
            david.username = "leon"
        session.commit()
        session.close()


def _again(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.output


def test_after_a_completed_deletion_a_second_run_says_how_to_start_afresh(
    loaded_demo: Path, tmp_path: Path
) -> None:
    app = _demo_in_use(loaded_demo, tmp_path)
    _change(app, "deletion")
    output = _again(app)
    notes = [line for line in output.splitlines() if "make clean-db" in line]
    assert len(notes) == 1 and "changed by hand" in notes[0]
    assert "NoResultFound" not in output


def test_after_names_were_changed_a_second_run_says_how_to_start_afresh(
    loaded_demo: Path, tmp_path: Path
) -> None:
    app = _demo_in_use(loaded_demo, tmp_path)
    _change(app, "names")
    output = _again(app)
    assert len([line for line in output.splitlines() if "make clean-db" in line]) == 1


def test_the_demo_clinics_running_totals_agree_with_its_practice_and_tokens(
    loaded_demo: Path, tmp_path: Path
) -> None:
    """Issue 17: the jar and the calm days read running totals, which the demo's practice,
    rewards and confirmed redemptions leave equal to a recount of the rows."""
    app = _demo_in_use(loaded_demo, tmp_path)
    with app.app_context():
        session = get_session()
        totals = recounted(session)
        assert totals.cases and totals.days  # the demo children practised and earned
        assert kept(session) == totals


def test_the_demo_families_dates_agree_with_their_weeks_of_care(
    loaded_demo: Path, tmp_path: Path
) -> None:
    """Issue 13, every signal true: the demo families joined and gave their consents when care
    began, weeks ago, not at the moment the demo was loaded ("you agreed on <today>" beside two
    months of sessions and practice)."""
    from portal.models import CaseTherapist, GuardianLink
    from portal.models.feedback import SessionStatus, TherapySession

    app = _demo_in_use(loaded_demo, tmp_path)
    with app.app_context():
        session = get_session()
        loaded = utcnow()
        for case in session.scalars(
            select(Case).join(Child).where(Child.first_name.in_(["Maya", "Leo", "Sam"]))
        ):
            first_session = session.scalar(
                select(func.min(TherapySession.starts_at)).where(
                    TherapySession.case_id == case.id,
                    TherapySession.status == SessionStatus.HELD,
                )
            )
            assert first_session is not None and first_session < loaded
            joined = {
                link.guardian_id: link.valid_from
                for link in session.scalars(
                    select(GuardianLink).where(GuardianLink.case_id == case.id)
                )
            }
            records = session.scalars(
                select(ConsentRecord).where(ConsentRecord.case_id == case.id)
            ).all()
            assert records
            for record in records:
                assert record.recorded_at <= first_session, (case.id, record.kind)
                if record.given_by_id in joined:
                    assert record.recorded_at >= joined[record.given_by_id]
            for team in session.scalars(
                select(CaseTherapist).where(CaseTherapist.case_id == case.id)
            ):
                assert team.added_at <= first_session
            if case.child.user is not None:
                assert case.child.user.created_at <= first_session


def test_the_demo_clinics_alerts_and_tasks_are_words_stored_for_later(
    loaded_demo: Path, tmp_path: Path
) -> None:
    """Every alert and caseload task of the demo clinic is made through the services, so each is
    a msgid and parameters said in the reader's language (portal/stored_words.py), none a
    sentence stored in one language."""
    from flask_babel import force_locale

    from portal.models import CareAlert, CaseTask

    app = _demo_in_use(loaded_demo, tmp_path)
    with app.app_context():
        session = get_session()
        alerts = list(session.scalars(select(CareAlert)))
        tasks = list(session.scalars(select(CaseTask)))
        assert alerts and tasks
        assert all(alert.summary_words is not None for alert in alerts)
        assert all(task.summary_words is not None for task in tasks)
        with force_locale("es_US"):
            spanish = [a.summary_text for a in alerts] + [t.summary_text for t in tasks]
        english = [a.summary for a in alerts] + [t.summary for t in tasks]
    assert all(said != stored for said, stored in zip(spanish, english, strict=True))


def test_the_demo_therapists_read_each_answer_before_the_next_session(
    loaded_demo: Path, tmp_path: Path
) -> None:
    """Issue 13, every status true in the demo too: what families sent about earlier sessions was
    read (a recorded read, after it came in and before any written answer), so a family does not
    see weeks of "Sent; not read yet"; the answers about the latest session are still unread."""
    from portal.models.feedback import SessionFeedback, SessionStatus, TherapySession

    app = _demo_in_use(loaded_demo, tmp_path)
    with app.app_context():
        session = get_session()
        now = utcnow()
        for case in session.scalars(
            select(Case).join(Child).where(Child.first_name.in_(["Maya", "Leo", "Sam"]))
        ):
            held = session.scalars(
                select(TherapySession)
                .where(
                    TherapySession.case_id == case.id,
                    TherapySession.status == SessionStatus.HELD,
                )
                .order_by(TherapySession.starts_at)
            ).all()
            latest = held[-1]
            answers = session.scalars(
                select(SessionFeedback).where(
                    SessionFeedback.case_id == case.id,
                    SessionFeedback.respondent_key.startswith("guardian:"),
                )
            ).all()
            assert answers
            for answer in answers:
                if answer.session_id == latest.id:
                    assert answer.read_at is None and answer.read_by_id is None
                    continue
                assert answer.read_at is not None and answer.read_by_id is not None
                assert answer.created_at <= answer.read_at <= now
                if answer.answered_at is not None:
                    assert answer.read_at <= answer.answered_at


def test_riveras_caseload_has_a_family_on_top_for_each_urgency_and_leos_page_a_disproved_fear(
    loaded_demo: Path,
    tmp_path: Path,
) -> None:
    """Issue 14: every kind of urgency heads some family's row in the demo, and Leo's "before the
    session" page singles out the prediction that did not come true, linked to the entry."""
    from portal.cases import worklist
    from portal.cases.queries import cases_for
    from portal.models.ladders import PracticeAttempt

    app = _demo_in_use(loaded_demo, tmp_path)
    with app.test_request_context():
        session = get_session()
        rivera = session.scalars(select(User).where(User.email == "rivera@demo.rapport.test")).one()
        rows = worklist.build_queue(rivera, cases_for(rivera), now=utcnow(), today=utcnow().date())
        tops = {row.top: row.case.child.first_name for row in rows if row.top}
        disproved = session.scalars(
            select(PracticeAttempt).where(PracticeAttempt.prediction_came_true.is_(False))
        ).one()
        leo_id = disproved.case_id
    # "Any other alert" is what is left over; every named kind heads some family's row.
    assert set(tops) >= set(worklist.Urgency) - {worklist.Urgency.OTHER_ALERT}
    assert tops[worklist.Urgency.CONSENT_WITHDRAWN] == "Rosa"
    assert tops[worklist.Urgency.FAMILY_NOTE] == "Noah"
    person = Browser(app.test_client())
    person.login("rivera@demo.rapport.test", "rapport-demo-2026")
    page = person.get(f"/cases/{leo_id}/before-session").get_data(as_text=True)
    start = page.index("Predictions that did not come true")
    section = page[start : page.index("</ul>", start)]
    assert f'/cases/{leo_id}/progress#practice-{disproved.id}"' in section
    assert "The dog will jump at me" in section
