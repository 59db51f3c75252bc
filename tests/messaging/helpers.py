"""Messaging scenes for tests, built through the real services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import Flask, g
from sqlalchemy.orm import Session

from portal.messages import services
from portal.models import Case, GuardianLink, MessageThread, ThreadKind, User
from portal.models.accounts import Role
from portal.models.plans import PlanVersion
from tests.factories import World, link_guardian, make_case, make_user

F1_MESSAGE_SENTINEL = "SENTINEL_F1_MESSAGE_c0de"
F2_MESSAGE_SENTINEL = "SENTINEL_F2_MESSAGE_d00d"


@contextmanager
def on_services(app: Flask, db_session: Session) -> Iterator[None]:
    """Call services on the test's own session, then commit (its outer transaction still rolls
    everything back at the end of the test)."""
    with app.test_request_context():
        previous = g.get("db_session")  # inside `in_app`, the app context (and g) is shared
        g.db_session = db_session
        yield
        db_session.commit()
        if previous is None:
            g.pop("db_session")


def post(
    author: User,
    thread: MessageThread,
    case: Case,
    body: str,
    *,
    now: datetime | None = None,
) -> services.Sent:
    return services.do_send_message(
        author, thread, case, body=body, idempotency_key=str(uuid.uuid4()), now=now
    )


def build_threads(app: Flask, db_session: Session, world: World) -> dict[str, int]:
    """Case1's family thread with one message from T1, and case2's with one from T2."""
    with on_services(app, db_session):
        family1 = services.do_open_thread(world.t1, world.case1, ThreadKind.FAMILY)
        post(world.t1, family1, world.case1, f"Welcome to the thread. {F1_MESSAGE_SENTINEL}")
        family2 = services.do_open_thread(world.t2, world.case2, ThreadKind.FAMILY)
        post(world.t2, family2, world.case2, f"Hello family two. {F2_MESSAGE_SENTINEL}")
    return {"family_thread": family1.id, "other_family_thread": family2.id}


def second_household(db_session: Session, world: World) -> tuple[User, GuardianLink]:
    """Case1's other parent, living in another household."""
    dad = make_user(db_session, Role.GUARDIAN, "Dan One", email="dan1@family.test")
    link = link_guardian(
        db_session, world.case1, dad, household="Dad's flat", relationship="Father"
    )
    db_session.commit()
    return dad, link


def teen_case(db_session: Session, world: World) -> tuple[Case, User, User]:
    """A 14-year-old with their own sign-in on T1's caseload, and their guardian."""
    case = make_case(db_session, world.clinic, world.t1, first="Tia", last="Teen", age=14)
    teen = make_user(db_session, Role.CHILD, "Tia", username="tia14")
    case.child.user_id = teen.id
    mum = make_user(db_session, Role.GUARDIAN, "Tess Teenmum", email="tmum@family.test")
    link_guardian(db_session, case, mum)
    db_session.commit()
    return case, teen, mum


def active_plan_for(
    app: Flask, db_session: Session, therapist: User, case: Case, guardian: User, child: User
) -> PlanVersion:
    """A signed-off, accepted and assented plan with two goals."""
    from portal.models.plans import AssentChoice, PlanStatus, ResponseKind
    from portal.plans import services as plans
    from tests.plans.helpers import proposed_plan

    with on_services(app, db_session):
        plan = proposed_plan(therapist, case)
        plans.do_guardian_response(guardian, plan, case, kind=ResponseKind.ACCEPT, comment="")
        plans.do_record_assent(child, plan, case, choice=AssentChoice.YES)
        assert plan.status is PlanStatus.ACTIVE
    return plan
