"""The project explains its own check IDs (docs/security.md): every ID the code, templates, tests or
CI use has a row there, and every test file that page names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK_ID = re.compile(r"\b([A-Z]{2}-\d{2})\b")
SOURCES = ("portal", "templates", "tests", ".ci", "migrations", "bench", "static/js")
SECURITY_DOC = ROOT / "docs" / "security.md"


def _ids_used() -> dict[str, str]:
    used: dict[str, str] = {}
    files = [ROOT / "README.md", ROOT / "Makefile"]
    for folder in SOURCES:
        files.extend(p for p in (ROOT / folder).rglob("*") if p.is_file())
    for path in files:
        if path.suffix not in {".py", ".html", ".js", ".md", ".txt", ""} or "__pycache__" in str(
            path
        ):
            continue
        for found in CHECK_ID.findall(path.read_text(encoding="utf-8", errors="ignore")):
            used.setdefault(found, str(path.relative_to(ROOT)))
    return used


def _explained() -> set[str]:
    rows = re.findall(r"^\| ([A-Z]{2}-\d{2}) \|", SECURITY_DOC.read_text(), flags=re.MULTILINE)
    return set(rows)


def test_every_check_id_in_use_is_explained_in_docs() -> None:
    missing = {cid: where for cid, where in _ids_used().items() if cid not in _explained()}
    assert not missing, f"explain these IDs in docs/security.md: {missing}"


def test_the_security_page_names_only_test_files_that_exist() -> None:
    named = set(re.findall(r"`(tests/[\w/]+\.py)", SECURITY_DOC.read_text()))
    assert named, "docs/security.md names the tests that prove each check"
    assert sorted(p for p in named if not (ROOT / p).exists()) == []


def test_a_check_that_is_not_used_is_still_explained_once() -> None:
    rows = re.findall(r"^\| ([A-Z]{2}-\d{2}) \|", SECURITY_DOC.read_text(), flags=re.MULTILINE)
    assert len(rows) == len(set(rows)), "each ID has exactly one row"


def test_the_project_refers_to_no_document_outside_the_repository() -> None:
    outside = re.compile(r"\.\./shared|SECURITY\.md|DESIGN\.md|STYLE\.md")
    found = []
    for folder in ("portal", "templates", "tests", "docs", ".ci"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in {".py", ".html", ".md", ".js", ""}:
                text = path.read_text(encoding="utf-8", errors="ignore")
                if path.name != "test_docs.py" and outside.search(text):
                    found.append(str(path.relative_to(ROOT)))
    readme = (ROOT / "README.md").read_text()
    if outside.search(readme):
        found.append("README.md")
    assert found == []
