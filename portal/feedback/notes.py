""" "How is it going?": a note a guardian sends whenever they like (issue 13), and recorded reads.

A note is read, answered and resolved by the therapist like session feedback. "Read by …" is shown
to the family only from a recorded read (`read_at`), set when a therapist of the case opens the
feedback page that shows it — never because nothing says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import db
from portal.cases.queries import get_in_case
from portal.db import utcnow
from portal.feedback.services import FeedbackRuleError, put_answer
from portal.models import Case, User
from portal.models.feedback import FamilyNote, NoteMood, SessionFeedback

NOTE_LENGTH = 2000


def do_send_note(
    actor: User, case: Case, *, mood: NoteMood, text: str, idempotency_key: str
) -> FamilyNote:
    seen = db.session.scalars(
        select(FamilyNote).where(FamilyNote.idempotency_key == idempotency_key)
    ).one_or_none()
    if seen is not None:  # a double-tapped send stores one note
        return seen
    text = text.strip()
    if len(text) > NOTE_LENGTH:
        raise FeedbackRuleError(_("Please keep it under %(count)s characters.", count=NOTE_LENGTH))
    note = FamilyNote(
        case_id=case.id,
        guardian_id=actor.id,
        mood=mood,
        text=text,
        idempotency_key=idempotency_key,
        answer="",
    )
    db.session.add(note)
    db.session.flush()
    return note


def do_answer_note(actor: User, note: FamilyNote, text: str) -> None:
    put_answer(actor, note, text)
    _mark_read([note], actor)
    db.session.flush()


def do_resolve_note(actor: User, note: FamilyNote) -> None:
    if note.resolved_at is None:
        note.resolved_at = utcnow()
        note.resolved_by_id = actor.id
        _mark_read([note], actor)
        db.session.flush()


def do_mark_read(actor: User, items: Sequence[SessionFeedback | FamilyNote]) -> bool:
    """The therapist opened the page showing these: record the read once, by who and when.
    True when anything was newly read (the caller commits)."""
    unread = [item for item in items if item.read_at is None]
    if not unread:
        return False
    db.will_write()
    _mark_read(unread, actor)
    db.session.flush()
    return True


def _mark_read(items: Sequence[SessionFeedback | FamilyNote], actor: User) -> None:
    now = utcnow()
    for item in items:
        if item.read_at is None:
            item.read_at = now
            item.read_by_id = actor.id


def notes_of_case(case_id: int) -> list[FamilyNote]:
    """Every note of a case, newest first: for the case's therapists only."""
    return list(
        db.session.scalars(
            select(FamilyNote)
            .where(FamilyNote.case_id == case_id)
            .options(selectinload(FamilyNote.guardian))
            .order_by(FamilyNote.created_at.desc(), FamilyNote.id.desc())
        )
    )


def own_notes(case_id: int, guardian_id: int) -> list[FamilyNote]:
    """A guardian's own notes only, newest first."""
    return list(
        db.session.scalars(
            select(FamilyNote)
            .where(FamilyNote.case_id == case_id, FamilyNote.guardian_id == guardian_id)
            .options(selectinload(FamilyNote.read_by), selectinload(FamilyNote.answered_by))
            .order_by(FamilyNote.created_at.desc(), FamilyNote.id.desc())
            .limit(20)
        )
    )


def get_note_in(case_id: int, note_id: int) -> FamilyNote:
    return get_in_case(FamilyNote, "family_note", case_id, note_id)
