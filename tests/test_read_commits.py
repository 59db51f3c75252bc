"""A request that wrote nothing ends its PostgreSQL transaction with COMMIT, not with the ROLLBACK
of the session's close (issue 17): at every ROLLBACK psycopg forgets the statements it prepared,
so a page that rolled back was planned anew on every visit. Nothing a request meant to roll back
may be committed: a failure, a 4xx answer, a write however it was made, a setting changed.

These need the app's own connections (the shared tests' requests run inside one rolled-back
transaction), so they run on a fresh database of their own (`live_app`), with a few views of their
own that write the way a faulty view might."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, abort
from sqlalchemy import Engine, text

from portal import db
from portal.extensions import database
from portal.security import public
from tests.support.browser import Browser
from tests.support.rows import World
from tests.support.wire import prepared_statements, transaction_ends

# psycopg prepares a statement the sixth time one connection runs it (prepare_threshold 5).
VISITS = 8
MARKS = "read_commit_marks"


class Failed(Exception):
    """What the failing view raises."""


def _mark(note: str) -> None:
    db.session.execute(text(f"INSERT INTO {MARKS} (note) VALUES (:note)"), {"note": note})


def _add_views(app: Flask) -> None:
    @app.get("/_test/read")
    @public
    def read() -> str:
        return str(db.session.execute(text(f"SELECT count(*) FROM {MARKS}")).scalar_one())

    @app.get("/_test/read-then/<how>")
    @public
    def read_then(how: str) -> str:
        db.session.execute(text(f"SELECT count(*) FROM {MARKS}")).scalar_one()
        if how == "raise":
            raise Failed
        abort(404)

    @app.get("/_test/write-then/<how>")
    @public
    def write_then(how: str) -> str:
        _mark(how)
        if how == "raise":
            raise Failed
        if how == "refuse":
            abort(400)
        if how == "commit":
            db.session.commit()  # commit point: the test view's change
        return "written"  # "answer": never committed

    @app.get("/_test/write-through-a-function")
    @public
    def write_through_a_function() -> str:
        # A SELECT, as far as the statement's text shows: only PostgreSQL knows it wrote.
        return str(db.session.execute(text("SELECT read_commit_mark('function')")).scalar_one())

    @app.get("/_test/change-a-setting/<how>")
    @public
    def change_a_setting(how: str) -> str:
        # Not LOCAL: the setting lasts until a ROLLBACK undoes it, or for the connection's life.
        if how == "set":
            db.session.execute(text("SET statement_timeout = '4321ms'"))
        else:  # a SELECT, by its first word
            db.session.execute(text("SELECT set_config('statement_timeout', '4321ms', false)"))
        return "set"


@pytest.fixture()
def marks_app(live_app: tuple[Flask, World, int]) -> Iterator[tuple[Flask, Engine]]:
    app, _world, _thread_id = live_app
    engine = database.for_app(app).engine
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {MARKS} (note VARCHAR(40) NOT NULL)"))
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION read_commit_mark(note text) RETURNS integer AS $$"
                    f" BEGIN INSERT INTO {MARKS} (note) VALUES (note); RETURN 1; END"
                    " $$ LANGUAGE plpgsql"
                )
            )
    _add_views(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a view's exception answers 500, as in production
    yield app, engine


def _marks(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text(f"SELECT note FROM {MARKS}")).scalars())


def _on_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg's transactions")


def test_a_page_that_only_reads_keeps_its_prepared_statements(
    live_app: tuple[Flask, World, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _world, _thread_id = live_app
    engine = database.for_app(app).engine
    _on_postgresql(engine)
    browser = Browser(app.test_client())
    browser.login("t1@clinic.test")
    with transaction_ends(monkeypatch) as ends:
        for _ in range(VISITS):  # the inbox writes no audit row and commits nothing itself
            assert browser.get("/messages").status_code == 200
    assert "rollback" not in ends
    assert ends == ["commit-if-read"] * VISITS
    prepared = prepared_statements(engine)
    assert any("FROM message_threads" in statement for statement in prepared), prepared


@pytest.mark.parametrize("how", ["raise", "refuse"])
def test_a_read_that_fails_still_rolls_back(
    marks_app: tuple[Flask, Engine], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    app, engine = marks_app
    _on_postgresql(engine)
    client = app.test_client()
    with transaction_ends(monkeypatch) as ends:
        response = client.get(f"/_test/read-then/{how}")
    assert response.status_code == (500 if how == "raise" else 404)
    assert ends == ["rollback"]


@pytest.mark.parametrize("how", ["raise", "refuse", "answer"])
def test_a_change_the_request_did_not_commit_is_rolled_back(
    marks_app: tuple[Flask, Engine], how: str
) -> None:
    app, engine = marks_app
    response = app.test_client().get(f"/_test/write-then/{how}")
    assert response.status_code == {"raise": 500, "refuse": 400, "answer": 200}[how]
    assert _marks(engine) == []


def test_a_write_made_by_a_function_is_rolled_back(marks_app: tuple[Flask, Engine]) -> None:
    app, engine = marks_app
    _on_postgresql(engine)
    assert app.test_client().get("/_test/write-through-a-function").status_code == 200
    assert _marks(engine) == []


@pytest.mark.parametrize("how", ["set", "set_config"])
def test_a_setting_a_request_changed_does_not_outlive_it(
    marks_app: tuple[Flask, Engine], how: str
) -> None:
    app, engine = marks_app
    _on_postgresql(engine)
    engine.dispose()  # one connection in the pool: the request's, then the check's
    assert app.test_client().get(f"/_test/change-a-setting/{how}").status_code == 200
    with engine.connect() as connection:
        timeout = connection.execute(text("SHOW statement_timeout")).scalar_one()
    assert timeout != "4321ms"


def test_a_request_that_commits_its_change_is_unchanged(
    marks_app: tuple[Flask, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, engine = marks_app
    client = app.test_client()
    if engine.dialect.name == "postgresql":
        with transaction_ends(monkeypatch) as ends:
            assert client.get("/_test/write-then/commit").status_code == 200
        assert ends == []  # its own COMMIT ended it; the close sent nothing more
    else:
        assert client.get("/_test/write-then/commit").status_code == 200
    assert _marks(engine) == ["commit"]


def test_a_read_on_its_own_ends_with_the_conditional_commit(
    marks_app: tuple[Flask, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, engine = marks_app
    _on_postgresql(engine)
    with transaction_ends(monkeypatch) as ends:
        assert app.test_client().get("/_test/read").status_code == 200
    assert ends == ["commit-if-read"]
