"""The clinical rules of exposure practice, tested without HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.ladders import services
from portal.ladders.scales import ScaleError, to_canonical
from portal.models.ladders import (
    Completion,
    FearScale,
    PracticeAttempt,
    StepRating,
    StepStatus,
    TokenEntry,
    TokenKind,
)
from tests.support.builders import a_ladder, practice
from tests.support.rows import World

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("scale", "raw", "stored"),
    [
        (FearScale.FACES_3, 0, 0),
        (FearScale.FACES_3, 1, 50),
        (FearScale.FACES_3, 2, 100),
        (FearScale.FACES_5, 1, 25),
        (FearScale.FACES_5, 3, 75),
        (FearScale.THERMOMETER_10, 7, 70),
        (FearScale.NUMBER_10, 10, 100),
        (FearScale.NUMBER_10, 0, 0),
    ],
)
def test_each_scale_is_stored_as_0_to_100(scale: FearScale, raw: int, stored: int) -> None:
    assert to_canonical(scale, raw) == stored


@pytest.mark.parametrize(("scale", "raw"), [(FearScale.FACES_3, 3), (FearScale.NUMBER_10, 11)])
def test_a_rating_outside_its_scale_is_refused(scale: FearScale, raw: int) -> None:
    with pytest.raises(ScaleError):
        to_canonical(scale, raw)
    with pytest.raises(ScaleError):
        to_canonical(scale, -1)


def test_practice_keeps_the_value_as_entered_and_its_scale(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    attempt = practice(world.c1, world.case1, steps[0], peak=1, scale=FearScale.FACES_3).attempt
    assert (attempt.fear_peak, attempt.fear_peak_raw, attempt.rating_scale) == (
        50,
        1,
        FearScale.FACES_3,
    )


def test_steps_go_in_by_fear_rating_and_only_the_first_is_open(
    in_app: Session, world: World
) -> None:
    ladder, _ = a_ladder(world.t1, world.case1, (5, 2, 8, 3.5))
    assert [s.fear_score for s in ladder.active_steps] == [20, 35, 50, 80]
    assert [s.position for s in ladder.active_steps] == [1, 2, 3, 4]
    assert [s.status for s in ladder.active_steps] == [StepStatus.AVAILABLE] + [
        StepStatus.LOCKED
    ] * 3


def test_neighbours_more_than_1_5_apart_get_a_gap_warning(in_app: Session, world: World) -> None:
    ladder, steps = a_ladder(world.t1, world.case1, (2, 3.5, 6, 6.5))
    gaps = services.gap_warnings(ladder)
    assert [(g.lower.id, g.upper.id) for g in gaps] == [(steps[1].id, steps[2].id)]
    assert gaps[0].size == 2.5  # 3.5 → 6; exactly 1.5 (2 → 3.5) is fine


def test_re_rating_a_step_keeps_its_history(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1, (2, 4))
    step = steps[1]
    services.do_edit_step(
        world.t1, step, title=step.title, fear_score=55, picture="dog", instructions="Slowly"
    )
    ratings = in_app.scalars(select(StepRating.fear_score).where(StepRating.step_id == step.id))
    assert list(ratings) == [40, 55]
    assert step.fear_score == 55


def test_moving_and_retiring_renumber_and_keep_the_first_step_open(
    in_app: Session, world: World
) -> None:
    ladder, steps = a_ladder(world.t1, world.case1, (2, 4, 6))
    services.do_move_step(world.t1, ladder, steps[1], "up")
    assert [s.id for s in ladder.active_steps] == [steps[1].id, steps[0].id, steps[2].id]
    assert steps[1].status is StepStatus.AVAILABLE
    services.do_retire_step(world.t1, ladder, steps[1])
    assert [s.id for s in ladder.active_steps] == [steps[0].id, steps[2].id]
    assert steps[0].status is StepStatus.AVAILABLE


def test_mastery_needs_a_low_peak_on_three_separate_days_then_unlocks_the_next(
    in_app: Session, world: World
) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    first, second = steps[0], steps[1]
    now = utcnow()
    practice(world.c1, world.case1, first, peak=2, when=now - 3 * DAY)
    practice(world.c1, world.case1, first, peak=5, when=now - 2 * DAY)  # not calm: does not count
    result = practice(world.c1, world.case1, first, peak=1, when=now - 2 * DAY)
    assert not result.mastered and first.status is StepStatus.PRACTISING
    assert second.status is StepStatus.LOCKED
    result = practice(world.c1, world.case1, first, peak=0, when=now)
    assert result.mastered and first.status is StepStatus.MASTERED
    assert result.unlocked == [second] and second.status is StepStatus.AVAILABLE
    assert steps[2].status is StepStatus.LOCKED


def test_three_calm_tries_on_one_day_are_not_mastery(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    for _ in range(3):
        practice(world.c1, world.case1, steps[0], peak=0)
    assert steps[0].status is StepStatus.PRACTISING
    assert services.calm_days(steps[0]) == 1


def test_the_therapist_sets_the_mastery_rule(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1, mastery_peak_max=4, mastery_days=2)
    practice(world.c1, world.case1, steps[0], peak=4, when=utcnow() - DAY)
    assert practice(world.c1, world.case1, steps[0], peak=3).mastered


def test_the_therapist_can_always_override(in_app: Session, world: World) -> None:
    ladder, steps = a_ladder(world.t1, world.case1)
    services.do_override_step(world.t1, ladder, steps[0], StepStatus.MASTERED)
    assert steps[0].status_overridden_by_id == world.t1.id
    assert steps[1].status is StepStatus.AVAILABLE
    services.do_override_step(world.t1, ladder, steps[0], StepStatus.PRACTISING)
    assert steps[0].status is StepStatus.PRACTISING and steps[0].mastered_at is None


def test_a_locked_step_cannot_be_logged(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    with pytest.raises(services.LadderRuleError):
        practice(world.c1, world.case1, steps[2], peak=3)


@pytest.mark.parametrize(
    ("completion", "tokens"),
    [(Completion.FULL, 3), (Completion.PARTIAL, 2), (Completion.STOPPED_EARLY, 1)],
)
def test_every_try_earns_tokens_a_partial_try_too(
    in_app: Session, world: World, completion: Completion, tokens: int
) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    result = practice(world.c1, world.case1, steps[0], peak=9, completion=completion)
    assert result.tokens == tokens
    assert services.token_balance(world.case1.id) == tokens


def test_harder_steps_earn_more(in_app: Session, world: World) -> None:
    ladder, steps = a_ladder(world.t1, world.case1, (2, 5, 8))
    earned = []
    for step in steps:
        services.do_override_step(world.t1, ladder, step, StepStatus.PRACTISING)
        earned.append(practice(world.c1, world.case1, step, peak=5).tokens)
    assert earned == [3, 4, 5]


def test_the_ledger_refuses_negative_awards_edits_and_deletes(
    in_app: Session, world: World
) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    attempt = practice(world.c1, world.case1, steps[0], peak=5).attempt
    entry = in_app.scalars(select(TokenEntry).where(TokenEntry.attempt_id == attempt.id)).one()
    assert entry.amount > 0 and entry.kind is TokenKind.EARNED
    for statement in (
        "UPDATE token_entries SET amount = -3",
        "DELETE FROM token_entries",
    ):
        with pytest.raises(DBAPIError), in_app.begin_nested():
            in_app.execute(text(statement))
    with pytest.raises(IntegrityError), in_app.begin_nested():
        in_app.add(
            TokenEntry(
                case_id=world.case1.id,
                kind=TokenKind.EARNED,
                amount=-2,
                attempt_id=attempt.id,
                reason="a penalty",
                entered_by_id=world.t1.id,
            )
        )
        in_app.flush()
    assert services.token_balance(world.case1.id) == 3


def test_the_same_form_key_twice_stores_one_practice(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    first = practice(
        world.c1, world.case1, steps[0], peak=3, key="7d5c3b0e-0000-4000-8000-000000000001"
    )
    again = practice(
        world.c1, world.case1, steps[0], peak=3, key="7d5c3b0e-0000-4000-8000-000000000001"
    )
    assert again.duplicate and again.attempt.id == first.attempt.id and again.tokens == 3
    count = in_app.scalar(select(func.count()).select_from(PracticeAttempt))
    assert count == 1 and services.token_balance(world.case1.id) == 3
    with pytest.raises(services.IdempotencyConflict):
        practice(
            world.c1, world.case1, steps[0], peak=8, key="7d5c3b0e-0000-4000-8000-000000000001"
        )


def test_a_twin_that_stored_the_key_after_the_look_up_is_answered_as_the_same_practice(
    in_app: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RL-02 when a twin races between the key's look-up and the insert (on PostgreSQL it can;
    SQLite's BEGIN IMMEDIATE makes the look-up decide, but both databases take the same path):
    the unique key refuses the second insert inside a savepoint, and the first practice is given
    back."""
    _, steps = a_ladder(world.t1, world.case1)
    key = "7d5c3b0e-0000-4000-8000-000000000003"
    first = practice(world.c1, world.case1, steps[0], peak=3, key=key)
    looked_up = services.find_attempt_by_key
    misses = iter([True])  # the twin's row is not there yet when this request looks

    def late_look_up(wanted: str) -> PracticeAttempt | None:
        return None if next(misses, False) else looked_up(wanted)

    monkeypatch.setattr(services, "find_attempt_by_key", late_look_up)
    again = practice(world.c1, world.case1, steps[0], peak=3, key=key)
    assert again.duplicate and again.attempt.id == first.attempt.id and again.tokens == 3
    count = in_app.scalar(select(func.count()).select_from(PracticeAttempt))
    assert count == 1 and services.token_balance(world.case1.id) == 3


def test_a_private_note_is_only_private_where_allowed(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    kept = practice(world.c1, world.case1, steps[0], peak=3, note="mine", private=True).attempt
    assert kept.note_private
    data = services.PracticeInput(
        ratings=services.Ratings(FearScale.THERMOMETER_10, peak=3),
        completion=Completion.FULL,
        idempotency_key="7d5c3b0e-0000-4000-8000-000000000002",
        note="not a teen",
        note_private=True,
    )
    plain = services.do_log_practice(
        world.c1, world.case1, steps[0], data, on_behalf_of_child=False, private_notes_allowed=False
    ).attempt
    assert not plain.note_private


def test_rewards_need_a_guardian_and_tokens_and_spending_needs_confirmation(
    in_app: Session, world: World
) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    practice(world.c1, world.case1, steps[0], peak=5)  # 3 tokens
    reward = services.do_add_reward(
        world.t1, world.case1, title="Pizza night", cost=3, approve=False
    )
    with pytest.raises(services.LadderRuleError, match="not said yes"):
        services.do_request_reward(world.c1, world.case1, reward, on_behalf_of_child=False)
    services.do_approve_reward(world.g1, reward)
    asked = services.do_request_reward(world.c1, world.case1, reward, on_behalf_of_child=False)
    assert services.token_balance(world.case1.id) == 3  # nothing spent until a guardian confirms
    with pytest.raises(services.LadderRuleError, match="more tokens"):
        services.do_request_reward(world.c1, world.case1, reward, on_behalf_of_child=False)
    spent = services.do_confirm_redemption(world.g1, asked)
    assert spent.amount == -3 and spent.kind is TokenKind.SPENT
    assert services.token_balance(world.case1.id) == 0
    assert services.tokens_earned(world.case1.id) == 3
    with pytest.raises(services.LadderRuleError):
        services.do_confirm_redemption(world.g1, asked)


def test_a_suggested_step_joins_the_ladder_when_approved(in_app: Session, world: World) -> None:
    ladder, _ = a_ladder(world.t1, world.case1, (2, 6))
    idea = services.do_suggest_step(
        world.c1, world.case1, ladder, title="Dog on TV", on_behalf_of_child=False
    )
    with pytest.raises(services.LadderRuleError):
        services.do_decide_suggestion(world.t1, idea, approve=True, fear_score=None)
    step = services.do_decide_suggestion(world.t1, idea, approve=True, fear_score=40)
    assert step is not None and [s.title for s in ladder.active_steps][1] == "Dog on TV"


def test_weekly_counts_against_the_target(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    for days in (0, 0, 8, 45):
        practice(world.c1, world.case1, steps[0], peak=5, when=utcnow() - days * DAY)
    weeks = services.weekly_counts(world.case1.id, target=2)
    assert len(weeks) == 6 and weeks[-1].count >= 1
    # Six weeks reach back 35 to 41 days, by the weekday: 45 days ago is always older (the
    # test once used 40 and failed on Saturdays).
    assert sum(w.count for w in weeks) == 3


def test_a_sunday_evening_try_counts_for_its_own_week_in_the_clinics_time_zone(
    in_app: Session, world: World
) -> None:
    """The clinic is in New York: a try at 9 p.m. on Sunday is 2 a.m. on Monday in UTC. It counts
    for the week the family lived it, as the practice reminder counts it, and each week is named
    by its own Monday."""
    _, steps = a_ladder(world.t1, world.case1)
    new_york = ZoneInfo("America/New_York")
    wednesday = datetime(2026, 12, 9, 12, 0, tzinfo=new_york)
    sunday_evening = datetime(2026, 12, 6, 21, 0, tzinfo=new_york)
    with time_machine.travel(wednesday, tick=False):
        practice(world.c1, world.case1, steps[0], peak=5, when=sunday_evening.astimezone(UTC))
        weeks = services.weekly_counts(world.case1.id, target=2)
    assert [w.count for w in weeks[-2:]] == [1, 0]  # the week of Nov 30, not this one
    assert weeks[-1].starts_on.astimezone(new_york).date() == date(2026, 12, 7)
    assert weeks[-2].starts_on.astimezone(new_york).date() == date(2026, 11, 30)
