"""Demo clinic, messaging: a few weeks of fictional conversations in every family.

Maya's family thread (Ana, Ben, Dr. Rivera); Leo's family thread and a household thread for each
parent (Carla at Mum's house, David at Dad's house, whose last question waits past the reply
window); Sam's family thread with Erin and a teen thread with Dr. Kai Chen. Some messages are read,
some are not. Safe to run again: it does nothing once Maya's family thread exists.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update

from portal import db
from portal.db import utcnow
from portal.demo.people import family, person
from portal.messages import services
from portal.messages.references import Reference
from portal.models import (
    Case,
    MessageNotification,
    MessageThread,
    OutboxEmail,
    ReferenceType,
    ThreadKind,
    User,
)
from portal.models.plans import Goal, PlanStatus, PlanVersion

CLINIC_ZONE = ZoneInfo("America/New_York")


def _at(days_ago: int, hour: int, minute: int = 0, *, weekday_only: bool = True) -> datetime:
    day = (utcnow() - timedelta(days=days_ago)).astimezone(CLINIC_ZONE).date()
    step = timedelta(days=1 if days_ago >= 3 else -1)  # never into the future
    while weekday_only and day.weekday() >= 5:
        day += step
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CLINIC_ZONE)


def _first_goal(case: Case) -> Reference | None:
    goal_id = db.session.scalar(
        select(Goal.id)
        .join(PlanVersion, Goal.plan_version_id == PlanVersion.id)
        .where(PlanVersion.case_id == case.id, PlanVersion.status == PlanStatus.ACTIVE)
        .order_by(Goal.position)
    )
    return Reference(ReferenceType.GOAL, goal_id) if goal_id else None


Line = tuple[User, datetime, str] | tuple[User, datetime, str, Reference | None]


def _conversation(
    thread: MessageThread, case: Case, lines: list[Line], readers: dict[User, int]
) -> None:
    for line in lines:
        author, when, body = line[0], line[1], line[2]
        reference = line[3] if len(line) > 3 else None
        services.do_send_message(
            author,
            thread,
            case,
            body=body,
            idempotency_key=str(uuid.uuid4()),
            reference=reference,
            now=when.astimezone(ZoneInfo("UTC")),
        )
    for reader, seq in readers.items():
        services.do_mark_read(reader, thread, seq)


def load_demo_messages() -> bool:
    maya, leo, sam = family("Maya"), family("Leo"), family("Sam")
    if db.session.scalar(
        select(MessageThread.id).where(
            MessageThread.case_id == maya.id, MessageThread.kind == ThreadKind.FAMILY
        )
    ):
        return False
    printing = current_app.config.get("PRINT_OUTBOX")
    current_app.config["PRINT_OUTBOX"] = False  # history, not news: nobody is emailed about it
    try:
        _load(maya, leo, sam)
    finally:
        current_app.config["PRINT_OUTBOX"] = printing
    return True


def _load(maya: Case, leo: Case, sam: Case) -> None:
    rivera, chen = person("rivera@demo.rapport.test"), person("chen@demo.rapport.test")
    ana, ben = person("ana@demo.rapport.test"), person("ben@demo.rapport.test")
    carla, david = person("carla@demo.rapport.test"), person("david@demo.rapport.test")
    erin = person("erin@demo.rapport.test")
    sam_user = sam.child.user
    assert sam_user is not None

    family = services.do_open_thread(rivera, maya, ThreadKind.FAMILY)
    _conversation(
        family,
        maya,
        [
            (
                ana,
                _at(20, 10, 5),
                "Hi Dr. Rivera, drop-off went better today: Maya waved from "
                "the door! She still asked three times whether I would come back.",
            ),
            (
                rivera,
                _at(20, 14, 30),
                "That wave is a real step. When she asks, answer once, "
                "calmly, and then move on to the goodbye routine we practised.",
                _first_goal(maya),
            ),
            (
                ben,
                _at(13, 11, 0),
                "Quick question: is it OK if I do the Tuesday drop-off even "
                "though Ana has been doing them? Maya is a bit more clingy with me.",
            ),
            (
                rivera,
                _at(13, 15, 45),
                "Yes, please do. Practising with both of you helps her "
                "learn that goodbyes are safe with anyone. Keep it short and warm.",
            ),
            (
                ana,
                _at(1, 9, 40),
                "Sharing a win: Maya drew a picture of her 'brave goodbye' "
                "for the fridge. The worksheet is here: https://example.org/brave-goodbyes",
            ),
        ],
        {rivera: 5, ben: 4},
    )

    leo_family = services.do_open_thread(rivera, leo, ThreadKind.FAMILY)
    _conversation(
        leo_family,
        leo,
        [
            (
                rivera,
                _at(18, 10, 0),
                "Hello Carla and David, this is Leo's shared thread. I will "
                "post the practice for the week here so both homes have the same plan.",
                _first_goal(leo),
            ),
            (
                carla,
                _at(17, 16, 20),
                "Thank you. We watched the dog videos twice this weekend. "
                "Leo rated them a 4, down from 7.",
            ),
            (
                rivera,
                _at(9, 13, 10),
                "This week: stand across the road from the park while dogs "
                "walk past, five minutes, twice. Rate before and after.",
            ),
        ],
        {carla: 3, david: 2},
    )
    with_carla = services.do_open_thread(rivera, leo, ThreadKind.HOUSEHOLD, carla)
    _conversation(
        with_carla,
        leo,
        [
            (
                carla,
                _at(11, 21, 30, weekday_only=False),
                "Leo had a meltdown tonight when a "
                "neighbour's dog barked. Should we pause the ladder for a few days?",
            ),
            (
                rivera,
                _at(10, 10, 15),
                "Thank you for telling me. No need to pause: go back one "
                "step for two days, then try again. Praise the trying, not only the calm.",
            ),
            (
                carla,
                _at(4, 12, 0),
                "Back on step 3 and he did it! He wants to tell you himself at the next session.",
            ),
            (
                rivera,
                _at(3, 16, 0),
                "Wonderful news, well done to both of you. I can't wait to hear it from him.",
            ),
        ],
        {},
    )
    with_david = services.do_open_thread(rivera, leo, ThreadKind.HOUSEHOLD, david)
    _conversation(
        with_david,
        leo,
        [
            (
                rivera,
                _at(15, 11, 0),
                "Hi David, this is a private thread for Dad's house. Carla "
                "does not see it. How are the weekends going with the practice?",
            ),
            (
                david,
                _at(14, 17, 50),
                "Weekends are harder, we are out more. I would like to "
                "understand the reward tokens better, can we talk about it?",
            ),
            (
                rivera,
                _at(13, 9, 30),
                "Of course. Tokens are for trying, even a partial try. "
                "Let's look at the reward menu together at the next session.",
            ),
            (
                david,
                _at(6, 14, 15),
                "Can Leo do his practice at my place on Saturdays instead "
                "of Sundays? Sunday evenings are rushed with the handover.",
            ),
        ],
        {rivera: 3},
    )

    sam_family = services.do_open_thread(chen, sam, ThreadKind.FAMILY)
    _conversation(
        sam_family,
        sam,
        [
            (
                erin,
                _at(16, 10, 30),
                "Dr. Chen, Sam asked me not to come to the school meeting. "
                "Is that alright from your side?",
            ),
            (
                chen,
                _at(16, 15, 0),
                "Yes. Sam taking part on his own terms is part of the plan. "
                "I will share the general direction with you after the session.",
            ),
        ],
        {erin: 2},
    )
    teen = services.do_open_thread(chen, sam, ThreadKind.TEEN)
    _conversation(
        teen,
        sam,
        [
            (
                chen,
                _at(12, 11, 0),
                "Hi Sam, this thread is just you and me. Your mum does not "
                "see it. How did ordering at the café go?",
            ),
            (
                sam_user,
                _at(11, 16, 40),
                "I did it but my voice was shaking. The person didn't even notice tbh",
            ),
            (
                chen,
                _at(11, 17, 0),
                "That is exactly what we wanted to find out: the shaking "
                "felt big to you and nobody noticed. Next step: ask a question in class once.",
            ),
            (sam_user, _at(1, 15, 30), "asked one in history today. still alive lol"),
        ],
        {chen: 3},
    )
    # Old news: the demo's notification emails are never sent.
    db.session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.id.in_(select(MessageNotification.outbox_email_id)),
            OutboxEmail.sent_at.is_(None),
        )
        .values(cancelled_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
