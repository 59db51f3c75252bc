#!/usr/bin/env python3
"""XS-02 gate: no unsafe rendering primitive in portal/ or templates/ unless allowlisted.

Flags `|safe`, `Markup(`, `render_template_string` and `autoescape false` (bandit misses
render_template_string: SECURITY D11). A finding is allowed only with an explicit comment saying
why, on the same line or the line above: `XS-02 allowlist: <reason>`.
Exit status 1 on any finding; prints file:line and the rule.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

RULES = {
    "|safe filter": re.compile(r"\|\s*safe\b"),
    "Markup(": re.compile(r"\bMarkup\s*\("),
    "render_template_string": re.compile(r"\brender_template_string\b"),
    "autoescape off": re.compile(r"autoescape\s*(?:false|=\s*False)\b", re.IGNORECASE),
}
ALLOW = "XS-02 allowlist:"
SUFFIXES = {".py", ".html", ".htm", ".jinja", ".j2", ".txt", ".xml", ".svg"}


def findings(root: Path) -> list[str]:
    found = []
    for folder in ("portal", "templates"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, start=1):
                for name, pattern in RULES.items():
                    if not pattern.search(line):
                        continue
                    previous = lines[number - 2] if number > 1 else ""
                    if ALLOW in line or ALLOW in previous:
                        continue
                    found.append(f"{path.relative_to(root)}:{number}: {name}: {line.strip()}")
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    problems = findings(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"\n{len(problems)} unsafe rendering primitive(s); escape instead, or add a")
        print(f"'{ALLOW} <reason>' comment on the line or the line above.")
        return 1
    print("unsafe rendering check: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
