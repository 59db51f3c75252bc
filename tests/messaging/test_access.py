"""Who sees which thread (AZ-03, AZ-09, AZ-11, AZ-12, DESIGN §7): a thread you are not in is a 404
exactly like a missing one, for pages, fragments, the live stream and every post."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.messages import services
from portal.models import GuardianRestriction, Message, MessageThread, ThreadKind
from tests.support.browser import Browser
from tests.support.builders import (
    F1_MESSAGE_SENTINEL,
    F2_MESSAGE_SENTINEL,
    post,
    second_household,
    teen_case,
)
from tests.support.rows import PIN, World
from tests.support.session import services_on

HTMX = {"HX-Request": "true"}


def thread_urls(thread_id: int) -> list[str]:
    return [
        f"/messages/{thread_id}",
        f"/messages/{thread_id}/updates",
        f"/messages/{thread_id}/updates?v=0",
        f"/messages/{thread_id}/stream",
    ]


def signed_in(new_browser: Callable[[], Browser], who: str, secret: str = "") -> Browser:
    browser = new_browser()
    browser.login(who, secret)
    return browser


def assert_not_found_everywhere(browser: Browser, thread_id: int, *sentinels: str) -> None:
    missing = browser.get("/messages/999999")
    for url in thread_urls(thread_id):
        for headers in ({}, HTMX):
            response = browser.client.get(url, headers=headers)
            body = response.get_data(as_text=True)
            assert response.status_code == 404, (url, headers, response.status_code)
            missing_body = browser.client.get("/messages/999999", headers=headers).get_data(
                as_text=True
            )
            assert without_token(body) == without_token(missing_body)  # AZ-13: same answer
            for sentinel in sentinels:
                assert sentinel not in body
    assert missing.status_code == 404
    for url, data in (
        (f"/messages/{thread_id}", {"body": "hi", "idempotency_key": str(uuid.uuid4())}),
        (f"/messages/{thread_id}/read", {"seq": "1"}),
    ):
        assert browser.post(url, data).status_code == 404


def without_token(body: str) -> str:
    """CSRF tokens carry a timestamp; everything else must be identical."""
    body = re.sub(r'"X-CSRFToken": "[^"]+"', "", body)
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", body)


def count_messages(db_session: Session) -> int:
    return db_session.scalar(select(func.count(Message.id))) or 0


def test_AZ03_another_family_gets_404_for_the_thread_its_fragments_and_stream(
    new_browser: Callable[[], Browser], world: World, threads: dict[str, int], db_session: Session
) -> None:
    before = count_messages(db_session)
    for who in ("g2@family.test", "t2@clinic.test", "a@clinic.test"):
        browser = signed_in(new_browser, who)
        assert_not_found_everywhere(browser, threads["family_thread"], F1_MESSAGE_SENTINEL)
        inbox = browser.get("/messages").get_data(as_text=True)
        assert F1_MESSAGE_SENTINEL not in inbox
    assert count_messages(db_session) == before  # nothing was posted (AZ-04)


def test_AZ11_a_child_under_13_has_no_messaging(
    new_browser: Callable[[], Browser], world: World, threads: dict[str, int]
) -> None:
    cody = signed_in(new_browser, "cody1", PIN)
    assert cody.get("/messages").status_code == 404
    assert_not_found_everywhere(cody, threads["family_thread"], F1_MESSAGE_SENTINEL)
    assert 'href="/messages"' not in cody.get("/me").get_data(as_text=True)


def test_AZ11_the_other_household_does_not_see_a_household_thread(
    app: Flask, new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    dad, _link = second_household(db_session, world)
    with services_on(app, db_session):
        private = services.do_open_thread(world.t1, world.case1, ThreadKind.HOUSEHOLD, dad)
        post(world.t1, private, world.case1, "Only for Dad's flat: SENTINEL_DAD_ONLY_77")
    dan = signed_in(new_browser, "dan1@family.test")
    assert "SENTINEL_DAD_ONLY_77" in dan.get(f"/messages/{private.id}").get_data(as_text=True)
    gwen = signed_in(new_browser, "g1@family.test")
    assert_not_found_everywhere(gwen, private.id, "SENTINEL_DAD_ONLY_77")
    assert "SENTINEL_DAD_ONLY_77" not in gwen.get("/messages").get_data(as_text=True)
    assert "SENTINEL_DAD_ONLY_77" not in gwen.get(f"/cases/{world.case1.id}/messages").get_data(
        as_text=True
    )


def test_AZ11_a_restricted_guardian_sees_only_their_own_household(
    app: Flask,
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    threads: dict[str, int],
) -> None:
    dad, link = second_household(db_session, world)
    link.restriction = GuardianRestriction.OWN_HOUSEHOLD_ONLY
    db_session.commit()
    with services_on(app, db_session):
        own = services.do_open_thread(world.t1, world.case1, ThreadKind.HOUSEHOLD, dad)
        post(world.t1, own, world.case1, "Your own thread, Dan.")
    dan = signed_in(new_browser, "dan1@family.test")
    # The family thread carries the other household's messages: not for him.
    assert_not_found_everywhere(dan, threads["family_thread"], F1_MESSAGE_SENTINEL)
    assert dan.get(f"/messages/{own.id}").status_code == 200


def test_AZ11_guardians_never_see_the_teen_thread_or_its_words(
    app: Flask, new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    case, teen, _mum = teen_case(db_session, world)
    secret = "SENTINEL_TEEN_ONLY_5150"
    with services_on(app, db_session):
        thread = services.do_open_thread(world.t1, case, ThreadKind.TEEN)
        post(world.t1, thread, case, "Hi Tia, just us here.")
        post(teen, thread, case, f"I did the thing. {secret}")
    tia = signed_in(new_browser, "tia14", "correct horse battery 42")
    assert secret in tia.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert 'href="/messages"' in tia.get("/me").get_data(as_text=True)
    parent = signed_in(new_browser, "tmum@family.test")
    assert_not_found_everywhere(parent, thread.id, secret)
    for url in ("/messages", f"/cases/{case.id}/messages", f"/family/{case.id}", "/family"):
        body = parent.get(url, follow_redirects=True).get_data(as_text=True)
        assert secret not in body, url
        assert "teen thread" not in body.lower(), url
    # Nor can a guardian open one: that is the therapist's door.
    assert parent.post(f"/cases/{case.id}/threads", {"kind": "teen"}).status_code == 404


def test_AZ11_a_guardian_of_another_case_is_never_a_recipient(
    new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    tess = signed_in(new_browser, "t1@clinic.test")
    response = tess.post(
        f"/cases/{world.case1.id}/threads", {"kind": "household", "guardian_id": world.g2.id}
    )
    assert response.status_code == 400
    assert db_session.scalar(select(func.count(MessageThread.id))) == 0


def test_AZ11_only_the_therapist_opens_household_threads(
    new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    gwen = signed_in(new_browser, "g1@family.test")
    response = gwen.post(
        f"/cases/{world.case1.id}/threads", {"kind": "household", "guardian_id": world.g1.id}
    )
    assert response.status_code == 404
    started = gwen.post(f"/cases/{world.case1.id}/threads", {"kind": "family"})
    assert started.status_code == 303
    assert db_session.scalar(select(func.count(MessageThread.id))) == 1


def test_AZ09_a_removed_member_s_next_poll_is_404(
    new_browser: Callable[[], Browser], world: World, db_session: Session, threads: dict[str, int]
) -> None:
    gwen = signed_in(new_browser, "g1@family.test")
    url = f"/messages/{threads['family_thread']}/updates?v=0"
    assert gwen.client.get(url, headers=HTMX).status_code == 200
    world.link1.valid_to = utcnow() - timedelta(seconds=1)
    db_session.commit()
    poll = gwen.client.get(url, headers=HTMX)
    assert poll.status_code in (401, 404)
    assert F1_MESSAGE_SENTINEL not in poll.get_data(as_text=True)


def test_AZ09_a_removed_therapist_s_next_poll_is_404(
    new_browser: Callable[[], Browser], world: World, db_session: Session, threads: dict[str, int]
) -> None:
    tess = signed_in(new_browser, "t1@clinic.test")
    url = f"/messages/{threads['family_thread']}/updates?v=0"
    assert tess.client.get(url, headers=HTMX).status_code == 200
    world.case1.therapist_links[0].ended_at = utcnow()
    db_session.commit()
    assert tess.client.get(url, headers=HTMX).status_code == 404


def test_AZ11_messaging_needs_the_messaging_policy_acknowledged(
    new_browser: Callable[[], Browser], world: World, db_session: Session, threads: dict[str, int]
) -> None:
    from portal.consent_documents import CONSENT_DOCUMENTS
    from portal.models import ConsentAction, ConsentKind, ConsentMethod, ConsentRecord

    db_session.add(
        ConsentRecord(
            case_id=world.case1.id,
            kind=ConsentKind.MESSAGING_POLICY,
            action=ConsentAction.REVOKED,
            given_by_id=world.g1.id,
            recorded_by_id=world.g1.id,
            document_version=CONSENT_DOCUMENTS[ConsentKind.MESSAGING_POLICY].version,
            method=ConsentMethod.PORTAL,
        )
    )
    db_session.commit()
    gwen = signed_in(new_browser, "g1@family.test")
    assert_not_found_everywhere(gwen, threads["family_thread"], F1_MESSAGE_SENTINEL)


def test_AZ12_unread_counts_only_count_your_own_threads(
    app: Flask,
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    threads: dict[str, int],
) -> None:
    gwen = signed_in(new_browser, "g1@family.test")
    page = gwen.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert '<span class="visually-hidden">1 unread</span>' in page
    other = db_session.get(MessageThread, threads["other_family_thread"])
    assert other is not None
    with services_on(app, db_session):
        for n in range(5):
            post(world.t2, other, world.case2, f"Family two, note {n} {F2_MESSAGE_SENTINEL}")
    page = gwen.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert '<span class="visually-hidden">1 unread</span>' in page
    assert F2_MESSAGE_SENTINEL not in gwen.get("/messages").get_data(as_text=True)
