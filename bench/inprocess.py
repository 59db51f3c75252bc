"""Per-request cost of each key page measured in one process, one request at a time (Flask's test
client, no HTTP, no concurrency): the fastest of N tries is kept, which is the least disturbed by
other work on a shared machine. `python -m bench.inprocess` after `make bench` built the data set;
DATABASE_URL and BENCH_SCALE as for make bench."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from bench.dataset import TOTP_SECRET
from bench.run import DATA, PASSWORD, PIN, _database_url


def _fastest(call: Callable[[], object], tries: int) -> float:
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    from datetime import UTC, datetime

    scale = float(os.environ.get("BENCH_SCALE", "1"))
    os.environ["DATABASE_URL"] = _database_url(scale)

    from flask import Flask

    from bench.anchor import build_anchor_data, create_anchor_app
    from portal import create_app
    from portal.auth.second_factor import code_at, time_step

    marker = next(DATA.glob(f"focus-*-{scale:g}.json"))
    focus = json.loads(marker.read_text())["focus"]
    # Not "production": its cookies are Secure, which the test client keeps for https only.
    app: Flask = create_app({"PORTAL_ENV": "development", "SECRET_KEY": os.urandom(32).hex()})

    def signed_in(who: str) -> object:
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
        r"updates\?v=(\d+)",
        guardian.get(f"/messages/{focus['thread_id']}").get_data(as_text=True),  # type: ignore[attr-defined]
    )
    assert version
    from portal.db import build_engine

    engine = build_engine(os.environ["DATABASE_URL"])
    build_anchor_data(engine)
    engine.dispose()
    anchor = create_anchor_app(os.environ["DATABASE_URL"]).test_client()
    anchor.get("/anchor/sign-in")
    pages: dict[str, Callable[[], object]] = {
        "anchor": lambda: anchor.get("/anchor"),
        "child's tracker": lambda: child.get("/me/ladder"),  # type: ignore[attr-defined]
        "guardian's family page": lambda: guardian.get(f"/family/{focus['case_id']}"),  # type: ignore[attr-defined]
        "caseload": lambda: therapist.get("/caseload"),  # type: ignore[attr-defined]
        "thread": lambda: guardian.get(f"/messages/{focus['thread_id']}"),  # type: ignore[attr-defined]
        "what changed": lambda: guardian.get(f"/plans/{focus['plan_id']}/changes"),  # type: ignore[attr-defined]
        "idle poll": lambda: guardian.get(  # type: ignore[attr-defined]
            f"/messages/{focus['thread_id']}/updates?v={version.group(1)}",
            headers={"HX-Request": "true"},
        ),
    }
    lines = ["| Page | fastest of 30, ms | × anchor cost |", "|---|---:|---:|"]
    costs = {name: _fastest(call, 30) for name, call in pages.items()}
    for name, cost in costs.items():
        lines.append(f"| {name} | {cost:.1f} | {cost / costs['anchor']:.1f}× |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(DATA / f"inprocess-{scale:g}.md").write_text(text)


if __name__ == "__main__":
    main()
