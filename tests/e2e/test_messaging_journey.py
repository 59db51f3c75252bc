"""Secure messaging in a real browser, two people on two devices: Ana writes to Dr. Rivera, who
sees it appear without reloading and replies; Ana sees the reply and that her message was read.

Screens are photographed on a phone (390x844) and a laptop (1280x800).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import ANA, RIVERA, LiveServer, shoot, sign_in


def messages_on(page: Page) -> Locator:
    """The thread's message list (an arriving message is also read out by the page's announcer)."""
    return page.get_by_role("region", name="Messages", exact=True)


def open_family_thread(page: Page) -> str:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", name="Messages", exact=True)).to_be_visible()
    page.get_by_role("link", name="Maya's family thread").click()
    expect(page.get_by_role("heading", name="Maya's family thread")).to_be_visible()
    return page.url


def test_ana_and_dr_rivera_hold_a_live_conversation(
    live_server: LiveServer, new_page: Callable[[], Page]
) -> None:
    ana = new_page()
    sign_in(ana, ANA)
    expect(ana.get_by_role("heading", name=re.compile("^Maya ·"))).to_be_visible()
    thread_url = open_family_thread(ana)
    expect(ana.get_by_text("Not for emergencies.", exact=True)).to_be_visible()
    expect(ana.get_by_text("expect a reply by")).to_be_visible()

    rivera = new_page()
    sign_in(rivera, RIVERA)
    expect(rivera.get_by_role("heading", name="Your caseload")).to_be_visible()
    shoot(rivera, "messages-caseload-flags")
    rivera.goto(thread_url)
    expect(rivera.get_by_role("heading", name="Maya's family thread")).to_be_visible()

    question = f"Maya slept in her own bed two nights running! ({uuid.uuid4().hex[:6]})"
    ana.get_by_label("Your message").fill(question)
    ana.get_by_role("button", name="Send").click()
    expect(ana.get_by_text("Message sent.")).to_be_visible()
    sent_at = time.monotonic()

    # Dr. Rivera's page shows it without a reload, within two seconds.
    expect(messages_on(rivera).get_by_text(question)).to_be_visible(timeout=2_500)
    latency = time.monotonic() - sent_at
    print(f"e2e: the message appeared on Dr. Rivera's screen after {latency * 1000:.0f} ms")
    assert latency < 2.5, latency

    reply = "That is wonderful news. Let's add a sticker to her chart on Thursday."
    rivera.get_by_label("Your message").fill(reply)
    rivera.get_by_role("button", name="Send").click()
    expect(rivera.get_by_text("Message sent.")).to_be_visible()
    expect(rivera.get_by_text("Read by Ana Okafor")).to_be_visible(timeout=5_000)
    shoot(rivera, "messages-thread-therapist")

    # Ana sees the reply appear and that Dr. Rivera read her message.
    expect(messages_on(ana).get_by_text(reply)).to_be_visible(timeout=2_500)
    expect(ana.get_by_text("Read by Dr. Rosa Rivera")).to_be_visible(timeout=5_000)
    shoot(ana, "messages-thread-family")

    # The inbox and the therapist's office hours.
    ana.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    expect(ana.get_by_role("link", name="Maya's family thread")).to_be_visible()
    shoot(ana, "messages-inbox-family")
    rivera.goto("/messages/office-hours")
    expect(rivera.get_by_role("heading", name="Your office hours")).to_be_visible()
    shoot(rivera, "messages-office-hours")


def test_a_teen_writes_to_dr_chen_in_their_own_thread(
    live_server: LiveServer, new_page: Callable[[], Page]
) -> None:
    from tests.e2e.conftest import kids_sign_in

    sam = new_page()
    kids_sign_in(sam, "sam", "rapport-demo-2026")
    sam.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    sam.get_by_role("link", name="You and your therapist").click()
    expect(sam.get_by_text("still alive lol")).to_be_visible()
    shoot(sam, "messages-thread-teen")
