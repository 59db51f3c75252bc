"""The ladder pages as people use them: the therapist builds, the child logs, the family follows."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.ladders import services
from portal.models import GuardianLink, Role
from portal.models.ladders import Cheer, Ladder, LadderStep, PracticeAttempt, StepStatus
from tests.support.browser import Browser
from tests.support.builders import (
    PRIVATE_NOTE,
    a_ladder,
    practice,
    proposed_plan,
    thermometer_form,
)
from tests.support.rows import PIN, World, born_years_ago, link_guardian, make_user
from tests.support.session import services_on

YOUNG_KEY = re.compile(r'name="key" value="([^"]+)"')


def _ladder(app: Flask, db_session: Session, world: World) -> list[LadderStep]:
    with services_on(app, db_session):
        _, steps = a_ladder(world.t1, world.case1, (2, 3, 6))
    return steps


def _count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(PracticeAttempt)) or 0


# --- the therapist builds ------------------------------------------------------------------------


def test_therapist_builds_a_ladder_for_a_plan_goal(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    with services_on(app, db_session):
        plan = proposed_plan(world.t1, world.case1)
    browser.login("t1@clinic.test")
    page = browser.get(f"/cases/{world.case1.id}/ladders")
    assert page.status_code == 200 and "Say goodbye at school" in page.get_data(as_text=True)
    response = browser.post(
        f"/cases/{world.case1.id}/ladders",
        {
            "goal": plan.goals[0].lineage_key,
            "title": "Brave goodbyes",
            "mastery_peak_max": "2",
            "mastery_days": "3",
            "weekly_target": "4",
        },
    )
    assert response.status_code == 303
    ladder = db_session.scalars(select(Ladder).where(Ladder.case_id == world.case1.id)).one()
    assert ladder.goal_lineage_key == plan.goals[0].lineage_key
    for title, rating in (("Wave at the door", "2"), ("Go in with the teacher", "6")):
        added = browser.post(
            f"/ladders/{ladder.id}/steps",
            {"title": title, "picture": "goodbye", "fear_rating": rating},
        )
        assert added.status_code == 303 and added.headers["Location"] == f"/ladders/{ladder.id}"
    editor = browser.get(f"/ladders/{ladder.id}", follow_redirects=True).get_data(as_text=True)
    assert "Step “Go in with the teacher” added as step 2." in editor
    assert "consider a middle step" in editor


def test_a_refused_step_keeps_what_the_therapist_typed(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    steps = _ladder(app, db_session, world)
    browser.login("t1@clinic.test")
    response = browser.post(
        f"/ladders/{steps[0].ladder_id}/steps",
        {"title": "Pat the neighbour's dog", "fear_rating": "12"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Pat the neighbour&#39;s dog" in body and "Use a number from 0 to 10." in body


def test_moving_a_step_with_htmx_answers_with_the_step_list_only(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    steps = _ladder(app, db_session, world)
    browser.login("t1@clinic.test")
    url = f"/ladders/{steps[0].ladder_id}/steps/{steps[0].id}/move"
    fragment = browser.htmx("POST", url, {"direction": "down"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in body and 'id="step-list"' in body
    assert "is now step 2" in body
    db_session.expire_all()
    assert db_session.get(LadderStep, steps[0].id).position == 2  # type: ignore[union-attr]
    page = browser.post(url, {"direction": "up"})
    assert page.status_code == 303
    assert "up." in browser.get(page.headers["Location"]).get_data(as_text=True)
    # In Spanish the direction is a Spanish word too (it was "se movió hacia down").
    world.t1.language = "es"
    db_session.commit()
    body = browser.htmx("POST", url, {"direction": "down"}).get_data(as_text=True)
    assert "bajó un lugar. Ahora es el paso 2" in body and "Moved" not in body


def test_therapist_override_and_retire_show_a_confirmation(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    steps = _ladder(app, db_session, world)
    browser.login("t1@clinic.test")
    base = f"/ladders/{steps[0].ladder_id}/steps/{steps[0].id}"
    done = browser.post(f"{base}/status", {"status": "mastered"})
    assert done.status_code == 303
    assert "is now mastered" in browser.get(done.headers["Location"]).get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(LadderStep, steps[1].id).status is StepStatus.AVAILABLE  # type: ignore[union-attr]
    retired = browser.post(f"{base}/retire", {})
    assert retired.status_code == 303
    assert "history is kept" in browser.get(retired.headers["Location"]).get_data(as_text=True)


# --- the child logs ------------------------------------------------------------------------------


def test_a_child_logs_a_practice_on_the_thermometer_and_sees_the_tokens(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    steps = _ladder(app, db_session, world)
    browser.login("cody1", PIN)
    ladder_page = browser.get("/me/ladder").get_data(as_text=True)
    assert "My token jar" in ladder_page and f"/me/ladder/steps/{steps[0].id}" in ladder_page
    assert f"/me/ladder/steps/{steps[1].id}" not in ladder_page  # locked: no way in
    form = thermometer_form(browser, steps[0].id)
    response = browser.post(f"/me/ladder/steps/{steps[0].id}", form)
    assert response.status_code == 303 and response.headers["Location"] == "/me/ladder"
    page = browser.get("/me/ladder").get_data(as_text=True)
    assert "Saved! You earned 2 tokens for your jar." in page
    attempt = db_session.scalars(select(PracticeAttempt)).one()
    assert (attempt.fear_before, attempt.fear_peak, attempt.fear_after) == (40, 60, 20)
    assert attempt.entered_by_id == world.c1.id and not attempt.on_behalf_of_child
    assert attempt.prediction == "The dog will bark at me"


def test_RL02_the_same_practice_form_twice_stores_one_row(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    steps = _ladder(app, db_session, world)
    browser.login("cody1", PIN)
    form = thermometer_form(browser, steps[0].id)
    first = browser.post(f"/me/ladder/steps/{steps[0].id}", form)
    second = browser.post(f"/me/ladder/steps/{steps[0].id}", form)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(db_session) == 1
    changed = browser.post(f"/me/ladder/steps/{steps[0].id}", {**form, "fear_peak": "9"})
    assert changed.status_code == 422 and _count(db_session) == 1
    assert "already sent with other answers" in changed.get_data(as_text=True)


def test_IN02_a_practice_with_a_missing_or_wild_rating_keeps_everything_typed(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    steps = _ladder(app, db_session, world)
    browser.login("cody1", PIN)
    for answers in (
        {"fear_peak": ""},
        {"fear_peak": "99"},
        {"duration_minutes": "-5"},
        {"completion": "cheated"},
        {"idempotency_key": "not-a-key"},
    ):
        form = thermometer_form(browser, steps[0].id, **answers)
        response = browser.post(f"/me/ladder/steps/{steps[0].id}", form)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, answers
        assert "The dog will bark at me" in body and "It did not even look at me" in body
    assert _count(db_session) == 0


def _young_child_at_the_screen(
    app: Flask, db_session: Session, world: World, browser: Browser, *, years: int
) -> str:
    """Case1's child is young (no sign-in); G1 hands over the device. The first step's address."""
    world.case1.child.date_of_birth = born_years_ago(years)
    world.case1.child.user_id = None
    db_session.commit()
    steps = _ladder(app, db_session, world)
    browser.login("g1@family.test")
    assert browser.post(f"/family/{world.case1.id}/child-mode").status_code == 303
    return f"/me/ladder/steps/{steps[0].id}"


def test_a_young_child_in_child_mode_is_recorded_as_entered_by_the_guardian(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    url = _young_child_at_the_screen(app, db_session, world, browser, years=6)
    first = browser.get(url).get_data(as_text=True)
    assert "How scared do you feel now, before you start?" in first
    assert 'class="thermometer' not in first  # faces, not numbers
    key = YOUNG_KEY.search(first)
    assert key
    # One thing per screen: each answer travels to the next screen in the address.
    do_it = browser.get(f"{url}?stage=do&key={key.group(1)}&before=2").get_data(as_text=True)
    assert "Now have a go!" in do_it and "I had my go" in do_it
    how = browser.get(f"{url}?stage=how&key={key.group(1)}&before=2&peak=1")
    assert "How did it go?" in how.get_data(as_text=True)
    for words in ("I did it all", "I did some", "I stopped"):  # the button is the answer
        assert f"<span>{words}</span></button>" in how.get_data(as_text=True)
    assert db_session.scalar(select(func.count(PracticeAttempt.id))) == 0  # nothing stored yet
    answers = {
        "idempotency_key": key.group(1),
        "when": "now",
        "fear_before": "2",
        "fear_peak": "1",
        "completion": "partial",
        "coach": str(world.g1.id),
    }
    response = browser.post(url, answers)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/me/ladder/well-done?earned=")
    celebration = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "You did it!" in celebration and "jar-item-new" in celebration
    assert browser.post(url, answers).status_code == 303  # sent twice: stored once
    attempt = db_session.scalars(select(PracticeAttempt)).one()
    assert attempt.entered_by_id == world.g1.id and attempt.on_behalf_of_child
    assert (attempt.fear_before, attempt.fear_peak, attempt.fear_peak_raw) == (100, 50, 1)
    assert attempt.completion.value == "partial"
    assert attempt.coach_id == world.g1.id
    three_faces = browser.post(
        url,
        {
            "idempotency_key": str(uuid.uuid4()),
            "fear_before": "0",
            "fear_peak": "7",
            "completion": "full",
        },
    )
    assert three_faces.status_code == 422  # a face scale has three faces: she is asked again
    assert "How scared were you at the worst moment?" in three_faces.get_data(as_text=True)


def test_a_young_childs_screens_ask_what_an_edited_address_left_out(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    url = _young_child_at_the_screen(app, db_session, world, browser, years=5)
    skipped = browser.get(f"{url}?stage=how&key=not-a-key&before=9&peak=x")
    assert skipped.status_code == 200
    page = skipped.get_data(as_text=True)
    assert "before you start" in page  # the answer it needs first
    key = YOUNG_KEY.search(page)
    assert key and uuid.UUID(key.group(1))  # a fresh key, never the broken one
    no_peak = browser.get(f"{url}?stage=how&before=1").get_data(as_text=True)
    assert "How scared were you at the worst moment?" in no_peak
    assert browser.get(f"{url}?stage=nonsense").status_code == 200
    assert browser.get("/me/ladder/well-done?earned=999999").status_code == 200
    slip = browser.post(
        url,
        {
            "idempotency_key": str(uuid.uuid4()),
            "fear_before": "1",
            "fear_peak": "1",
            "completion": "full",
            "duration_minutes": "700",
        },
    )
    page = slip.get_data(as_text=True)  # the grown-up's slip: asked again, nothing lost
    assert slip.status_code == 422 and "How did it go?" in page and 'value="700"' in page
    assert 'name="fear_before" value="1"' in page and 'name="fear_peak" value="1"' in page


# --- the family follows --------------------------------------------------------------------------


def test_AZ10_a_teens_private_note_never_reaches_a_guardian(
    app: Flask, db_session: Session, world: World, new_browser: object
) -> None:
    steps = _ladder(app, db_session, world)
    teen = new_browser()  # type: ignore[operator]
    teen.login("cody1", PIN)
    world.case1.child.date_of_birth = born_years_ago(14)
    db_session.commit()
    form = thermometer_form(teen, steps[0].id, note=PRIVATE_NOTE, note_private="y")
    page = teen.get(f"/me/ladder/steps/{steps[0].id}").get_data(as_text=True)
    assert "Keep this note private from my parents" in page and "Who can see this" in page
    assert teen.post(f"/me/ladder/steps/{steps[0].id}", form).status_code == 303
    attempt = db_session.scalars(select(PracticeAttempt)).one()
    assert attempt.note_private and attempt.note == PRIVATE_NOTE
    assert PRIVATE_NOTE in teen.get("/me/ladder").get_data(as_text=True)

    therapist = new_browser()  # type: ignore[operator]
    therapist.login("t1@clinic.test")
    assert PRIVATE_NOTE in therapist.get(f"/cases/{world.case1.id}/progress").get_data(as_text=True)

    parent = new_browser()  # type: ignore[operator]
    parent.login("g1@family.test")
    seen = [
        parent.get(f"/cases/{world.case1.id}/progress"),
        parent.get(f"/family/{world.case1.id}"),
        parent.get(f"/family/{world.case1.id}/plan"),
        parent.htmx("POST", f"/practice/{attempt.id}/cheer", {"sticker": "⭐", "message": "Go!"}),
        parent.htmx("POST", f"/practice/{attempt.id}/cheer", {"sticker": "⭐", "message": ""}),
    ]
    for response in seen:
        body = response.get_data(as_text=True)
        assert response.status_code in (200, 422)
        assert PRIVATE_NOTE not in body
    progress = seen[0].get_data(as_text=True)
    assert "worst 6" in progress  # ratings stay visible to guardians


def test_separated_parents_each_see_all_practice(
    app: Flask, db_session: Session, world: World, new_browser: object
) -> None:
    dad = make_user(db_session, Role.GUARDIAN, "Dan One", email="dad@family.test")
    link_guardian(db_session, world.case1, dad, household="Dad's flat", relationship="Father")
    db_session.commit()
    steps = _ladder(app, db_session, world)
    with services_on(app, db_session):
        attempt = practice(world.c1, world.case1, steps[0], peak=4).attempt
        attempt.coach, attempt.coach_id = "Gwen (Mum's house)", world.g1.id
    browser = new_browser()  # type: ignore[operator]
    browser.login("dad@family.test")
    family = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "Latest brave practice" in family and "with Gwen (Mum&#39;s house)" in family
    progress = browser.get(f"/cases/{world.case1.id}/progress").get_data(as_text=True)
    assert "Step rated 2" in progress and "<svg" in progress and "Show as a table" in progress
    assert db_session.scalars(select(GuardianLink).where(GuardianLink.guardian_id == dad.id)).one()


def test_a_cheer_with_htmx_swaps_the_log_and_the_child_sees_it_next_time(
    app: Flask, db_session: Session, world: World, new_browser: object
) -> None:
    steps = _ladder(app, db_session, world)
    with services_on(app, db_session):
        attempt = practice(world.c1, world.case1, steps[0], peak=4).attempt
    parent = new_browser()  # type: ignore[operator]
    parent.login("g1@family.test")
    parent.get(f"/cases/{world.case1.id}/progress")
    fragment = parent.htmx(
        "POST", f"/practice/{attempt.id}/cheer", {"sticker": "🦁", "message": "Brave lion!"}
    )
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert 'id="practice-log"' in body and "Brave lion!" in body and "Cheer sent." in body
    child = new_browser()  # type: ignore[operator]
    child.login("cody1", PIN)
    assert "You have 1 new cheer!" in child.get("/me").get_data(as_text=True)
    assert "Brave lion!" in child.get("/me/ladder").get_data(as_text=True)
    assert child.post("/me/cheers/seen", {}).status_code == 303
    assert db_session.scalars(select(Cheer)).one().seen_at is not None
    assert "new cheer" not in child.get("/me").get_data(as_text=True)


def test_a_reward_goes_from_menu_to_given_with_a_guardian_in_between(
    app: Flask, db_session: Session, world: World, new_browser: object
) -> None:
    steps = _ladder(app, db_session, world)
    with services_on(app, db_session):
        practice(world.c1, world.case1, steps[0], peak=4)
        practice(world.c1, world.case1, steps[0], peak=4)  # 6 tokens
    therapist = new_browser()  # type: ignore[operator]
    therapist.login("t1@clinic.test")
    added = therapist.post(
        f"/cases/{world.case1.id}/rewards", {"title": "Pizza night", "picture": "🧁", "cost": "5"}
    )
    assert added.status_code == 303
    child = new_browser()  # type: ignore[operator]
    child.login("cody1", PIN)
    assert "Pizza night" not in child.get("/me/ladder").get_data(as_text=True)
    parent = new_browser()  # type: ignore[operator]
    parent.login("g1@family.test")
    reward_id = services_reward_id(db_session)
    assert (
        parent.post(f"/cases/{world.case1.id}/rewards/{reward_id}/approve", {}).status_code == 303
    )
    assert "I'd like this" in child.get("/me/ladder").get_data(as_text=True)
    assert child.post(f"/me/rewards/{reward_id}", {}).status_code == 303
    assert "A grown-up will say yes" in child.get("/me/ladder").get_data(as_text=True)
    redemption_id = services_redemption_id(db_session)
    confirm = parent.post(f"/cases/{world.case1.id}/redemptions/{redemption_id}/confirm", {})
    assert confirm.status_code == 303
    assert "Confirmed: Cody got “Pizza night”." in parent.get(confirm.headers["Location"]).get_data(
        as_text=True
    )
    with services_on(app, db_session):
        assert services.token_balance(world.case1.id) == 1


def services_reward_id(db_session: Session) -> int:
    from portal.models.ladders import Reward

    return db_session.scalars(select(Reward.id)).one()


def services_redemption_id(db_session: Session) -> int:
    from portal.models.ladders import Redemption

    return db_session.scalars(select(Redemption.id)).one()


def test_a_child_suggests_a_step_and_the_therapist_approves_it(
    app: Flask, db_session: Session, world: World, new_browser: object
) -> None:
    steps = _ladder(app, db_session, world)
    child = new_browser()  # type: ignore[operator]
    child.login("cody1", PIN)
    child.get("/me/ladder")
    sent = child.post(
        "/me/ladder/ideas",
        {"ladder_id": str(steps[0].ladder_id), "title": "Watch the puppy next door"},
    )
    assert sent.status_code == 303
    therapist = new_browser()  # type: ignore[operator]
    therapist.login("t1@clinic.test")
    builder = therapist.get(f"/cases/{world.case1.id}/ladders").get_data(as_text=True)
    assert "Watch the puppy next door" in builder
    match = re.search(r"/cases/\d+/suggestions/(\d+)", builder)
    assert match
    decided = therapist.post(match.group(0), {"decision": "approve", "fear_rating": "4"})
    assert decided.status_code == 303
    titles = db_session.scalars(
        select(LadderStep.title).where(LadderStep.ladder_id == steps[0].ladder_id)
    )
    assert "Watch the puppy next door" in list(titles)


def test_another_family_gets_404_everywhere(
    app: Flask, db_session: Session, world: World, new_browser: object
) -> None:
    steps = _ladder(app, db_session, world)
    with services_on(app, db_session):
        attempt = practice(world.c1, world.case1, steps[0], peak=4).attempt
    for sign_in, secret in (("g2@family.test", ""), ("t2@clinic.test", ""), ("cara2", PIN)):
        browser = new_browser()  # type: ignore[operator]
        browser.login(sign_in, secret)
        for url in (
            f"/cases/{world.case1.id}/progress",
            f"/ladders/{steps[0].ladder_id}",
            f"/me/ladder/steps/{steps[0].id}",
        ):
            response = browser.get(url)
            assert response.status_code == 404, (sign_in, url)
            assert "SENTINEL_F1" not in response.get_data(as_text=True)
        cheer = browser.post(f"/practice/{attempt.id}/cheer", {"sticker": "⭐", "message": "Hi"})
        assert cheer.status_code == 404
    assert db_session.scalar(select(func.count()).select_from(Cheer)) == 0


def test_caseload_shows_practice_this_week(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    steps = _ladder(app, db_session, world)
    with services_on(app, db_session):
        practice(world.c1, world.case1, steps[0], peak=4)
        practice(
            world.c1, world.case1, steps[0], peak=4, when=services.utcnow() - timedelta(days=9)
        )
    browser.login("t1@clinic.test")
    page = browser.get("/caseload").get_data(as_text=True)
    assert "Practice, last 7 days" in page and "1 try" in page


def test_the_therapist_picks_a_steps_picture_by_its_drawing_and_words(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    steps = _ladder(app, db_session, world)
    browser.login("t1@clinic.test")
    ladder_id = steps[0].ladder_id
    editor = browser.get(f"/ladders/{ladder_id}").get_data(as_text=True)
    assert 'value="dog"' in editor and "/static/pictures/dog.svg" in editor
    assert '<span class="picker-words">A dog</span>' in editor
    ids = re.findall(r' id="([^"]+)"', editor)
    assert len(ids) == len(set(ids))  # one radio per picture and form, each with its own id
    saved = browser.post(
        f"/ladders/{ladder_id}/steps/{steps[0].id}",
        {"title": steps[0].title, "picture": "dog", "fear_rating": "2"},
    )
    assert saved.status_code == 303
    db_session.refresh(steps[0])
    assert steps[0].picture == "dog"
    refused = browser.post(
        f"/ladders/{ladder_id}/steps/{steps[0].id}",
        {"title": steps[0].title, "picture": "🐶", "fear_rating": "2"},  # not one of ours
    )
    assert refused.status_code == 422
    db_session.refresh(steps[0])
    assert steps[0].picture == "dog"
