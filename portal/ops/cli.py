"""Flask commands: `demo-data` loads the demo clinic; `create-admin` makes the first admin."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import MultipleResultsFound, NoResultFound

from portal import db

# The demo clinic's fixed people (portal/demo/, README): what its loaders look up.
DEMO_ADULTS = ("rivera", "chen", "ana", "ben", "carla", "david", "erin")
DEMO_KIDS = ("leo", "sam")
DEMO_CHILDREN = ("Maya", "Leo", "Sam")


START_AFRESH = (
    "It stays as it is; to start afresh: make clean-db && make demo "
    "(this removes instance/rapport.db)."
)


def demo_clinic_changed() -> str | None:
    """Why the demo clinic cannot be completed as it stands (people used it: a deletion was
    completed, a child or a sign-in renamed), or None when it is absent or whole."""
    from portal.demo import CLINIC_NAME, DEMO_EMAIL_DOMAIN
    from portal.models import Case, Child, Clinic, User

    clinic_id = db.session.scalars(select(Clinic.id).where(Clinic.name == CLINIC_NAME)).first()
    if clinic_id is None:
        return None
    emails = {f"{who}{DEMO_EMAIL_DOMAIN}" for who in DEMO_ADULTS}
    found = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    usernames = set(db.session.scalars(select(User.username).where(User.username.in_(DEMO_KIDS))))
    children = db.session.scalars(
        select(Child.first_name)
        .join(Case, Case.child_id == Child.id)
        .where(Child.clinic_id == clinic_id, Child.first_name.in_(DEMO_CHILDREN))
    ).all()
    if found != emails or usernames != set(DEMO_KIDS) or sorted(children) != sorted(DEMO_CHILDREN):
        return "The demo clinic was changed by hand (a record deleted or renamed)."
    return None


def init_app(app: Flask) -> None:
    from portal.ops import data_commands

    data_commands.init_app(app)  # backup, restore, retention-purge

    @app.cli.command("demo-data")
    def demo_data() -> None:
        """Load the Willow Street demo clinic (safe to run twice)."""
        from portal.demo import load_demo_clinic

        if app.config["PORTAL_ENV"] == "production":
            raise click.ClickException("Demo data is never loaded in production (AU-07).")
        changed = demo_clinic_changed()
        if changed:
            click.echo(f"{changed} {START_AFRESH}")
            return
        try:
            created = load_demo_clinic()
        except (NoResultFound, MultipleResultsFound):
            db.session.rollback()
            click.echo(f"The demo clinic was changed by hand. {START_AFRESH}")
            return
        db.session.commit()  # commit point: the command's work
        click.echo("Demo clinic " + ("loaded." if created else "already present; nothing changed."))
        from portal.demo import SIGN_INS

        click.echo("\nDemo sign-ins (adults and Sam: password rapport-demo-2026):")
        for line in SIGN_INS:
            click.echo("  " + line)

    @app.cli.command("care-scan")
    def care_scan() -> None:
        """Raise time-based alerts and queue reminders (run hourly, e.g. from cron)."""
        from portal.calendar.reminders import queue_all
        from portal.db import utcnow
        from portal.feedback.services import scan_all

        alerts, reminders = scan_all()
        reminders += queue_all(utcnow())  # appointments tomorrow, practice behind (issue 13)
        db.session.commit()  # commit point: the command's work
        click.echo(f"{alerts} new alert(s), {reminders} reminder(s) queued.")

    @app.cli.command("outbox-send")
    @click.option("--loop", is_flag=True, help="Keep running, sending what is due every --every s.")
    @click.option("--every", default=30.0, show_default=True, help="Seconds between rounds.")
    def outbox_send(loop: bool, every: float) -> None:
        """Deliver due outbox mail over SMTP (PORTAL_SMTP_*), with retries; run it from cron or
        as a worker (--loop)."""
        import time

        from portal.ops.outbox import SmtpSettings, send_due_emails

        settings = SmtpSettings.from_config(app.config)
        while True:
            report = send_due_emails(settings)
            db.session.close()
            click.echo(f"outbox: {report.sent} sent, {report.failed} failed")
            if not loop:
                break
            time.sleep(every)

    @app.cli.command("audit-verify")
    @click.option(
        "--grace",
        default=60,
        show_default=True,
        help="Seconds a row may stay unsealed before it counts as a break.",
    )
    def audit_verify(grace: int) -> None:
        """Check the audit trail's hash chain (LG-04); exits non-zero at the first bad row."""
        from datetime import timedelta

        from portal.audit import (
            count_rows,
            count_unsealed,
            first_overdue,
            spool_overdue,
            verify_chain,
        )

        bad_row = verify_chain(db.session, unsealed_grace=None)
        if bad_row is not None:
            raise click.ClickException(
                f"audit chain broken at row {bad_row}: it was edited, inserted or follows a "
                "deleted row"
            )
        late_files = spool_overdue(db.session, timedelta(seconds=grace))
        if late_files:
            raise click.ClickException(
                f"audit rows in the spool ({', '.join(late_files)}) have waited more than "
                f"{grace} s to be sealed: nothing seals the trail (run audit-seal)"
            )
        late_row = first_overdue(db.session, timedelta(seconds=grace))
        if late_row is not None:
            raise click.ClickException(
                f"audit row {late_row} is still unsealed {grace} s after it was written: it was "
                "inserted behind the app's back with an old date, or nothing seals the trail "
                "(run audit-seal)"
            )
        click.echo(
            f"chain intact ({count_rows(db.session)} rows, "
            f"{count_unsealed(db.session)} written in the last {grace} s not sealed yet)"
        )

    @app.cli.command("audit-seal")
    @click.option("--loop", is_flag=True, help="Keep sealing (a worker) instead of one round.")
    @click.option("--every", default=2.0, show_default=True, help="Seconds between rounds.")
    def audit_seal(loop: bool, every: float) -> None:
        """Chain the committed audit rows that are not sealed yet (the app does it by itself
        shortly after each write; this is for cron, a worker, or before audit-verify)."""
        import time

        from portal.audit import seal, tidy_spool

        while True:
            sealed = seal(db.session)
            db.session.commit()  # commit point: the command's work
            tidy_spool(db.session)
            db.session.close()
            if sealed is None:
                click.echo("audit seal: another sealer is at work")
            elif sealed or not loop:
                click.echo(f"audit seal: {sealed} rows sealed")
            if not loop:
                break
            time.sleep(every)

    @app.cli.command("reset-second-factor")
    @click.argument("email")
    def reset_second_factor(email: str) -> None:
        """Forget a therapist's authenticator and recovery codes (lost phone): they enrol again at
        their next sign-in, and every session of theirs ends now (AU-08)."""
        from sqlalchemy import select

        from portal.audit import record
        from portal.auth import second_factor
        from portal.models import Role, User
        from portal.security import end_all_sessions

        user = db.session.scalars(
            select(User).where(User.email == email.strip().lower(), User.role == Role.THERAPIST)
        ).one_or_none()
        if user is None:
            raise click.ClickException("No therapist has that email.")
        second_factor.reset(user)
        end_all_sessions(user.id, "second factor reset")
        record(db.session, action="mfa_reset", actor=None, object_type="user", object_id=user.id)
        db.session.commit()  # commit point: the command's work
        click.echo(f"{user.display_name} sets up a new authenticator at the next sign-in.")

    @app.cli.command("create-admin")
    @click.option("--clinic", "clinic_name", required=True, help="Clinic name, created if new.")
    @click.option("--email", required=True)
    @click.option("--name", "display_name", required=True)
    @click.password_option()
    def create_admin(clinic_name: str, email: str, display_name: str, password: str) -> None:
        """Create the first clinic admin (a therapist flagged admin)."""
        from sqlalchemy import select

        from portal.models import Clinic, Credential, Role, User
        from portal.passwords import hash_secret, password_problem

        if problem := password_problem(password, sign_in_name=email, staff=True):
            raise click.ClickException(problem)
        email = email.strip().lower()
        if db.session.scalars(select(User.id).where(User.email == email)).first():
            raise click.ClickException("That email is already in use.")
        clinic = db.session.scalars(select(Clinic).where(Clinic.name == clinic_name)).first()
        if clinic is None:
            clinic = Clinic(name=clinic_name)
            db.session.add(clinic)
            db.session.flush()
        admin = User(
            role=Role.THERAPIST,
            clinic_id=clinic.id,
            is_admin=True,
            email=email,
            display_name=display_name,
            credential=Credential.PASSWORD,
            password_hash=hash_secret(password),
        )
        db.session.add(admin)
        db.session.flush()
        from portal.audit import record

        record(
            db.session, action="role_grant", object_type="user", object_id=admin.id, detail="admin"
        )
        db.session.commit()  # commit point: the command's work
        click.echo(f"Clinic admin {email} created for {clinic.name}.")
