"""What starting a web worker costs (issue 17): `import wsgi` loads no module only the command
line, the demo loader, migrations or a rarely used page needs. Nothing here is timed: a timed
test flakes on a busy machine, a module list does not."""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404 - runs this interpreter on a fixed one-line program
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each was measured or known to cost a web worker import time or memory it never uses.
NOT_AT_START = (
    "flask_migrate",  # with alembic, mako, pygments: only `flask db` and the tests' migrations
    "alembic",
    "mako",
    "pygments",
    "email_validator",  # when a form checks an address
    "segno",  # the set-up page's QR code
    "cryptography",  # backups
    "portal.ops.backup",
    "portal.ops.retention",
    "portal.demo",  # the demo loaders (production imports the package only for AU-07's check)
    "portal.demo.people",
    "portal.calendar.reminders",  # a background job
    "portal.rights.export",  # the data download and its printable copy
    "portal.rights.readable",
    "smtplib",  # the outbox's sender (`flask outbox-send`), not a page
    "ctypes",  # the first password hash's memory hand-back
    "argon2",  # the first sign-in
    "pyotp",  # the first therapist's or admin's sign-in code
    "_cffi_backend",
    "psycopg",  # a SQLite worker
    "werkzeug.debug",
    "bench",
)


def _after_import_wsgi(tmp_path: Path, program: str) -> str:
    """The last line `program` prints in a fresh interpreter that starts as a web worker does."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PORTAL_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}",
    }
    out = subprocess.run(  # nosec B603 - fixed argv: this interpreter, one line
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def _modules_after_import_wsgi(tmp_path: Path) -> set[str]:
    program = "import json, sys, wsgi; print(json.dumps(sorted(sys.modules)))"
    loaded: list[str] = json.loads(_after_import_wsgi(tmp_path, program))
    return set(loaded)


def test_import_wsgi_loads_nothing_a_web_worker_does_not_need(tmp_path: Path) -> None:
    loaded = _modules_after_import_wsgi(tmp_path)
    assert "portal.models" in loaded  # the check runs on a real start
    assert sorted(name for name in NOT_AT_START if name in loaded) == []


def test_import_wsgi_leaves_the_garbage_collector_on(tmp_path: Path) -> None:
    """wsgi.py turns the collector off while the app is built; requests need it back on."""
    program = "import gc, wsgi; print(gc.isenabled(), gc.get_freeze_count() > 10_000)"
    assert _after_import_wsgi(tmp_path, program) == "True True"
