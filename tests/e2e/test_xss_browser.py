"""XS-05: stored payloads, real Chromium. Ana stores the XSS corpus in a message and a deletion
request; every page that shows them is opened, and no payload ever runs (`window.__xss` stays
unset) and the strict CSP never had to block anything (no violation reported)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ANA, LiveServer, sign_in

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    '"><svg onload=window.__xss=3>',
    "javascript:window.__xss=4",
    "</script><script>window.__xss=5</script>",
    '<div hx-get="/logout" hx-trigger="load" hx-on::load="window.__xss=6">x</div>',
    '<a hx-on:click="window.__xss=7" id=xss-link>click</a>',
    '<div data-hx-get="/logout" data-hx-trigger="load" data-hx-on::load="window.__xss=8">x</div>',
    "{{7*7}} {% raw %}",
    "<form action=//evil.test><button id=xss-submit>go</button></form>",
]
WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def assert_clean(page: Page, where: str) -> None:
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # let htmx process the page
    assert page.evaluate("window.__xss") is None, f"{where}: a payload ran"
    assert page.evaluate("window.__cspViolations") == [], f"{where}: CSP had to block something"
    assert page.locator("#xss-link, #xss-submit").count() == 0, f"{where}: payload became HTML"


def test_XS05_stored_payloads_never_run_in_chromium(
    live_server: LiveServer, new_page: Callable[[], Page]
) -> None:
    ana = new_page()
    ana.context.add_init_script(WATCH)
    sign_in(ana, ANA)
    expect(ana.get_by_role("link", name="Messages").first).to_be_visible()
    ana.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    ana.get_by_role("link", name="Maya's family thread").click()
    thread_url = ana.url
    ana.get_by_label("Your message").fill("\n".join(PAYLOADS))
    ana.get_by_role("button", name="Send").click()
    expect(ana.get_by_text("Message sent.")).to_be_visible()
    expect(ana.get_by_text("{{7*7}} {% raw %}", exact=False)).to_be_visible()
    assert_clean(ana, "thread")

    ana.get_by_role("link", name="Rapport").first.click()
    family_url = ana.url
    ana.get_by_role("link", name="Maya's data").click()
    data_url = ana.url
    ana.get_by_label("Anything the clinic should know (optional)").fill("\n".join(PAYLOADS))
    ana.get_by_label(
        "I understand that the clinic keeps the records it must legally retain"
    ).check()
    ana.get_by_role("button", name="Send the request").click()
    expect(ana.get_by_text("Your request is with the clinic.")).to_be_visible()
    assert_clean(ana, "data page")

    for url in (thread_url, family_url, "/messages", data_url, f"{data_url}/print"):
        ana.goto(url)
        assert_clean(ana, url)
    ana.goto(f"{data_url}/print")
    expect(ana.get_by_text("<script>window.__xss=1</script>", exact=False).first).to_be_visible()
