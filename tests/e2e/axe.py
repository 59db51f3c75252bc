"""axe-core in the browser tests: inject the pinned checker (package-lock.json, `npm ci`) into a
page and turn every violation into a line a person can act on: page, rule id, element selector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_MISSING = f"{AXE_JS} is missing: run `npm ci` at the top of the repository (make test does)"

# Every rule axe runs by default (WCAG 2.0-2.2 A/AA and best practices), nothing switched off.
_RUN_AXE = """
async () => {
  document.querySelectorAll('details:not([open])').forEach(d => { d.open = true; });
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
}
"""


def axe_source() -> str:
    assert AXE_JS.exists(), AXE_MISSING
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Page, label: str) -> list[str]:
    """Run axe on the page as it is now (every <details> opened first, so what is folded away is
    checked too); one line per violated rule, naming the elements."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page keeps its strict CSP, no inline script.
        page.evaluate(axe_source() + "\n;undefined")
    found: list[dict[str, Any]] = page.evaluate(_RUN_AXE)
    return [
        f"{label}: {v['id']} ({v['impact']}) {v['help']} -> {', '.join(v['targets'][:6])}"
        for v in found
    ]


def assert_accessible(page: Page, label: str) -> None:
    problems = axe_violations(page, label)
    assert problems == [], "axe-core violations:\n" + "\n".join(problems)
