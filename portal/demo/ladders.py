"""Demo clinic, part three: six weeks of exposure practice (fictional, our own wording).

Maya (6) practises brave goodbyes with Ana or Ben entering for her in child mode; Leo (10) climbs
his dog ladder at Mum's and at Dad's; Sam (14) is stuck on answering in class (a stalled step).
Each child has a mastered step and rewards; Maya and Leo have had a reward confirmed, and Maya's
cupcake, asked for yesterday, waits for Ana to confirm it.
Safe to run again: it does nothing once Maya has a ladder.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from portal import db
from portal.db import utcnow
from portal.demo.people import family, person
from portal.ladders import services
from portal.models import Case, User
from portal.models.ladders import Completion, FearScale, Ladder, LadderStep, Reward
from portal.models.plans import PlanStatus, PlanVersion

FULL, PART, STOP = Completion.FULL, Completion.PARTIAL, Completion.STOPPED_EARLY


@dataclass(frozen=True)
class Try:
    days_ago: int
    step: int  # index into the ladder's steps
    peak: int
    before: int | None = None
    after: int | None = None
    completion: Completion = FULL
    coach: str = ""  # a guardian's email, or "" for on their own
    prediction: str = ""
    outcome: str = ""
    note: str = ""
    private: bool = False
    minutes: int | None = 10


def _rated(
    days: int, step: int, before: int, peak: int, after: int, *rest: object, **kw: object
) -> Try:
    """A try written as before / worst moment / after, the order children rate in."""
    return Try(days, step, peak, before, after, *rest, **kw)  # type: ignore[arg-type]


def _goal_key(case: Case, index: int) -> str:
    plan = db.session.scalars(
        select(PlanVersion).where(
            PlanVersion.case_id == case.id, PlanVersion.status == PlanStatus.ACTIVE
        )
    ).one()
    return plan.goals[index].lineage_key


def _ladder(
    therapist: User, case: Case, goal: int, title: str, steps: list[tuple[str, str, float, str]]
) -> tuple[Ladder, list[LadderStep]]:
    ladder = services.do_create_ladder(
        therapist, case, goal_lineage_key=_goal_key(case, goal), title=title
    )
    ladder.created_at = utcnow() - timedelta(days=43)
    made = [
        services.do_add_step(
            therapist,
            ladder,
            title=step_title,
            picture=picture,
            fear_score=round(rating * 10),
            instructions=how,
        )
        for step_title, picture, rating, how in steps
    ]
    return ladder, made


def _when(days_ago: int, number: int) -> datetime:
    """A try `days_ago` days ago, an hour or a few before this time of day, but never before its
    UTC day's midnight: two tries written for different days stay on different days whatever the
    hour the demo loads (mastery counts UTC days; between 04:00 and 05:00 UTC the 34-days-ago try
    fell on the 35-days-ago try's day, Maya's first step was not mastered and the load failed)."""
    moment = utcnow() - timedelta(days=days_ago, hours=1)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return max(moment - timedelta(hours=number % 5), midnight)


def _practise(
    case: Case,
    steps: list[LadderStep],
    tries: list[Try],
    *,
    actor: User,
    scale: FearScale,
    on_behalf: bool,
) -> list[services.PracticeResult]:
    results = []
    for number, t in enumerate(tries):
        coach = person(t.coach) if t.coach else None
        link = next(
            (gl for gl in case.guardian_links if coach and gl.guardian_id == coach.id), None
        )
        label = f"{coach.display_name.split()[0]} ({link.household})" if coach and link else ""
        data = services.PracticeInput(
            ratings=services.Ratings(scale, peak=t.peak, before=t.before, after=t.after),
            completion=t.completion,
            idempotency_key=str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{case.id}/{number}")),
            duration_minutes=t.minutes,
            coach_id=coach.id if coach else None,
            coach=label,
            prediction=t.prediction,
            outcome=t.outcome,
            note=t.note,
            note_private=t.private,
            practiced_at=_when(t.days_ago, number),
        )
        result = services.do_log_practice(
            actor,
            case,
            steps[t.step],
            data,
            on_behalf_of_child=on_behalf,
            private_notes_allowed=scale is FearScale.NUMBER_10,
        )
        if result.mastered:  # mastered on the day of that try, not the day the demo loaded
            steps[t.step].mastered_at = data.practiced_at
        results.append(result)
    return results


def _reward(
    case: Case, by: User, title: str, picture: str, cost: int, approver: User | None
) -> Reward:
    reward = services.do_add_reward(
        by, case, title=title, picture=picture, cost=cost, approve=False
    )
    if approver is not None:
        services.do_approve_reward(approver, reward)
    return reward


def _redeem(case: Case, child_actor: User, reward: Reward, guardian: User, days: int) -> None:
    redemption = services.do_request_reward(
        child_actor, case, reward, on_behalf_of_child=not child_actor.is_child
    )
    services.do_confirm_redemption(guardian, redemption)
    redemption.requested_at = utcnow() - timedelta(days=days, hours=3)
    redemption.confirmed_at = utcnow() - timedelta(days=days)


def load_demo_ladders() -> bool:
    maya, leo, sam = family("Maya"), family("Leo"), family("Sam")
    if db.session.scalars(select(Ladder.id).where(Ladder.case_id == maya.id)).first():
        return False
    rivera, chen = person("rivera@demo.rapport.test"), person("chen@demo.rapport.test")
    ana, ben = person("ana@demo.rapport.test"), person("ben@demo.rapport.test")
    carla, david = person("carla@demo.rapport.test"), person("david@demo.rapport.test")
    erin = person("erin@demo.rapport.test")
    leo_user = db.session.scalars(select(User).where(User.username == "leo")).one()
    sam_user = db.session.scalars(select(User).where(User.username == "sam")).one()
    _maya(maya, rivera, ana, ben)
    _leo(leo, rivera, carla, david, leo_user)
    _sam(sam, chen, erin, sam_user)
    db.session.flush()
    return True


def _maya(maya: Case, rivera: User, ana: User, ben: User) -> None:
    _, steps = _ladder(
        rivera,
        maya,
        0,
        "Brave goodbyes",
        [
            (
                "Wave bye-bye at the front door",
                "front-door",
                2,
                "Mummy or Daddy goes to the shop. Wave!",
            ),
            (
                "Play while Mummy waits in the hall",
                "teddy",
                3.5,
                "Five minutes of play on your own.",
            ),
            ("Go in with my teacher, Mummy watches", "classroom", 5, "Hold the teacher's hand."),
            (
                "Say bye-bye at the school gate",
                "school-gate",
                6.5,
                "One hug, one wave, then go in.",
            ),
            ("Bye-bye at the gate and walk in alone", "goodbye", 8, "You can do it!"),
        ],
    )
    a, b = "ana@demo.rapport.test", "ben@demo.rapport.test"
    tries = [
        Try(41, 0, 2, coach=a, completion=PART),
        Try(39, 0, 1, coach=a),
        Try(37, 0, 0, coach=b),
        Try(35, 0, 0, coach=a),
        Try(34, 0, 0, coach=a),
        Try(31, 1, 2, coach=a, completion=STOP),
        Try(29, 1, 1, coach=b),
        Try(27, 1, 1, coach=a),
        Try(24, 1, 0, coach=a),
        Try(22, 1, 0, coach=b),
        Try(20, 1, 0, coach=a),
        Try(17, 2, 2, coach=a, completion=PART),
        Try(15, 2, 2, coach=a),
        Try(12, 2, 1, coach=b),
        Try(10, 2, 1, coach=a),
        Try(7, 2, 1, coach=a),
        Try(5, 2, 0, coach=b),
        Try(1, 2, 1, coach=a),
    ]
    results = _practise(maya, steps, tries, actor=ana, scale=FearScale.FACES_3, on_behalf=True)
    services.do_cheer(
        ben, results[-1].attempt, sticker="🦁", message="Maya, you were a brave lion today!"
    )
    book = _reward(maya, rivera, "New sticker book", "🧸", 12, ana)
    _reward(maya, ana, "Trip to the playground with Daddy", "🛝", 25, ana)
    _redeem(maya, ana, book, ana, 16)
    # Asked for yesterday on Ana's device and not yet given: waiting for Ana to confirm.
    cupcake = _reward(maya, ana, "Cupcake after school", "🧁", 5, ana)
    waiting = services.do_request_reward(ana, maya, cupcake, on_behalf_of_child=True)
    waiting.requested_at = utcnow() - timedelta(hours=20)


def _leo(leo: Case, rivera: User, carla: User, david: User, leo_user: User) -> None:
    _, steps = _ladder(
        rivera,
        leo,
        0,
        "Brave with dogs",
        [
            ("Look at dog pictures in a book", "picture-book", 2, "Find three dogs you like."),
            ("Watch a funny dog video", "video", 3, "Watch the whole video, even the barking."),
            (
                "Watch a dog on a lead across the park",
                "park",
                4.5,
                "Stay on the bench for 5 minutes.",
            ),
            ("Stand 5 big steps from a calm dog", "dog", 6, "With Mum or Dad next to you."),
            ("Pat a calm dog with Dad", "dog", 8, "The owner holds the lead. One pat!"),
        ],
    )
    mum, dad = "carla@demo.rapport.test", "david@demo.rapport.test"
    bite = "The dog will jump at me"
    calm = "It just looked at me and walked on"
    tries = [
        _rated(42, 0, 3, 4, 1, coach=mum, prediction="It will be scary", outcome="Just pictures"),
        _rated(40, 0, 2, 3, 1, coach=dad),
        _rated(38, 0, 1, 2, 0, coach=mum),
        _rated(36, 0, 1, 1, 0),
        _rated(35, 0, 0, 1, 0),
        _rated(33, 1, 5, 5, 3, PART, coach=dad, prediction="I'll have to turn it off"),
        _rated(31, 1, 4, 4, 2, coach=mum, outcome="I watched it all and laughed"),
        _rated(29, 1, 2, 3, 1, coach=dad),
        _rated(27, 1, 2, 2, 1, coach=mum),
        _rated(25, 1, 1, 2, 0),
        _rated(24, 1, 1, 1, 0, coach=dad),
        _rated(22, 2, 7, 6, 4, STOP, coach=dad, prediction=bite, outcome="We left after 2 minutes"),
        _rated(
            20, 2, 6, 6, 4, PART, coach=mum, prediction=bite, outcome="The dog did not come near"
        ),
        _rated(18, 2, 6, 5, 3, coach=dad, prediction=bite, outcome=calm, minutes=15),
        _rated(15, 2, 5, 5, 3, coach=mum, outcome=calm, minutes=15),
        _rated(
            12,
            2,
            4,
            4,
            2,
            coach=dad,
            prediction="Maybe it barks",
            outcome="It barked once. I stayed",
        ),
        _rated(9, 2, 4, 3, 2, coach=mum, minutes=20),
        _rated(
            6, 2, 3, 3, 1, coach=dad, outcome="I forgot to watch the dog, I was playing", minutes=20
        ),
        _rated(1, 2, 3, 2, 1, coach=mum, prediction=bite, outcome=calm, minutes=20),
    ]
    results = _practise(
        leo, steps, tries, actor=leo_user, scale=FearScale.THERMOMETER_10, on_behalf=False
    )
    services.do_cheer(
        rivera,
        results[-1].attempt,
        sticker="🏆",
        message="Leo, you stayed on the bench for 20 minutes. That is real bravery!",
    )
    services.do_cheer(david, results[-2].attempt, sticker="🌟", message="Proud of you, mate.")
    dinner = _reward(leo, leo_user, "Choose Friday dinner", "🍽️", 15, david)
    _reward(leo, rivera, "Trip to the climbing wall", "🚀", 45, carla)
    _reward(leo, rivera, "Comic book from the shop", "📚", 30, None)  # waiting for a guardian
    _redeem(leo, leo_user, dinner, david, 19)
    services.do_suggest_step(
        leo_user,
        leo,
        steps[0].ladder,
        title="Watch Grandma's puppy through the window",
        on_behalf_of_child=False,
    )


def _sam(sam: Case, chen: User, erin: User, sam_user: User) -> None:
    _, steps = _ladder(
        chen,
        sam,
        0,
        "Speaking up in class",
        [
            ("Ask a teacher a question after class", "talking", 3, "Just you and the teacher."),
            ("Answer a question I'm sure of", "hand-up", 4.5, "Pick an easy one. Hands up once."),
            ("Give my opinion in a class discussion", "classroom", 6.5, "One sentence is enough."),
            ("Present a 2-minute talk", "talk-to-group", 8.5, "Practise it at home first."),
        ],
    )
    tries = [
        _rated(
            40,
            0,
            5,
            6,
            3,
            prediction="The teacher will think it's a dumb question",
            outcome="She said it was a good question",
        ),
        _rated(37, 0, 3, 4, 2),
        _rated(34, 0, 2, 3, 1, outcome="Easier than I thought"),
        _rated(31, 0, 1, 2, 1),
        _rated(28, 0, 1, 2, 0),
        _rated(26, 0, 1, 1, 0),
        _rated(
            24,
            1,
            7,
            7,
            5,
            PART,
            prediction="Everyone will stare at me",
            outcome="Two people looked",
        ),
        _rated(
            20,
            1,
            6,
            6,
            5,
            prediction="I'll say it wrong",
            outcome="I said it right",
            note="I was so embarrassed that my voice shook. Please don't tell Mum.",
            private=True,
        ),
        _rated(16, 1, 6, 7, 5, STOP, outcome="I put my hand down again"),
        _rated(11, 1, 6, 6, 4, note="Mr. Lee smiled at me after"),
        _rated(2, 1, 7, 6, 5, PART, prediction="Someone will laugh", outcome="Nobody laughed"),
    ]
    _practise(sam, steps, tries, actor=sam_user, scale=FearScale.NUMBER_10, on_behalf=False)
    _reward(sam, sam_user, "Cinema trip with a friend", "🎉", 30, erin)
    _reward(sam, chen, "Late night on Saturday", "🌙", 20, None)
