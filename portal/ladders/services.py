"""The clinical rules of exposure practice (DESIGN §4).

Each `do_*` takes the actor explicitly and flushes; the view commits once. Rules:
- steps go easiest → hardest; neighbours more than 1.5/10 apart get a "consider a middle step";
- the first step is open, and mastering a step opens the next; the therapist can always override;
- mastery: the peak fear is at most the ladder's threshold on enough separate days (default 2/10
  on 3 days);
- every try earns tokens, a partial try or a stopped-early try too, harder steps more; the ledger
  only grows and tokens are spent only when a guardian confirms a reward was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import NamedTuple, TypeVarTuple, cast

from flask_babel import gettext as _
from sqlalchemy import (
    Insert,
    Select,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.db import utcnow
from portal.i18n import local_now
from portal.ladders.pictures import SITUATIONS
from portal.ladders.scales import to_canonical
from portal.models import AgeBand, Case, User
from portal.models.ladders import (
    CaseTally,
    Cheer,
    Completion,
    FearScale,
    Ladder,
    LadderStep,
    PracticeAttempt,
    Redemption,
    Reward,
    StepDay,
    StepRating,
    StepStatus,
    StepSuggestion,
    SuggestionStatus,
    TokenEntry,
    TokenKind,
)
from portal.policies import today

MAX_STEPS = 20
GAP_WARNING = 15  # 1.5 on the 0-10 scale, in canonical points
PICTURES = ("", *SITUATIONS)  # a step's picture: one of Rapport's own drawings, or none
STICKERS = ("⭐", "🌟", "🏆", "🦁", "🚀", "🌈", "💪", "🎉")
# Rewards keep their emoji: a reward is chosen with words, its picture only decorates.
REWARD_PICTURES = tuple(
    dict.fromkeys(
        (
            *("", "🐶", "🐕", "🦮", "🏫", "👋", "🛏️", "🌙", "🏞️", "🛝", "🙋", "🗣️", "🍽️", "👫"),
            *("📞", "🚪", "🚗", "🎒", "🧸", "📚", "🎨", "⚽", "🏊", "🎤", "🛒", "🧁", "⭐"),
            *STICKERS,
        )
    )
)
BASE_TOKENS = {Completion.FULL: 3, Completion.PARTIAL: 2, Completion.STOPPED_EARLY: 1}
_Ts = TypeVarTuple("_Ts")


class LadderRuleError(ValueError):
    """The rules refuse this change; the message is shown to the person as it is."""


class IdempotencyConflict(LadderRuleError):
    """The same form key came back with different answers (RL-02: 422)."""


# --- ladders and steps ---------------------------------------------------------------------------


def do_create_ladder(
    actor: User,
    case: Case,
    *,
    goal_lineage_key: str,
    title: str,
    mastery_peak_max: int = 2,
    mastery_days: int = 3,
    weekly_target: int = 4,
) -> Ladder:
    ladder = Ladder(
        case_id=case.id,
        goal_lineage_key=goal_lineage_key,
        title=title.strip(),
        mastery_peak_max=mastery_peak_max,
        mastery_days=mastery_days,
        weekly_target=weekly_target,
        created_by_id=actor.id,
    )
    db.session.add(ladder)
    db.session.flush()
    return ladder


def do_save_ladder_settings(
    actor: User,
    ladder: Ladder,
    *,
    title: str,
    mastery_peak_max: int,
    mastery_days: int,
    weekly_target: int,
) -> None:
    ladder.title = title.strip()
    ladder.mastery_peak_max = mastery_peak_max
    ladder.mastery_days = mastery_days
    ladder.weekly_target = weekly_target
    db.session.flush()


def _renumber(steps: list[LadderStep]) -> None:
    for position, step in enumerate(steps, start=1):
        step.position = position


def _refresh_unlocks(ladder: Ladder) -> list[LadderStep]:
    """Open the first step, and each step after a mastered one. A step that was only opened by
    its place (never practised, not opened by the therapist) closes again when an easier step is
    put before it; a step the child has practised stays open."""
    opened = []
    previous: LadderStep | None = None
    for step in ladder.active_steps:
        may_open = previous is None or previous.status is StepStatus.MASTERED
        if may_open and step.status is StepStatus.LOCKED:
            step.status = StepStatus.AVAILABLE
            opened.append(step)
        elif (
            not may_open
            and step.status is StepStatus.AVAILABLE
            and step.status_overridden_by_id is None
        ):
            step.status = StepStatus.LOCKED
        previous = step
    db.session.flush()
    return opened


def do_add_step(
    actor: User,
    ladder: Ladder,
    *,
    title: str,
    fear_score: int,
    picture: str = "",
    instructions: str = "",
) -> LadderStep:
    """New steps go in by their fear rating (after steps rated the same), easiest first."""
    active = ladder.active_steps
    if len(active) >= MAX_STEPS:
        raise LadderRuleError(_("A ladder has at most %(max_steps)s steps.", max_steps=MAX_STEPS))
    if picture not in PICTURES:
        raise LadderRuleError(_("Choose one of the pictures."))
    step = LadderStep(
        ladder_id=ladder.id,
        position=0,
        title=title.strip(),
        picture=picture,
        instructions=instructions.strip(),
        fear_score=fear_score,
        created_by_id=actor.id,
    )
    db.session.add(step)
    db.session.flush()
    db.session.add(StepRating(step_id=step.id, fear_score=fear_score, rated_by_id=actor.id))
    index = sum(1 for other in active if other.fear_score <= fear_score)
    ordered = [*active[:index], step, *active[index:]]
    _renumber(ordered)
    _retired_to_end(ladder, len(ordered))
    db.session.flush()
    db.session.refresh(ladder, ["steps"])
    _refresh_unlocks(ladder)
    return step


def _retired_to_end(ladder: Ladder, after: int) -> None:
    for offset, step in enumerate((s for s in ladder.steps if s.retired_at), start=1):
        step.position = after + offset


def do_edit_step(
    actor: User,
    step: LadderStep,
    *,
    title: str,
    fear_score: int,
    picture: str,
    instructions: str,
) -> None:
    if picture not in PICTURES:
        raise LadderRuleError(_("Choose one of the pictures."))
    step.title = title.strip()
    step.picture = picture
    step.instructions = instructions.strip()
    if fear_score != step.fear_score:  # re-rating keeps the history
        step.fear_score = fear_score
        db.session.add(StepRating(step_id=step.id, fear_score=fear_score, rated_by_id=actor.id))
    db.session.flush()


def do_move_step(actor: User, ladder: Ladder, step: LadderStep, direction: str) -> None:
    steps = ladder.active_steps
    index = next(i for i, s in enumerate(steps) if s.id == step.id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(steps):
        steps[index], steps[other] = steps[other], steps[index]
    _renumber(steps)
    _retired_to_end(ladder, len(steps))
    db.session.flush()
    db.session.refresh(ladder, ["steps"])
    _refresh_unlocks(ladder)


def do_retire_step(actor: User, ladder: Ladder, step: LadderStep) -> None:
    """Retired steps leave the ladder but keep their practice history."""
    step.retired_at = utcnow()
    _renumber(ladder.active_steps)
    _retired_to_end(ladder, len(ladder.active_steps))
    db.session.flush()
    _refresh_unlocks(ladder)


def do_override_step(actor: User, ladder: Ladder, step: LadderStep, status: StepStatus) -> None:
    """The therapist's word always wins over the rule (mastered, or back to practising)."""
    step.status = status
    step.status_overridden_by_id = actor.id
    step.mastered_at = utcnow() if status is StepStatus.MASTERED else None
    db.session.flush()
    _refresh_unlocks(ladder)


@dataclass(frozen=True)
class Gap:
    lower: LadderStep
    upper: LadderStep

    @property
    def size(self) -> float:
        return abs(self.upper.fear_score - self.lower.fear_score) / 10


def gap_warnings(ladder: Ladder) -> list[Gap]:
    steps = ladder.active_steps
    return [
        Gap(lower, upper)
        for lower, upper in pairwise(steps)
        if abs(upper.fear_score - lower.fear_score) > GAP_WARNING
    ]


# --- practice ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratings:
    scale: FearScale
    peak: int
    before: int | None = None
    after: int | None = None


@dataclass
class PracticeInput:
    ratings: Ratings
    completion: Completion
    idempotency_key: str
    duration_minutes: int | None = None
    coach_id: int | None = None
    coach: str = ""
    prediction: str = ""
    outcome: str = ""
    note: str = ""
    note_private: bool = False
    practiced_at: datetime | None = None


@dataclass
class PracticeResult:
    attempt: PracticeAttempt
    tokens: int
    mastered: bool = False
    unlocked: list[LadderStep] | None = None
    duplicate: bool = False


def tokens_for(step: LadderStep, completion: Completion) -> int:
    """Effort earns: any try gets at least 1; harder steps (4+/10, 7+/10) earn 1 more each."""
    bonus = (step.fear_score >= 40) + (step.fear_score >= 70)
    return BASE_TOKENS[completion] + bonus


def _same_answers(attempt: PracticeAttempt, step: LadderStep, data: PracticeInput) -> bool:
    r = data.ratings
    return (
        attempt.step_id == step.id
        and attempt.rating_scale is r.scale
        and attempt.fear_peak_raw == r.peak
        and attempt.fear_before_raw == r.before
        and attempt.fear_after_raw == r.after
        and attempt.completion is data.completion
        and attempt.duration_minutes == data.duration_minutes
        and attempt.prediction == data.prediction.strip()
        and attempt.outcome == data.outcome.strip()
        and attempt.note == data.note.strip()
    )


def find_attempt_by_key(key: str) -> PracticeAttempt | None:
    return db.session.scalars(_attempt_by_key_statement(), {"key": key}).one_or_none()


@cache
def _attempt_by_key_statement() -> Select[PracticeAttempt]:
    """Built once (issue 17: every practice logged looks its key up), the key bound."""
    return select(PracticeAttempt).where(PracticeAttempt.idempotency_key == bindparam("key"))


def _replay(case: Case, step: LadderStep, data: PracticeInput) -> PracticeResult | None:
    existing = find_attempt_by_key(data.idempotency_key)
    if existing is None:
        return None
    if existing.case_id != case.id or not _same_answers(existing, step, data):
        raise IdempotencyConflict(
            "This form was already sent with other answers. Open the step again to log a new try."
        )
    earned = db.session.scalar(
        select(TokenEntry.amount).where(TokenEntry.attempt_id == existing.id)
    )
    return PracticeResult(existing, earned or 0, duplicate=True)


def do_log_practice(
    actor: User,
    case: Case,
    step: LadderStep,
    data: PracticeInput,
    *,
    on_behalf_of_child: bool,
    private_notes_allowed: bool,
) -> PracticeResult:
    """Store one try, award its tokens, and apply the mastery rule.

    The same idempotency key twice gives back the first attempt (RL-02); a concurrent twin that
    wins the race is found the same way after the unique key refuses the second insert.
    """
    if replay := _replay(case, step, data):
        return replay
    if step.retired_at is not None or step.status is StepStatus.LOCKED:
        raise LadderRuleError(_("This step is not open yet. Try an open step first."))
    r = data.ratings
    attempt = PracticeAttempt(
        case_id=case.id,
        step_id=step.id,
        practiced_at=data.practiced_at or utcnow(),
        entered_by_id=actor.id,
        on_behalf_of_child=on_behalf_of_child,
        idempotency_key=data.idempotency_key,
        rating_scale=r.scale,
        fear_peak_raw=r.peak,
        fear_peak=to_canonical(r.scale, r.peak),
        fear_before_raw=r.before,
        fear_before=None if r.before is None else to_canonical(r.scale, r.before),
        fear_after_raw=r.after,
        fear_after=None if r.after is None else to_canonical(r.scale, r.after),
        completion=data.completion,
        duration_minutes=data.duration_minutes,
        coach_id=data.coach_id,
        coach=data.coach.strip(),
        prediction=data.prediction.strip(),
        outcome=data.outcome.strip(),
        note=data.note.strip(),
        note_private=bool(data.note_private and private_notes_allowed and data.note.strip()),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        replay = _replay(case, step, data)
        if replay is None:
            raise
        return replay
    tokens = tokens_for(step, data.completion)
    # The ledger row is only written, never read back in this request: one insert built once,
    # not an object for the session to flush (issue 17).
    db.session.execute(
        _earned_statement(),
        {
            "case_id": case.id,
            "kind": TokenKind.EARNED,
            "amount": tokens,
            "attempt_id": attempt.id,
            "redemption_id": None,
            "reason": f"Practised “{step.title}”",
            "entered_by_id": actor.id,
        },
    )
    if step.status is StepStatus.AVAILABLE:
        step.status = StepStatus.PRACTISING
        db.session.flush()
    mastered, unlocked = _apply_mastery(step)
    return PracticeResult(attempt, tokens, mastered=mastered, unlocked=unlocked)


@cache
def _earned_statement() -> Insert:
    """The tokens a try earned: one ledger row, its values bound (built once, issue 17)."""
    return insert(cast(Table, TokenEntry.__table__))


def calm_days(step: LadderStep) -> int:
    """Separate days on which the peak fear stayed at or under the ladder's threshold."""
    return int(db.read_columns(_calm_days_of_one_statement(), {"step_id": step.id}).scalar_one())


def calm_days_of(steps: list[LadderStep]) -> dict[int, int]:
    """Calm days per step id (UTC days), in one query over the steps' days, never their practice
    entries: a day's lowest peak is kept in `step_days` as each try is written (issue 17)."""
    if not steps:
        return {}
    rows = db.read_columns(_calm_days_statement(), {"step_ids": [step.id for step in steps]})
    return {step_id: int(count) for step_id, count in rows}


def _calm(days: Select[*_Ts]) -> Select[*_Ts]:
    """The steps' days whose lowest peak is within their ladder's threshold: the threshold read
    now, so a changed one applies to the past days too."""
    return (
        days.join(LadderStep, LadderStep.id == StepDay.step_id)
        .join(Ladder, Ladder.id == LadderStep.ladder_id)
        .where(StepDay.lowest_peak <= Ladder.mastery_peak_max * 10)
    )


@cache
def _calm_days_statement() -> Select[int, int]:
    """Built once, the steps bound (issue 17)."""
    return _calm(
        select(StepDay.step_id, func.count())
        .where(StepDay.step_id.in_(bindparam("step_ids", expanding=True)))
        .group_by(StepDay.step_id)
    )


@cache
def _calm_days_of_one_statement() -> Select[int]:
    """`calm_days` of one step (each practice logged asks it): the same count as
    `_calm_days_statement`'s, the step bound (built once, issue 17)."""
    return _calm(
        select(func.count()).select_from(StepDay).where(StepDay.step_id == bindparam("step_id"))
    )


def _apply_mastery(step: LadderStep) -> tuple[bool, list[LadderStep]]:
    if step.status is StepStatus.MASTERED:
        return False, []
    if calm_days(step) < step.ladder.mastery_days:
        return False, []
    step.status = StepStatus.MASTERED
    step.mastered_at = utcnow()
    db.session.flush()
    return True, _refresh_unlocks(step.ladder)


# --- tokens and rewards --------------------------------------------------------------------------


def token_balance(case_id: int) -> int:
    """Tokens earned minus tokens spent, from the case's running totals (issue 17)."""
    return token_totals(case_id).balance


def tokens_earned(case_id: int) -> int:
    return token_totals(case_id).earned


class TokenTotals(NamedTuple):
    earned: int
    spent: int

    @property
    def balance(self) -> int:
        return self.earned - self.spent


def token_totals(case_id: int) -> TokenTotals:
    """The tokens earned and spent as the case's tally keeps them, in one read; a case that
    never earned has no row."""
    row = db.read_columns(_token_totals_statement(), {"case_id": case_id}).first()
    return TokenTotals(int(row[0]), int(row[1])) if row else TokenTotals(0, 0)


@cache
def _token_totals_statement() -> Select[int, int]:
    return select(CaseTally.tokens_earned, CaseTally.tokens_spent).where(
        CaseTally.case_id == bindparam("case_id")
    )


def pending_cost(case_id: int) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(Redemption.cost), 0)).where(
            Redemption.case_id == case_id, Redemption.confirmed_at.is_(None)
        )
    )
    return int(total or 0)


def do_add_reward(
    actor: User, case: Case, *, title: str, cost: int, picture: str = "", approve: bool
) -> Reward:
    """A guardian's own suggestion counts as approved; the therapist's waits for a guardian."""
    if picture not in REWARD_PICTURES:
        raise LadderRuleError(_("Choose one of the pictures."))
    reward = Reward(
        case_id=case.id,
        title=title.strip(),
        picture=picture,
        cost=cost,
        created_by_id=actor.id,
    )
    if approve:
        reward.approved_at = utcnow()
        reward.approved_by_id = actor.id
    db.session.add(reward)
    db.session.flush()
    return reward


def do_approve_reward(actor: User, reward: Reward) -> None:
    if reward.approved_at is None:
        reward.approved_at = utcnow()
        reward.approved_by_id = actor.id
        db.session.flush()


def do_request_reward(
    actor: User, case: Case, reward: Reward, *, on_behalf_of_child: bool
) -> Redemption:
    if reward.approved_at is None:
        if case.child.age_band(today()) is AgeBand.TEEN:
            raise LadderRuleError(_("A parent has not approved this reward yet."))
        raise LadderRuleError(_("A grown-up has not said yes to this reward yet."))
    available = token_balance(case.id) - pending_cost(case.id)
    if available < reward.cost:
        raise LadderRuleError(
            _("You need %(number)s more tokens for this one.", number=reward.cost - available)
        )
    redemption = Redemption(
        case_id=case.id,
        reward_id=reward.id,
        cost=reward.cost,
        requested_by_id=actor.id,
        on_behalf_of_child=on_behalf_of_child,
    )
    db.session.add(redemption)
    db.session.flush()
    return redemption


def do_confirm_redemption(actor: User, redemption: Redemption) -> TokenEntry:
    """A guardian confirms the reward was given: only now are the tokens spent."""
    if redemption.confirmed_at is not None:
        raise LadderRuleError(_("This reward was already confirmed."))
    if token_balance(redemption.case_id) < redemption.cost:
        raise LadderRuleError(_("There are not enough tokens in the jar for this reward yet."))
    redemption.confirmed_at = utcnow()
    redemption.confirmed_by_id = actor.id
    entry = TokenEntry(
        case_id=redemption.case_id,
        kind=TokenKind.SPENT,
        amount=-redemption.cost,
        redemption_id=redemption.id,
        reason=f"Reward: {redemption.reward.title}",
        entered_by_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


# --- cheers and suggestions ----------------------------------------------------------------------


def do_cheer(actor: User, attempt: PracticeAttempt, *, sticker: str, message: str) -> Cheer:
    if sticker not in STICKERS:
        raise LadderRuleError(_("Choose one of the stickers."))
    cheer = Cheer(
        case_id=attempt.case_id,
        attempt_id=attempt.id,
        sticker=sticker,
        message=message.strip(),
        sent_by_id=actor.id,
    )
    db.session.add(cheer)
    db.session.flush()
    return cheer


def do_mark_cheers_seen(actor: User, case: Case) -> int:
    cheers = db.session.scalars(
        select(Cheer).where(Cheer.case_id == case.id, Cheer.seen_at.is_(None))
    ).all()
    for cheer in cheers:
        cheer.seen_at = utcnow()
    db.session.flush()
    return len(cheers)


def do_suggest_step(
    actor: User, case: Case, ladder: Ladder, *, title: str, on_behalf_of_child: bool
) -> StepSuggestion:
    suggestion = StepSuggestion(
        case_id=case.id,
        ladder_id=ladder.id,
        title=title.strip(),
        suggested_by_id=actor.id,
        on_behalf_of_child=on_behalf_of_child,
    )
    db.session.add(suggestion)
    db.session.flush()
    return suggestion


def do_decide_suggestion(
    actor: User, suggestion: StepSuggestion, *, approve: bool, fear_score: int | None
) -> LadderStep | None:
    if suggestion.status is not SuggestionStatus.WAITING:
        raise LadderRuleError(_("This suggestion was already answered."))
    suggestion.decided_at = utcnow()
    suggestion.decided_by_id = actor.id
    if not approve:
        suggestion.status = SuggestionStatus.DECLINED
        db.session.flush()
        return None
    if fear_score is None:
        raise LadderRuleError(_("Give the step a fear rating (0–10) to add it."))
    step = do_add_step(actor, suggestion.ladder, title=suggestion.title, fear_score=fear_score)
    suggestion.status = SuggestionStatus.APPROVED
    suggestion.step_id = step.id
    db.session.flush()
    return step


def current_step(ladder: Ladder) -> LadderStep | None:
    """The child's place on a ladder: the easiest step open and not yet mastered."""
    open_states = (StepStatus.AVAILABLE, StepStatus.PRACTISING)
    return next((s for s in ladder.active_steps if s.status in open_states), None)


# --- weekly target -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    starts_on: datetime
    count: int
    target: int

    @property
    def met(self) -> bool:
        return self.count >= self.target


def weekly_counts(case_id: int, target: int, weeks: int = 6) -> list[Week]:
    """Practice per week (Monday to Sunday in the clinic's time zone, as the pages write dates and
    as the practice reminder counts), oldest first, the current week last. A Sunday-evening try
    in New York is Monday in UTC; it still counts for the Sunday's week."""
    now = local_now()
    this_monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    first = this_monday - timedelta(weeks=weeks - 1)
    times = db.session.scalars(
        select(PracticeAttempt.practiced_at).where(
            PracticeAttempt.case_id == case_id, PracticeAttempt.practiced_at >= first
        )
    ).all()
    counts = [0] * weeks
    for when in times:
        days = (when.astimezone(now.tzinfo).date() - first.date()).days
        counts[min(days // 7, weeks - 1)] += 1
    return [
        Week(first + timedelta(weeks=index), count, target) for index, count in enumerate(counts)
    ]


def own_suggestions(actor: User, case: Case) -> list[StepSuggestion]:
    """This person's step ideas for this case, newest first, with the therapist's decision."""
    return list(
        db.session.scalars(
            select(StepSuggestion)
            .where(StepSuggestion.case_id == case.id, StepSuggestion.suggested_by_id == actor.id)
            .order_by(StepSuggestion.id.desc())
            .limit(10)
        )
    )


def do_mark_decisions_seen(actor: User, case: Case) -> bool:
    """Record that the person saw the decisions on their step ideas; True when any was new."""
    unseen = select(StepSuggestion.id).where(
        StepSuggestion.case_id == case.id,
        StepSuggestion.suggested_by_id == actor.id,
        StepSuggestion.decided_at.is_not(None),
        StepSuggestion.decision_seen_at.is_(None),
    )
    if db.session.scalars(unseen.limit(1)).first() is None:
        return False
    db.will_write()
    db.session.execute(
        update(StepSuggestion)
        .where(StepSuggestion.id.in_(unseen))
        .values(decision_seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return True
