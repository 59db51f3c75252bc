"""CO-02 and issue 13: after a completed deletion the child's record keeps a placeholder name,
said in each reader's language ("Child #12" / "Niño/a #12"), never an English word stored for
everybody; what the clinic kept is listed in the reader's language too."""

from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit_report.queries import child_choices
from portal.models import Child, DataRequest, User
from portal.rights import services as rights
from tests.support.rows import World


def _delete_while_reading_spanish(in_app: Session, world: World) -> DataRequest:
    world.admin.language = "es"
    with force_locale("es_US"):
        request = rights.do_request_deletion(world.g1, world.case1, "Nos mudamos")
        rights.do_complete_deletion(world.admin, request)
    in_app.expire_all()
    return request


def test_the_placeholder_name_is_said_in_the_readers_language(
    in_app: Session, world: World
) -> None:
    _delete_while_reading_spanish(in_app, world)
    child = in_app.get(Child, world.case1.child_id)
    assert child is not None and child.name_removed_at is not None
    number = f"#{child.id}"
    with force_locale("en_US"):
        assert child.full_name == f"Child {number}"
        assert (child.id, f"Child ({number})") in child_choices(world.clinic.id)
    with force_locale("es_US"):
        assert child.full_name == f"Niño/a {number}"
        assert "Child" not in child.full_name
        assert (child.id, f"Niño/a ({number})") in child_choices(world.clinic.id)
    assert "Cody" not in child.full_name and "SENTINEL" not in child.full_name
    # Queries still find and sort by what is stored.
    assert in_app.scalars(select(Child.id).where(Child.first_name == "Child")).all() == [child.id]


def test_the_closed_account_is_named_by_its_record_number_not_an_english_word(
    in_app: Session, world: World
) -> None:
    _delete_while_reading_spanish(in_app, world)
    account = in_app.get(User, world.c1.id)
    assert account is not None
    assert account.display_name == f"#{world.case1.child_id}"
    assert "Closed" not in account.display_name


def test_what_was_kept_reads_in_the_readers_language(in_app: Session, world: World) -> None:
    request = _delete_while_reading_spanish(in_app, world)
    request = in_app.get(DataRequest, request.id)
    assert request is not None
    assert "clinical record" in request.retained  # msgids, whoever completed it
    with force_locale("en_US"):
        english = request.retained_lines
    with force_locale("es_US"):
        spanish = request.retained_lines
    assert len(english) == len(spanish) == 5
    assert all("clinical record" not in line for line in spanish)
    assert english[0].startswith("Treatment plan versions")


def test_a_child_named_child_keeps_their_name(in_app: Session, world: World) -> None:
    child = in_app.get(Child, world.case1.child_id)
    assert child is not None
    child.first_name = "Child"
    in_app.flush()
    with force_locale("es_US"):
        assert child.first_name == "Child"  # a name is never translated


def test_the_printable_copy_says_the_placeholder_in_the_readers_language(
    in_app: Session, world: World
) -> None:
    from portal.db import utcnow
    from portal.rights.export import document
    from portal.rights.readable import readable

    _delete_while_reading_spanish(in_app, world)
    case = in_app.get(type(world.case1), world.case1.id)
    assert case is not None
    with force_locale("es_US"):
        parts = readable(document(case, world.g1, utcnow()))
    names = [
        row[0]
        for part in parts
        for section in part["sections"]
        if section["key"] == "children"
        for row in section["rows"]
    ]
    assert names == [f"Niño/a #{case.child_id}"]
