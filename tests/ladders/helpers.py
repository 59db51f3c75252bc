"""Build ladders and practice for tests through the real services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import Flask, g
from sqlalchemy.orm import Session

from portal.ladders import services
from portal.models import Case, User
from portal.models.ladders import Completion, FearScale, Ladder, LadderStep

PRIVATE_NOTE = "SENTINEL_F1_TEEN_PRIVATE_NOTE_c0de"


def a_ladder(
    therapist: User,
    case: Case,
    ratings: tuple[float, ...] = (2, 3.5, 5, 6.5, 8),
    *,
    lineage_key: str = "goal-lineage-1",
    **rule: int,
) -> tuple[Ladder, list[LadderStep]]:
    ladder = services.do_create_ladder(
        therapist, case, goal_lineage_key=lineage_key, title="Brave with dogs", **rule
    )
    steps = [
        services.do_add_step(
            therapist, ladder, title=f"Step rated {rating}", fear_score=round(rating * 10)
        )
        for rating in ratings
    ]
    return ladder, steps


def practice(
    actor: User,
    case: Case,
    step: LadderStep,
    *,
    peak: int,
    scale: FearScale = FearScale.THERMOMETER_10,
    completion: Completion = Completion.FULL,
    when: datetime | None = None,
    key: str | None = None,
    note: str = "",
    private: bool = False,
    on_behalf: bool = False,
) -> services.PracticeResult:
    data = services.PracticeInput(
        ratings=services.Ratings(scale, peak=peak),
        completion=completion,
        idempotency_key=key or str(uuid.uuid4()),
        note=note,
        note_private=private,
        practiced_at=when,
    )
    return services.do_log_practice(
        actor, case, step, data, on_behalf_of_child=on_behalf, private_notes_allowed=private
    )


@contextmanager
def services_on(app: Flask, db_session: Session) -> Iterator[None]:
    with app.test_request_context():
        g.db_session = db_session
        yield
        db_session.commit()
        g.pop("db_session")


def build_ladder_scene(
    app: Flask, db_session: Session, therapist: User, child: User, case: Case, goal_key: str
) -> dict[str, object]:
    """Case1's ladder for the access matrix: three steps, one practice (3 tokens), a waiting step
    idea, an approved 1-token reward and a request for it waiting for a guardian."""
    with services_on(app, db_session):
        ladder, steps = a_ladder(therapist, case, (2, 3.5, 5), lineage_key=goal_key)
        attempt = practice(child, case, steps[0], peak=3).attempt
        idea = services.do_suggest_step(
            child, case, ladder, title="Look at the dog next door", on_behalf_of_child=False
        )
        reward = services.do_add_reward(therapist, case, title="Sticker", cost=1, approve=False)
        services.do_approve_reward(therapist, reward)
        redemption = services.do_request_reward(child, case, reward, on_behalf_of_child=False)
    return {
        "goal_key": goal_key,
        "ladder": ladder.id,
        "step": steps[0].id,
        "attempt": attempt.id,
        "suggestion": idea.id,
        "reward": reward.id,
        "redemption": redemption.id,
    }
