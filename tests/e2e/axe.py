"""axe-core in the browser tests: inject the pinned checker (package-lock.json, `npm ci`) into a
page and turn every violation into a line a person can act on: page, rule id, element selector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_MISSING = f"{AXE_JS} is missing: run `npm ci` at the top of the repository (make test does)"

# Every rule axe runs by default (WCAG 2.0-2.2 A/AA and best practices), nothing switched off.
# It resolves to null when the page has no axe yet. tests/e2e/sweep.py calls it inside its own
# single evaluation of a page.
AXE_RUN_JS = """
async () => {
  if (typeof window.axe === 'undefined') return null;
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


def with_axe(page: Page, script: str, arg: Any = None) -> Any:
    """Evaluate `script` (which resolves to null while the page has no axe) with axe-core in the
    page, handing it the checker first when the device did not (tests/e2e/sweep.device_for)."""
    found = page.evaluate(script, arg)
    if found is None:
        # Evaluated through the DevTools protocol: the page keeps its strict CSP, no inline script.
        page.evaluate(axe_source() + "\n;undefined")
        found = page.evaluate(script, arg)
    assert found is not None, "axe-core did not load into the page"
    return found


def axe_violations(page: Page, label: str) -> list[str]:
    """Run axe on the page as it is now (every <details> opened first, so what is folded away is
    checked too); one line per violated rule, naming the elements."""
    return described(with_axe(page, AXE_RUN_JS), label)


def described(found: list[dict[str, Any]], label: str) -> list[str]:
    """axe's violations as lines a person can act on."""
    return [
        f"{label}: {v['id']} ({v['impact']}) {v['help']} -> {', '.join(v['targets'][:6])}"
        for v in found
    ]


def assert_accessible(page: Page, label: str) -> None:
    problems = axe_violations(page, label)
    assert problems == [], "axe-core violations:\n" + "\n".join(problems)
