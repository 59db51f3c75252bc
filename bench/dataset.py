"""The benchmark's data set: a clinic network with a year of practice, built with bulk Core inserts.

`build(connection, Shape(...))` writes everything in one transaction with executemany (never the
ORM per row), so 500,000 practice entries take about a minute on SQLite. Ids are assigned here,
so no RETURNING round trips are needed; PostgreSQL's sequences are moved past them at the end.

One family is the *focus* family the benchmark signs in as: its therapist holds `focus_caseload`
cases with open alerts, its family thread holds `focus_thread` messages, its child has a deep
practice log, and its plan has a superseded and an active version ("what changed").
Everything is fictional.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text, update

from portal.consent_documents import CONSENT_DOCUMENTS
from portal.models import (
    AlertKind,
    Benchmark,
    CareAlert,
    Case,
    CaseStatus,
    CaseTherapist,
    Child,
    Clinic,
    Completion,
    ConsentAction,
    ConsentKind,
    ConsentMethod,
    ConsentRecord,
    Credential,
    FearScale,
    Goal,
    GoalOwner,
    GoalProgress,
    GuardianLink,
    Informant,
    Intervention,
    Ladder,
    LadderStep,
    Message,
    MessageKind,
    MessageThread,
    PlanStatus,
    PlanVersion,
    PracticeAttempt,
    Respondent,
    Role,
    SessionAttendance,
    SessionFeedback,
    SessionMode,
    SessionStatus,
    StepStatus,
    TherapySession,
    ThreadKind,
    ThreadRead,
    TokenEntry,
    TokenKind,
    User,
)

CHUNK = 5000
# Every bench therapist's authenticator secret (fictional accounts; bench/run.py signs in with it).
TOTP_SECRET = "RAPPORTBENCHMARKTOTPSECRETABCDEF"  # noqa: S105 - fictional bench accounts
STEPS_PER_LADDER = 6
GOALS_PER_PLAN = 3


@dataclass(frozen=True)
class Shape:
    """How big the data set is. The defaults are issue 9's clinic network."""

    therapists: int = 100
    families: int = 2000
    days: int = 365
    practice: int = 500_000  # practice entries in all
    messages: int = 200_000  # messages in all
    focus_caseload: int = 40  # cases of the therapist the benchmark signs in as
    focus_thread: int = 500  # messages in the focus family's thread
    focus_practice: int = 400  # practice entries of the focus child
    prefix: str = "bench"  # sign-in names are <prefix>-t1@..., so two builds never collide

    def scaled(self, factor: float) -> Shape:
        """The same network, `factor` times as large (BENCH_SCALE)."""
        return Shape(
            therapists=max(2, round(self.therapists * factor)),
            families=max(2, round(self.families * factor)),
            days=self.days,
            practice=round(self.practice * factor),
            messages=round(self.messages * factor),
            focus_caseload=min(self.focus_caseload, max(1, round(self.families * factor) - 1)),
            focus_thread=self.focus_thread,
            focus_practice=self.focus_practice,
            prefix=self.prefix,
        )


@dataclass(frozen=True)
class Focus:
    """What the benchmark signs in as and which pages it loads."""

    therapist_email: str
    guardian_email: str
    child_username: str
    case_id: int
    thread_id: int
    plan_id: int
    step_id: int


def therapist_email(shape: Shape, n: int) -> str:
    return f"{shape.prefix}-t{n}@bench.rapport.test"


def guardian_email(shape: Shape, n: int) -> str:
    return f"{shape.prefix}-g{n}@bench.rapport.test"


def child_username(shape: Shape, n: int) -> str:
    return f"{shape.prefix}-c{n}"


def enrol_second_factor(connection: Connection, shape: Shape) -> None:
    """Give the bench therapists their authenticator (for a data set built before AU-08)."""
    connection.execute(
        update(User)
        .where(
            User.role == Role.THERAPIST,
            User.email.like(f"{shape.prefix}-t%@bench.rapport.test"),
            User.totp_secret.is_(None),
        )
        .values(totp_secret=TOTP_SECRET, totp_enrolled_at=datetime.now(UTC))
    )


class _Ids:
    """Hands out primary keys after the largest one already in each table."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.next: dict[str, int] = {}

    def take(self, table: Table, count: int = 1) -> int:
        if table.name not in self.next:
            top = self.connection.scalar(select(func.max(table.c.id))) or 0
            self.next[table.name] = int(top) + 1
        first = self.next[table.name]
        self.next[table.name] = first + count
        return first


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(connection: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    written = 0
    for chunk in _chunks(rows):
        keys = {key for row in chunk for key in row}
        # executemany needs the same keys in every row: a key one row leaves out is NULL there.
        connection.execute(insert(table), [{k: row.get(k) for k in keys} for row in chunk])
        written += len(chunk)
    return written


def _share(total: int, parts: int, index: int) -> int:
    """Split `total` into `parts` nearly equal whole numbers; this is part `index`."""
    return total // parts + (1 if index < total % parts else 0)


_STEPS = [
    ("Look at a photo of a dog", "🖼️"),
    ("Watch a dog video", "📺"),
    ("Stand across the street from a dog", "🐕"),
    ("Stand near a dog on a lead", "🦮"),
    ("Pet a calm dog with a grown-up", "🤚"),
    ("Walk past a dog on my own", "🚶"),
]
_MESSAGES = [
    "We practised the step twice this week and it went better than we expected.",
    "Thank you for the session. Could we talk about bedtime next time?",
    "Great to hear! Keep the practice short and end on a calm moment.",
    "The school trip is on Friday; any tips for the bus ride?",
    "Try the breathing from our last session before you leave the house.",
]


def build(
    connection: Connection,
    shape: Shape,
    *,
    password_hash: str,
    pin_hash: str,
    seed: int = 9,
    now: datetime | None = None,
) -> Focus:
    """Write the data set through `connection` (the caller commits) and return the focus ids."""
    rnd = random.Random(f"{seed}-{shape.prefix}")  # noqa: S311 - fictional data, not secrets
    now = now or datetime.now(UTC)
    start = now - timedelta(days=shape.days)
    ids = _Ids(connection)
    t = {m.__name__: m.__table__ for m in _MODELS}

    clinic_id = ids.take(t["Clinic"])
    connection.execute(
        insert(t["Clinic"]), [{"id": clinic_id, "name": f"{shape.prefix} clinic network"}]
    )

    # People: therapists, then one or two guardians and a child per family.
    first_therapist = ids.take(t["User"], shape.therapists)
    therapists = list(range(first_therapist, first_therapist + shape.therapists))
    users: list[dict[str, Any]] = [
        {
            "id": uid,
            "role": Role.THERAPIST,
            "clinic_id": clinic_id,
            "email": therapist_email(shape, n + 1),
            "display_name": f"Dr. Bench {n + 1}",
            "credential": Credential.PASSWORD,
            "password_hash": password_hash,
            "totp_secret": TOTP_SECRET,  # therapists sign in with a second step (AU-08)
            "totp_enrolled_at": start,
        }
        for n, uid in enumerate(therapists)
    ]
    families = []
    for n in range(shape.families):
        two_guardians = n % 3 == 0
        first = ids.take(t["User"], 3 if two_guardians else 2)
        guardians = [first, first + 1] if two_guardians else [first]
        child_user = first + len(guardians)
        families.append((guardians, child_user))
        for k, gid in enumerate(guardians):
            users.append(
                {
                    "id": gid,
                    "role": Role.GUARDIAN,
                    "email": guardian_email(shape, n + 1) if k == 0 else None,
                    "display_name": f"Guardian {n + 1}{'ab'[k]}",
                    "credential": Credential.PASSWORD,
                    "password_hash": password_hash,
                }
            )
            if k:
                users[-1]["email"] = f"{shape.prefix}-g{n + 1}b@bench.rapport.test"
        users.append(
            {
                "id": child_user,
                "role": Role.CHILD,
                "username": child_username(shape, n + 1),
                "display_name": f"Kid{n + 1}",
                "credential": Credential.PIN,
                "password_hash": pin_hash,
            }
        )
    _insert(connection, t["User"], users)

    # Cases: the focus therapist holds `focus_caseload` cases; the others share the rest.
    first_child = ids.take(t["Child"], shape.families)
    first_case = ids.take(t["Case"], shape.families)
    owner: list[int] = []
    others = therapists[1:] or therapists
    for n in range(shape.families):
        if n < shape.focus_caseload:
            owner.append(therapists[0])
        else:
            owner.append(others[n % len(others)])
    today = now.date()
    children, cases, links, guardian_links, consents = [], [], [], [], []
    opened = start - timedelta(days=30)
    for n, (guardians, child_user) in enumerate(families):
        age = 8 + n % 5  # 8-12: the tracker with thermometers and a token jar
        children.append(
            {
                "id": first_child + n,
                "clinic_id": clinic_id,
                "first_name": f"Kid{n + 1}",
                "last_name": "Bench",
                "date_of_birth": date(today.year - age, 1, 1),
                "user_id": child_user,
                "created_by_id": owner[n],
            }
        )
        case_id = first_case + n
        cases.append(
            {
                "id": case_id,
                "clinic_id": clinic_id,
                "child_id": first_child + n,
                "status": CaseStatus.ACTIVE,
                "presenting_concern": "Fear of dogs",
                "opened_at": opened,
                "opened_by_id": owner[n],
            }
        )
        links.append(
            {
                "case_id": case_id,
                "therapist_id": owner[n],
                "is_primary": True,
                "added_at": opened,
                "added_by_id": owner[n],
            }
        )
        for k, gid in enumerate(guardians):
            guardian_links.append(
                {
                    "case_id": case_id,
                    "guardian_id": gid,
                    "relationship_label": "Mother" if k == 0 else "Father",
                    "household": "Home" if k == 0 else "Dad's house",
                    "has_legal_authority": True,
                    "can_consent": True,
                    "valid_from": opened,
                    "created_by_id": owner[n],
                }
            )
            for kind in (
                ConsentKind.TREATMENT,
                ConsentKind.PARENTAL_CONSENT_UNDER_13,
                ConsentKind.PORTAL_TERMS,
                ConsentKind.MESSAGING_POLICY,
            ):
                consents.append(
                    {
                        "case_id": case_id,
                        "kind": kind,
                        "action": ConsentAction.GRANTED,
                        "given_by_id": gid,
                        "document_version": CONSENT_DOCUMENTS[kind].version,
                        "method": ConsentMethod.PORTAL,
                        "recorded_at": opened,
                        "recorded_by_id": gid,
                    }
                )
    _insert(connection, t["Child"], children)
    _insert(connection, t["Case"], cases)
    _insert(connection, t["CaseTherapist"], links)
    _insert(connection, t["GuardianLink"], guardian_links)
    _insert(connection, t["ConsentRecord"], consents)

    # Plan history: version 1 superseded after four months, version 2 active with a changed goal.
    plans, goals, benchmarks, interventions = [], [], [], []
    ladders, steps, progress = [], [], []
    first_plan = ids.take(t["PlanVersion"], 2 * shape.families)
    first_goal = ids.take(t["Goal"], 2 * GOALS_PER_PLAN * shape.families)
    first_ladder = ids.take(t["Ladder"], shape.families)
    first_step = ids.take(t["LadderStep"], STEPS_PER_LADDER * shape.families)
    revised = start + timedelta(days=120)
    for n in range(shape.families):
        case_id, therapist = first_case + n, owner[n]
        for v in range(2):
            plan_id = first_plan + 2 * n + v
            active = v == 1
            activated = start if v == 0 else revised
            plans.append(
                {
                    "id": plan_id,
                    "case_id": case_id,
                    "number": v + 1,
                    "status": PlanStatus.ACTIVE if active else PlanStatus.SUPERSEDED,
                    "change_summary": "Goals after the first review" if active else "",
                    "review_interval_days": 90,
                    "review_due_on": (activated + timedelta(days=90)).date(),
                    "created_at": activated,
                    "created_by_id": therapist,
                    "proposed_at": activated,
                    "signed_off_at": activated,
                    "signed_off_by_id": therapist,
                    "activated_at": activated,
                    "ended_at": None if active else revised,
                }
            )
            for position in range(GOALS_PER_PLAN):
                goal_id = first_goal + (2 * n + v) * GOALS_PER_PLAN + position
                goals.append(
                    {
                        "id": goal_id,
                        "plan_version_id": plan_id,
                        "lineage_key": f"{shape.prefix}-{case_id}-{position}",
                        "position": position,
                        "child_text": f"Be brave with dogs, part {position + 1}"
                        + (" (bigger steps)" if active and position == 0 else ""),
                        "clinical_text": "Graded exposure to dogs with response prevention",
                        "owner": GoalOwner.SHARED if v == 0 else GoalOwner.CHILD,
                        "edit_version": 1,
                    }
                )
                benchmarks.append(
                    {
                        "goal_id": goal_id,
                        "measure": "Fear thermometer at the park",
                        "target": "3 of 10" if active else "5 of 10",
                        "due_on": (activated + timedelta(days=90)).date(),
                    }
                )
            interventions.append(
                {
                    "plan_version_id": plan_id,
                    "position": 0,
                    "what": "Practise one ladder step",
                    "who": "Child with a guardian",
                    "how_often": "4 times a week",
                }
            )
        lineage = f"{shape.prefix}-{case_id}-0"
        ladder_id = first_ladder + n
        ladders.append(
            {
                "id": ladder_id,
                "case_id": case_id,
                "goal_lineage_key": lineage,
                "title": "Brave with dogs",
                "created_at": start,
                "created_by_id": therapist,
            }
        )
        for position, (title, picture) in enumerate(_STEPS):
            steps.append(
                {
                    "id": first_step + n * STEPS_PER_LADDER + position,
                    "ladder_id": ladder_id,
                    "position": position,
                    "title": title,
                    "picture": picture,
                    "instructions": "Go slowly; stop when you need to.",
                    "fear_score": 20 + position * 12,
                    "status": StepStatus.MASTERED
                    if position < 2
                    else (StepStatus.PRACTISING if position == 2 else StepStatus.LOCKED),
                    "mastered_at": start + timedelta(days=60 * (position + 1))
                    if position < 2
                    else None,
                    "created_at": start,
                    "created_by_id": therapist,
                }
            )
        for week in range(0, shape.days, 14):
            progress.append(
                {
                    "case_id": case_id,
                    "lineage_key": lineage,
                    "rater_role": Informant.THERAPIST,
                    "rater_id": therapist,
                    "entered_by_id": therapist,
                    "value": min(10, 2 + week // 40),
                    "rated_at": start + timedelta(days=week),
                }
            )
    _insert(connection, t["PlanVersion"], plans)
    _insert(connection, t["Goal"], goals)
    _insert(connection, t["Benchmark"], benchmarks)
    _insert(connection, t["Intervention"], interventions)
    _insert(connection, t["Ladder"], ladders)
    _insert(connection, t["LadderStep"], steps)
    _insert(connection, t["GoalProgress"], progress)

    # A year of practice, spread over the families; the focus child has a deep log.
    others_practice = max(0, shape.practice - shape.focus_practice)
    counts = [shape.focus_practice] + [
        _share(others_practice, shape.families - 1, n) for n in range(shape.families - 1)
    ]
    first_attempt = ids.take(t["PracticeAttempt"], sum(counts))

    def practice_rows() -> Iterator[dict[str, Any]]:
        attempt_id = first_attempt
        for n, count in enumerate(counts):
            guardians, child_user = families[n]
            for k in range(count):
                index = min(2, k * 3 // max(count, 1))
                step = first_step + n * STEPS_PER_LADDER + index
                # Steps 0-1 were mastered; step 2 is still being practised (never calm yet).
                peak = rnd.randint(0, 10) if index < 2 else rnd.randint(3, 10)
                yield {
                    "id": attempt_id,
                    "case_id": first_case + n,
                    "step_id": step,
                    "practiced_at": start + timedelta(minutes=k * shape.days * 1440 // count),
                    "entered_by_id": child_user if k % 2 else guardians[0],
                    "on_behalf_of_child": False,
                    "idempotency_key": str(uuid.UUID(int=rnd.getrandbits(128))),
                    "rating_scale": FearScale.THERMOMETER_10,
                    "fear_before": min(100, peak * 10 + 10),
                    "fear_before_raw": min(10, peak + 1),
                    "fear_peak": peak * 10,
                    "fear_peak_raw": peak,
                    "fear_after": max(0, peak * 10 - 20),
                    "fear_after_raw": max(0, peak - 2),
                    "completion": Completion.FULL if peak < 8 else Completion.PARTIAL,
                    "duration_minutes": 10,
                    "prediction": "The dog will bark",
                    "outcome": "It sniffed and walked away",
                }
                attempt_id += 1

    _insert(connection, t["PracticeAttempt"], practice_rows())

    def token_rows() -> Iterator[dict[str, Any]]:
        attempt_id = first_attempt
        for n, count in enumerate(counts):
            for _ in range(count):
                yield {
                    "case_id": first_case + n,
                    "kind": TokenKind.EARNED,
                    "amount": 2,
                    "attempt_id": attempt_id,
                    "reason": "Practice",
                    "entered_by_id": families[n][1],
                    "created_at": start,
                }
                attempt_id += 1

    _insert(connection, t["TokenEntry"], token_rows())

    # Messages: one family thread per case; the focus thread holds `focus_thread`.
    others_messages = max(0, shape.messages - shape.focus_thread)
    per_thread = [shape.focus_thread] + [
        _share(others_messages, shape.families - 1, n) for n in range(shape.families - 1)
    ]
    first_thread = ids.take(t["MessageThread"], shape.families)
    threads, reads = [], []
    for n, count in enumerate(per_thread):
        guardians, _child = families[n]
        last = start + timedelta(minutes=(count - 1) * shape.days * 1440 // max(count, 1))
        threads.append(
            {
                "id": first_thread + n,
                "case_id": first_case + n,
                "kind": ThreadKind.FAMILY,
                "created_at": start,
                "created_by_id": owner[n],
                "seq": count,
                "version": count,
                "last_message_at": last if count else None,
            }
        )
        for reader in (owner[n], *guardians):
            reads.append(
                {
                    "thread_id": first_thread + n,
                    "user_id": reader,
                    "last_read_seq": max(0, count - (3 if reader == owner[n] else 0)),
                    "read_at": last,
                }
            )
    _insert(connection, t["MessageThread"], threads)
    _insert(connection, t["ThreadRead"], reads)

    def message_rows() -> Iterator[dict[str, Any]]:
        for n, count in enumerate(per_thread):
            guardians, _child = families[n]
            for k in range(count):
                yield {
                    "thread_id": first_thread + n,
                    "seq": k + 1,
                    "kind": MessageKind.MESSAGE,
                    "author_id": owner[n] if k % 2 else guardians[k // 2 % len(guardians)],
                    "body": _MESSAGES[k % len(_MESSAGES)],
                    "idempotency_key": str(uuid.UUID(int=rnd.getrandbits(128))),
                    "created_at": start + timedelta(minutes=k * shape.days * 1440 // count),
                }

    _insert(connection, t["Message"], message_rows())

    # Sessions every two weeks, with who of the care team attended (as the therapist records it:
    # the child, the first guardian, the second every other time; every third one by video) and
    # each attending guardian's check-in (only those who came are asked); open alerts on some cases.
    first_session = ids.take(t["TherapySession"], shape.families * (shape.days // 14 + 2))
    sessions, attendance, feedback, alerts = [], [], [], []
    session_id = first_session
    for n in range(shape.families):
        guardians, _child = families[n]
        for visit, day in enumerate(range(7, shape.days, 14)):
            starts_at = start + timedelta(days=day, hours=15)
            mode = SessionMode.VIDEO if visit % 3 == 2 else SessionMode.IN_PERSON
            sessions.append(
                {
                    "id": session_id,
                    "case_id": first_case + n,
                    "starts_at": starts_at,
                    "mode": mode,
                    "status": SessionStatus.HELD,
                    "recorded_by_id": owner[n],
                }
            )
            came = [g for k, g in enumerate(guardians) if k == 0 or visit % 2 == 0]
            present: list[tuple[str, int | None]] = [(f"child:{first_child + n}", None)]
            present += [(f"guardian:{g}", g) for g in came]
            for key, attendee_id in present:
                attendance.append(
                    {
                        "session_id": session_id,
                        "attendee_key": key,
                        "guardian_id": attendee_id,
                        "mode": mode,
                        "recorded_by_id": owner[n],
                        "created_at": starts_at + timedelta(hours=1),
                    }
                )
            for gid in came:
                score = rnd.randint(3, 10)
                feedback.append(
                    {
                        "session_id": session_id,
                        "case_id": first_case + n,
                        "respondent": Respondent.GUARDIAN,
                        "respondent_key": f"guardian:{gid}",
                        "guardian_id": gid,
                        "entered_by_id": gid,
                        "heard": score,
                        "matters": score,
                        "approach": score,
                        "overall": score,
                        "comment": "Helpful session.",
                        "idempotency_key": str(uuid.UUID(int=rnd.getrandbits(128))),
                        "created_at": start + timedelta(days=day + 1),
                    }
                )
            session_id += 1
        sessions.append(
            {
                "id": session_id,
                "case_id": first_case + n,
                "starts_at": now + timedelta(days=3),
                "mode": SessionMode.VIDEO,
                "status": SessionStatus.SCHEDULED,
                "recorded_by_id": owner[n],
            }
        )
        session_id += 1
        if n % 2 == 0:
            alerts.append(
                {
                    "case_id": first_case + n,
                    "kind": AlertKind.LOW_RATING,
                    "summary": "A guardian rated the last session low",
                    "evidence": f"case:{first_case + n}",
                    "dedupe_key": f"{shape.prefix}-low-{first_case + n}",
                    "created_at": now - timedelta(days=1),
                }
            )
    _insert(connection, t["TherapySession"], sessions)
    _insert(connection, t["SessionAttendance"], attendance)
    _insert(connection, t["SessionFeedback"], feedback)
    _insert(connection, t["CareAlert"], alerts)

    if connection.dialect.name == "postgresql":
        for model in _MODELS:
            table = model.__table__.name
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
    return Focus(
        therapist_email=therapist_email(shape, 1),
        guardian_email=guardian_email(shape, 1),
        child_username=child_username(shape, 1),
        case_id=first_case,
        thread_id=first_thread,
        plan_id=first_plan + 1,
        step_id=first_step + 2,
    )


_MODELS: list[Any] = [
    Clinic,
    User,
    Child,
    Case,
    CaseTherapist,
    GuardianLink,
    ConsentRecord,
    PlanVersion,
    Goal,
    Benchmark,
    Intervention,
    Ladder,
    LadderStep,
    GoalProgress,
    PracticeAttempt,
    TokenEntry,
    MessageThread,
    ThreadRead,
    Message,
    TherapySession,
    SessionAttendance,
    SessionFeedback,
    CareAlert,
]
