"""Per-request cost of each key page measured in one process, one request at a time (Flask's test
client, no HTTP, no concurrency): the fastest of N tries is kept, which is the least disturbed by
other work on a shared machine. Three figures a page: wall-clock ms, CPU ms of this process
(`time.process_time`, which does not count the time spent waiting for a CPU another program holds)
and the SQL statements one request sends. `python -m bench.inprocess` after `make bench` built the
data set (make bench runs it itself); DATABASE_URL and BENCH_SCALE as for make bench.

INPROCESS_TRIES (default 30) and INPROCESS_PAGES ("poll,anchor": only the pages whose names contain
one of these words) make it usable under `valgrind --tool=callgrind`, which counts instructions
whatever the machine's load: run it with two numbers of tries and divide the difference.

Logging a practice (the POST of bench.run's key pages) is measured only when INPROCESS_PAGES names
it ("practice"): each try stores a practice in the focus child's history, which the other pages
read, so it is never part of a run that measures them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.dataset import TOTP_SECRET
from bench.report import table
from bench.run import DATA, PASSWORD, PIN, PRACTICE, _database_url

TRANSACTION_CONTROL = re.compile(r"\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)", re.I)


def _fastest(call: Callable[[], object], tries: int) -> tuple[float, float]:
    """(wall ms, CPU ms) of the fastest try of each."""
    best_wall = best_cpu = float("inf")
    for _ in range(tries):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best_wall * 1000, best_cpu * 1000


def measure(scale: float, tries: int, wanted: list[str]) -> dict[str, dict[str, Any]]:
    from datetime import UTC, datetime

    from flask import Flask
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from bench.anchor import build_anchor_data, create_anchor_app
    from portal import create_app
    from portal.auth.second_factor import code_at, time_step
    from portal.db import build_engine

    url = os.environ["DATABASE_URL"]
    marker = DATA / f"focus-{hashlib.sha256(url.encode()).hexdigest()[:12]}-{scale:g}.json"
    focus = json.loads(marker.read_text())["focus"]
    # Not "production": its cookies are Secure, which the test client keeps for https only.
    app: Flask = create_app({"PORTAL_ENV": "development", "SECRET_KEY": os.urandom(32).hex()})

    def signed_in(who: str) -> Any:
        client = app.test_client()
        adult = "@" in who
        path = "/login" if adult else "/login/kids"
        page = client.get(path).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token
        fields = {"email": who, "password": PASSWORD} if adult else {"username": who, "secret": PIN}
        response = client.post(path, data={**fields, "csrf_token": token.group(1)})
        if response.headers.get("Location", "").startswith("/login/code"):
            page = client.get("/login/code").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
            assert token
            code = code_at(TOTP_SECRET, time_step(datetime.now(UTC)))
            client.post("/login/code", data={"code": code, "csrf_token": token.group(1)})
        return client

    child = signed_in(focus["child_username"])
    guardian = signed_in(focus["guardian_email"])
    therapist = signed_in(focus["therapist_email"])
    version = re.search(
        r"updates\?v=(\d+)", guardian.get(f"/messages/{focus['thread_id']}").get_data(as_text=True)
    )
    assert version
    engine = build_engine(url)
    build_anchor_data(engine)
    engine.dispose()
    anchor = create_anchor_app(url).test_client()
    anchor.get("/anchor/sign-in")
    pages: dict[str, tuple[Callable[[], Any], int]] = {
        "anchor": (lambda: anchor.get("/anchor"), 200),
        "child's tracker": (lambda: child.get("/me/ladder"), 200),
        "guardian's family page": (lambda: guardian.get(f"/family/{focus['case_id']}"), 200),
        "caseload": (lambda: therapist.get("/caseload"), 200),
        "before the session": (
            lambda: therapist.get(f"/cases/{focus['case_id']}/before-session"),
            200,
        ),
        "thread": (lambda: guardian.get(f"/messages/{focus['thread_id']}"), 200),
        "what changed": (lambda: guardian.get(f"/plans/{focus['plan_id']}/changes"), 200),
        "idle poll": (
            lambda: guardian.get(
                f"/messages/{focus['thread_id']}/updates?v={version.group(1)}",
                headers={"HX-Request": "true"},
            ),
            204,
        ),
    }
    if any(w in "log a practice" for w in wanted):
        pages["log a practice"] = (_practice_post(app, child, focus["step_id"]), 303)
    if wanted:
        pages = {k: v for k, v in pages.items() if any(w in k for w in wanted)}

    statements: list[str] = []
    me = threading.get_ident()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # As tests/test_query_counts.py counts; not the audit sealer's (its own thread, timed).
        if threading.get_ident() == me and not TRANSACTION_CONTROL.match(statement):
            statements.append(statement)

    results: dict[str, dict[str, Any]] = {}
    for name, (call, status) in pages.items():
        response = call()  # warm: first-use configuration, caches
        assert response.status_code == status, (name, response.status_code)
        event.listen(Engine, "before_cursor_execute", count)
        statements.clear()
        call()
        event.remove(Engine, "before_cursor_execute", count)
        if os.environ.get("INPROCESS_SHOW"):  # the statements themselves
            print(f"--- {name}: {len(statements)}")
            print("\n".join("   " + " ".join(s.split())[:300] for s in statements))
        wall, cpu = _fastest(call, tries)
        results[name] = {"ms": round(wall, 2), "cpu_ms": round(cpu, 2), "sql": len(statements)}
    return results


def _practice_post(app: Any, child: Any, step_id: int) -> Callable[[], Any]:
    """The child logs a practice as bench.run's POST does: a new idempotency key each time (the
    same key twice is answered from the first attempt, RL-02), and always the same cookie, as wrk
    sends it (a client that kept the cookies it is given would carry one more "Saved!" message
    in its session with each try, and each try would cost more than the one before)."""
    page = child.get(f"/me/ladder/steps/{step_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    fields = {"csrf_token": token.group(1), **PRACTICE}
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = {"Cookie": f"{name}={child.get_cookie(name).value}"}
    poster = app.test_client(use_cookies=False)
    return lambda: poster.post(
        f"/me/ladder/steps/{step_id}",
        data={**fields, "idempotency_key": uuid.uuid4().hex},
        headers=cookie,
    )


def main() -> None:
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    os.environ["DATABASE_URL"] = _database_url(scale)
    tries = int(os.environ.get("INPROCESS_TRIES", "30"))
    wanted = [w.strip() for w in os.environ.get("INPROCESS_PAGES", "").split(",") if w.strip()]
    results = measure(scale, tries, wanted)
    text = table(results)
    print(text)
    if "--json" in sys.argv:
        print("INPROCESS_JSON " + json.dumps(results))
    if not wanted:
        Path(DATA / f"inprocess-{scale:g}.md").write_text(text)


if __name__ == "__main__":
    main()
