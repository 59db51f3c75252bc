"""Issue 17: the child's jar and the calm days are read from running totals the database keeps as
each practice entry and ledger row is written (`case_tallies`, `step_days`), so the tracker and
logging a practice cost the same however long the child's history. Here every way those rows are
written leaves the totals equal to a recount of the rows themselves."""

from __future__ import annotations

from datetime import UTC, timedelta

from flask import Flask
from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from bench.dataset import Shape, build
from portal.db import utcnow
from portal.ladders import services
from portal.ladders.queries import jar_totals
from portal.models.ladders import LadderStep, PracticeAttempt
from tests.support.browser import Browser
from tests.support.builders import a_ladder, practice, thermometer_form
from tests.support.rows import _PASSWORD_HASH, _PIN_HASH, PIN, World
from tests.support.session import services_on
from tests.support.tallies import kept, recounted

DAY = timedelta(days=1)


def calm_days_recounted(session: Session, step: LadderStep) -> int:
    """The mastery rule's own words: separate UTC days with a try at or under the threshold."""
    threshold = step.ladder.mastery_peak_max * 10
    times = session.scalars(
        select(PracticeAttempt.practiced_at).where(
            PracticeAttempt.step_id == step.id, PracticeAttempt.fear_peak <= threshold
        )
    )
    return len({moment.astimezone(UTC).date() for moment in times})


def test_practices_logged_on_the_form_and_a_replay_are_counted_once(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    with services_on(app, db_session):
        _, steps = a_ladder(world.t1, world.case1, (2, 3, 6))
    browser.login("cody1", PIN)
    first = thermometer_form(browser, steps[0].id)
    calm_yesterday = thermometer_form(browser, steps[0].id, when="yesterday", fear_peak="1")
    for form in (first, first, calm_yesterday):
        assert browser.post(f"/me/ladder/steps/{steps[0].id}", form).status_code == 303

    assert kept(db_session) == recounted(db_session)
    # The replay stored and earned nothing: two tries of 2 tokens, on two days.
    assert kept(db_session).cases == {world.case1.id: (2, 4, 0)}
    assert len(kept(db_session).days) == 2
    page = browser.get("/me/ladder").get_data(as_text=True)
    assert "1 of 3 calm days" in page  # yesterday's peak of 1 is calm; today's 6 is not


def test_a_second_try_on_a_day_keeps_its_lowest_peak_and_counts_the_day_once(
    in_app: Session, world: World
) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    step = steps[0]
    yesterday = utcnow() - DAY
    practice(world.c1, world.case1, step, peak=6, when=yesterday)
    assert services.calm_days(step) == 0
    practice(world.c1, world.case1, step, peak=1, when=yesterday)  # the day became calm
    practice(world.c1, world.case1, step, peak=8, when=yesterday)  # and stays calm
    practice(world.c1, world.case1, step, peak=2)  # today, calm too

    assert kept(in_app) == recounted(in_app)
    assert kept(in_app).days[(step.id, yesterday.date())] == 10
    assert services.calm_days(step) == calm_days_recounted(in_app, step) == 2
    assert services.calm_days_of([step, steps[1]]) == {step.id: 2}


def test_a_changed_mastery_threshold_applies_to_the_days_already_practised(
    in_app: Session, world: World
) -> None:
    ladder, steps = a_ladder(world.t1, world.case1)
    step = steps[0]
    for days_ago, peak in ((3, 4), (2, 3), (1, 2)):
        practice(world.c1, world.case1, step, peak=peak, when=utcnow() - days_ago * DAY)
    assert services.calm_days(step) == calm_days_recounted(in_app, step) == 1

    services.do_save_ladder_settings(
        world.t1, ladder, title=ladder.title, mastery_peak_max=4, mastery_days=5, weekly_target=4
    )

    assert services.calm_days(step) == calm_days_recounted(in_app, step) == 3
    assert services.calm_days_of([step]) == {step.id: 3}


def test_mastery_still_comes_on_the_third_calm_day(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    for days_ago in (2, 1):
        result = practice(world.c1, world.case1, steps[0], peak=1, when=utcnow() - days_ago * DAY)
        assert not result.mastered
    assert practice(world.c1, world.case1, steps[0], peak=2).mastered
    assert kept(in_app) == recounted(in_app)


def test_a_confirmed_reward_spends_the_tokens_in_the_totals(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1, (5,))
    for _ in range(3):
        practice(world.c1, world.case1, steps[0], peak=5)  # 4 tokens each (a 5/10 step)
    reward = services.do_add_reward(world.g1, world.case1, title="Park", cost=5, approve=True)
    redemption = services.do_request_reward(world.c1, world.case1, reward, on_behalf_of_child=False)
    assert services.token_balance(world.case1.id) == 12

    services.do_confirm_redemption(world.g1, redemption)

    assert kept(in_app) == recounted(in_app)
    assert services.token_balance(world.case1.id) == 7
    assert services.tokens_earned(world.case1.id) == 12
    totals = jar_totals(world.case1.id)
    assert (totals.practices, totals.balance, totals.pending) == (3, 7, 0)


def test_a_case_that_never_practised_has_empty_totals(in_app: Session, world: World) -> None:
    _, steps = a_ladder(world.t1, world.case1)
    assert jar_totals(world.case1.id) == jar_totals(world.case2.id)
    assert (jar_totals(world.case1.id).practices, services.token_balance(world.case1.id)) == (0, 0)
    assert services.calm_days(steps[0]) == 0 and services.calm_days_of(steps) == {}


def test_rows_written_moved_or_deleted_behind_the_apps_back_keep_the_totals(
    in_app: Session, world: World
) -> None:
    """An import or a repair in SQL (and the retention purge, which deletes) is kept right by the
    database itself: a moved or deleted entry that was its day's lowest is taken back."""
    _, steps = a_ladder(world.t1, world.case1)
    step = steps[0]
    today, yesterday = utcnow(), utcnow() - DAY
    rows = [
        {
            "case_id": world.case1.id,
            "step_id": step.id,
            "practiced_at": when,
            "entered_by_id": world.c1.id,
            "idempotency_key": f"imported-{n}",
            "rating_scale": "thermometer10",
            "fear_peak": peak,
            "fear_peak_raw": peak // 10,
            "completion": "full",
        }
        for n, (when, peak) in enumerate(((today, 10), (today, 60), (yesterday, 30)))
    ]
    in_app.execute(insert(PracticeAttempt.__table__), rows)  # type: ignore[arg-type]
    assert kept(in_app) == recounted(in_app)
    assert kept(in_app).days[(step.id, today.date())] == 10

    table: Table = PracticeAttempt.__table__  # type: ignore[assignment]
    lowest = table.c.idempotency_key == "imported-0"
    in_app.execute(table.update().where(lowest).values(practiced_at=yesterday))
    assert kept(in_app) == recounted(in_app)
    assert kept(in_app).days[(step.id, today.date())] == 60
    assert kept(in_app).days[(step.id, yesterday.date())] == 10

    in_app.execute(table.update().where(lowest).values(fear_peak=90))
    assert kept(in_app) == recounted(in_app)
    in_app.execute(table.delete().where(table.c.idempotency_key != "imported-1"))
    assert kept(in_app) == recounted(in_app)
    assert kept(in_app).days == {(step.id, today.date()): 60}
    in_app.execute(text("DELETE FROM practice_attempts"))
    assert kept(in_app) == recounted(in_app)
    assert kept(in_app).days == {} and jar_totals(world.case1.id).practices == 0


def test_the_benchmarks_bulk_load_leaves_the_totals_agreeing(
    app: Flask, db_session: Session
) -> None:
    shape = Shape(
        therapists=2,
        families=4,
        days=30,
        practice=200,
        messages=20,
        focus_caseload=4,
        focus_thread=5,
        focus_practice=80,
        prefix="tally",
    )
    build(db_session.connection(), shape, password_hash=_PASSWORD_HASH, pin_hash=_PIN_HASH)
    totals = recounted(db_session)
    assert sum(practices for practices, _, _ in totals.cases.values()) == 200
    assert kept(db_session) == totals
