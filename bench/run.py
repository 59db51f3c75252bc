"""`make bench`: build the data set, serve Rapport with gunicorn, load it with wrk, write results.

Settings (environment):
  DATABASE_URL        default sqlite:///bench/data/bench-<scale>.db (built once, then reused)
  BENCH_SCALE         1 = issue 9's network (100 therapists, 2,000 families, 500k practice
                      entries, 200k messages); 0.02 for a quick small run
  BENCH_REBUILD       1 = rebuild the data set even if it exists (PostgreSQL always rebuilds
                      unless BENCH_REBUILD=0)
  BENCH_CONNECTIONS   default "16,64"
  BENCH_DURATION      seconds per page and connection count, default 15
  BENCH_SERVERS       1 or 2 app servers (2 share the database and Redis; wrk splits the
                      connections between them, as a round-robin load balancer would)
  BENCH_WORKERS       gunicorn workers per server, default 2 (one per core of the reference
                      machine); the reference setting is sync workers (BENCH_THREADS unset)
  BENCH_THREADS       n > 0: gthread workers with n threads each instead of sync workers
  BENCH_LABEL         name of this run in bench/RESULTS.md (default: database + servers)
  REDIS_URL           passed to the app servers (rate limits and live updates)
  BENCH_BUILD_ONLY    1 = only build the data set
  BENCH_PAGES         only the key pages whose names contain one of these words ("tracker,poll")
  BENCH_PORT          first port (the app servers, then the anchor's: 1 server uses BENCH_PORT
                      and the next port, 2 servers the four from BENCH_PORT)
  BENCH_ROUNDS        times each page is measured, each right after the anchor (default 2)
  BENCH_APP           the app to serve (default wsgi:app; bench.wsgi_immediate:app = reads with
                      BEGIN IMMEDIATE, as before issue 9, to measure the difference)
Each page is measured right after the anchor (bench/anchor.py, the cheapest realistic page of
this stack, under the same gunicorn settings): anchor, page, anchor, page ... for every page, the
whole sequence BENCH_ROUNDS times; the figures are medians and a page's ratio is its median over
the median of the anchor runs next to it. The tracker is measured at the start and at the end of a
run (logging practices grows the child's history in between). Also recorded: the machine's load
average with every figure, the app and anchor workers' memory (RSS) and `import wsgi` time.
Each run is kept as bench/data/run-<label>.json; bench/RESULTS.md is written from all of them.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
BIN = Path(sys.executable).parent
PASSWORD = "bench-password-2026"  # noqa: S105 - fictional bench accounts only
PIN = "2468"
BASE_PORT = int(os.environ.get("BENCH_PORT", "8700"))


@dataclass
class Signed:
    """A signed-in browser: the cookie header to send and the CSRF token its pages carry."""

    cookie: str
    csrf: str


def _request(
    port: int, method: str, path: str, *, cookie: str = "", body: str = ""
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    found = {k.lower(): v for k, v in response.getheaders() if k.lower() != "set-cookie"}
    cookies = [v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie"]
    if cookies:
        found["set-cookie"] = "; ".join(cookies)
    conn.close()
    return response.status, found, text


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'"X-CSRFToken": "([^"]+)"', page
    )
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def sign_in(port: int, who: str) -> Signed:
    """THE sign-in step of the benchmark (one place: add a TOTP step here when therapists need one).
    `who` is an email (adults, /login) or a child's username (/login/kids with the PIN)."""
    adult = "@" in who
    path = "/login" if adult else "/login/kids"
    _status, headers, page = _request(port, "GET", path)
    cookie = headers.get("set-cookie", "")
    fields = {"csrf_token": _csrf(page)}
    fields.update(
        {"email": who, "password": PASSWORD} if adult else {"username": who, "secret": PIN}
    )
    status, headers, _ = _request(
        port, "POST", path, cookie=cookie, body=urllib.parse.urlencode(fields)
    )
    if status != 302 or "set-cookie" not in headers:
        raise RuntimeError(f"sign-in as {who} failed ({status})")
    cookie = headers["set-cookie"]
    location = headers["location"]
    if location.startswith("/login/code"):  # therapists: the TOTP second step (AU-08)
        cookie, location = _second_step(port, cookie, location)
    for _ in range(5):  # follow the landing page's redirects (e.g. /family -> /family/<case>)
        status, headers, page = _request(port, "GET", location, cookie=cookie)
        cookie = headers.get("set-cookie", cookie)  # the page put its CSRF token in the session
        if status not in (301, 302, 303):
            break
        location = headers["location"]
    return Signed(cookie=cookie, csrf=_csrf(page))


def _second_step(port: int, cookie: str, location: str) -> tuple[str, str]:
    from bench.dataset import TOTP_SECRET
    from portal.auth.second_factor import code_at, time_step

    for _attempt in range(2):  # a code is good once per 30 s step: wait for the next if used
        _status, headers, page = _request(port, "GET", location, cookie=cookie)
        cookie = headers.get("set-cookie", cookie)
        code = code_at(TOTP_SECRET, time_step(datetime.now(UTC)))
        body = urllib.parse.urlencode({"csrf_token": _csrf(page), "code": code})
        status, headers, _ = _request(port, "POST", location, cookie=cookie, body=body)
        if status in (302, 303):
            return headers.get("set-cookie", cookie), headers["location"]
        time.sleep(31)
    raise RuntimeError("the second sign-in step failed")


# --- the data set ---------------------------------------------------------------------------------


def _database_url(scale: float) -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return f"sqlite:///{DATA / f'bench-{scale:g}.db'}"


def _flask(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"}
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def _create_database(url: str) -> bool:
    """Make the PostgreSQL database DATABASE_URL names when it is missing (a fresh server has
    none); True when it was made."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from portal.db import normalise_url

    parsed = make_url(normalise_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            ).first()
            if found is None:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        return found is None
    finally:
        admin.dispose()


def _as_autovacuum_leaves_it(engine: Any) -> None:
    """PostgreSQL: VACUUM (ANALYZE) the bulk-loaded tables, as autovacuum does on a server that runs
    it (the default). Without it the visibility map of a freshly loaded table is empty and every
    index-only scan reads the table too: the caseload's statement took 6.3 ms instead of 2.6 ms
    on a machine whose server had autovacuum off. SQLite has no such map (ANALYZE is enough)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE)")


def prepare(url: str, scale: float) -> dict[str, Any]:
    """Build (or reuse) the data set; returns the focus ids and how long the build took."""
    marker = DATA / f"focus-{hashlib.sha256(url.encode()).hexdigest()[:12]}-{scale:g}.json"
    sqlite = url.startswith("sqlite")
    default_rebuild = "0" if sqlite else "1"
    rebuild = os.environ.get("BENCH_REBUILD", default_rebuild) == "1"
    if marker.exists() and not rebuild:
        print(f"bench: reusing the data set ({marker.name}), migrated to the code's head")
        _flask(url, "db", "upgrade", "heads")
        loaded: dict[str, Any] = json.loads(marker.read_text())
        from bench.dataset import Shape, enrol_second_factor
        from portal.db import build_engine

        engine = build_engine(url)
        with engine.begin() as connection:
            enrol_second_factor(connection, Shape(**loaded["shape"]))
        _as_autovacuum_leaves_it(engine)  # an earlier run added rows
        engine.dispose()
        return loaded
    if sqlite:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    elif _create_database(url):
        print("bench: made the PostgreSQL database, which did not exist yet")
    else:
        _flask(url, "db", "downgrade", "base")
    _flask(url, "db", "upgrade", "heads")
    started = time.monotonic()
    from bench.dataset import Shape, build
    from portal.db import build_engine
    from portal.passwords import hash_secret

    shape = Shape().scaled(scale)
    engine = build_engine(url)
    with engine.begin() as connection:
        focus = build(
            connection, shape, password_hash=hash_secret(PASSWORD), pin_hash=hash_secret(PIN)
        )
    with engine.begin() as connection:  # committed: the planner's statistics for the new rows
        connection.exec_driver_sql("ANALYZE")
    _as_autovacuum_leaves_it(engine)
    engine.dispose()
    info = {
        "focus": asdict(focus),
        "shape": asdict(shape),
        "build_seconds": round(time.monotonic() - started, 1),
    }
    marker.write_text(json.dumps(info, indent=2))
    print(f"bench: data set built in {info['build_seconds']} s: {shape}")
    return info


# --- servers --------------------------------------------------------------------------------------


def _gunicorn_args(app: str, port: int) -> list[str]:
    args = [str(BIN / "gunicorn"), "--workers", os.environ.get("BENCH_WORKERS", "2")]
    threads = int(os.environ.get("BENCH_THREADS", "0") or 0)
    if threads:
        args += ["--worker-class", "gthread", "--threads", str(threads)]
    else:
        args += ["--worker-class", "sync"]
    return [*args, "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]


def worker_class() -> str:
    threads = int(os.environ.get("BENCH_THREADS", "0") or 0)
    return f"gthread × {threads} threads" if threads else "sync"


def start_servers(url: str, app: str, ports: list[int]) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": SECRET,
        "PORTAL_BASE_URL": "http://127.0.0.1",
    }
    servers = [
        subprocess.Popen(_gunicorn_args(app, port), cwd=ROOT, env=env)  # noqa: S603
        for port in ports
    ]
    for port in ports:
        for _ in range(100):
            try:
                _request(port, "GET", "/login" if "wsgi" in app else "/anchor/items/1")
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn on {port} did not start")
    return servers


def stop_servers(servers: list[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        server.wait(timeout=30)


SECRET = secrets.token_hex(32)


# --- load -----------------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    path: str
    cookie: str = ""
    body: str = ""
    headers: tuple[str, ...] = ()


def wrk(ports: list[int], page: Page, connections: int, seconds: int, run: int) -> dict[str, Any]:
    """wrk against each server with its share of the connections; rps add up, latencies are the
    worst server's (conservative)."""
    procs = []
    share = max(1, connections // len(ports))
    for port in ports:
        args = ["wrk", f"-t{min(2, share)}", f"-c{share}", f"-d{seconds}s", "--timeout", "10s"]
        args += ["-s", str(ROOT / "bench" / "wrk.lua")]
        if page.cookie:
            args += ["-H", f"Cookie: {page.cookie}"]
        for header in page.headers:
            args += ["-H", header]
        args.append(f"http://127.0.0.1:{port}{page.path}")
        env = {**os.environ, "BENCH_BODY": page.body, "BENCH_RUN": str(run)}
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env))  # noqa: S603
    parts = []
    for proc in procs:
        out, _ = proc.communicate()
        line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
        parts.append(json.loads(line.removeprefix("BENCH_JSON ")))
    return {
        "rps": round(sum(p["requests"] / (p["duration_us"] / 1e6) for p in parts), 1),
        "requests": sum(p["requests"] for p in parts),
        "errors": sum(p["errors"] for p in parts),
        "p50_ms": round(max(p["p50_us"] for p in parts) / 1000, 1),
        "p95_ms": round(max(p["p95_us"] for p in parts) / 1000, 1),
        "p99_ms": round(max(p["p99_us"] for p in parts) / 1000, 1),
        "load1": round(os.getloadavg()[0], 1),  # the machine's load as this measurement ended
    }


# The practice the child logs, over and over (bench.inprocess sends the same).
PRACTICE = {
    "when": "now",
    "fear_before": "6",
    "fear_peak": "4",
    "fear_after": "2",
    "completion": "full",
    "coach": "",
}


def key_pages(port: int, focus: dict[str, Any]) -> list[Page]:
    child = sign_in(port, focus["child_username"])
    guardian = sign_in(port, focus["guardian_email"])
    therapist = sign_in(port, focus["therapist_email"])
    _s, _h, thread = _request(
        port, "GET", f"/messages/{focus['thread_id']}", cookie=guardian.cookie
    )
    poll = re.search(r'hx-get="(/messages/\d+/updates\?v=\d+)"', thread)
    if not poll:
        raise RuntimeError("the thread page has no poll address")
    practice = urllib.parse.urlencode({"csrf_token": child.csrf, **PRACTICE})
    return [
        Page("child's tracker", "/me/ladder", child.cookie),
        Page(
            "log a practice (POST)",
            f"/me/ladder/steps/{focus['step_id']}",
            child.cookie,
            body=practice + "&idempotency_key={key}",
        ),
        Page("guardian's family page", f"/family/{focus['case_id']}", guardian.cookie),
        Page("caseload (40 cases, alerts)", "/caseload", therapist.cookie),
        Page("thread (500 messages)", f"/messages/{focus['thread_id']}", guardian.cookie),
        Page("plan: what changed", f"/plans/{focus['plan_id']}/changes", guardian.cookie),
        Page(
            "live-update poll (idle)",
            poll.group(1).replace("&amp;", "&"),
            guardian.cookie,
            headers=("HX-Request: true",),
        ),
    ]


def check(port: int, page: Page) -> None:
    """Each page answers as expected before it is measured (a fast error page proves nothing)."""
    method = "POST" if page.body else "GET"
    body = page.body.replace("{key}", secrets.token_hex(16)[:8] + "-0000-4000-8000-000000000000")
    cookie = page.cookie
    status, _h, text = _request(port, method, page.path, cookie=cookie, body=body)
    expected = {"POST": 303}.get(method, 204 if "updates" in page.path else 200)
    if page.headers:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", page.path, headers={"Cookie": cookie, "HX-Request": "true"})
        status = conn.getresponse().status
        conn.close()
    if status != expected:
        raise RuntimeError(f"{page.name}: {status} (expected {expected}): {text[:300]}")


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (make bench does this)")
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    url = _database_url(scale)
    info = prepare(url, scale)
    if os.environ.get("BENCH_BUILD_ONLY") == "1":  # build the data set now, measure later
        return
    servers_n = int(os.environ.get("BENCH_SERVERS", "1"))
    connections = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "16,64").split(",")]
    seconds = int(os.environ.get("BENCH_DURATION", "15"))
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    label = os.environ.get("BENCH_LABEL") or f"{backend.lower()}-{servers_n}-server"
    run_id = int(time.time()) & 0xFFFFFFFF
    ports = [BASE_PORT + n for n in range(servers_n)]
    anchor_ports = [BASE_PORT + servers_n + n for n in range(servers_n)]
    rounds = int(os.environ.get("BENCH_ROUNDS", "2"))
    app = os.environ.get("BENCH_APP", "wsgi:app")
    wanted = [w.strip() for w in os.environ.get("BENCH_PAGES", "").split(",") if w.strip()]

    from bench.anchor import build_anchor_data
    from portal.db import build_engine

    engine = build_engine(url)
    build_anchor_data(engine)
    engine.dispose()
    servers = start_servers(url, "bench.anchor:app", anchor_ports) + start_servers(url, app, ports)
    samples: dict[str, dict[int, list[dict[str, Any]]]] = {}
    try:
        anchor = Page(ANCHOR, "/anchor", _anchor_cookie(anchor_ports[0]))
        pages = key_pages(ports[0], info["focus"])
        if wanted:
            pages = [p for p in pages if any(w in p.name for w in wanted)]
        for page in pages:
            check(ports[0], page)
        tracker = next((p for p in pages if p.name == TRACKER), None)
        if tracker is not None:  # the same page again once the run has grown the history
            pages.append(Page(TRACKER_END, tracker.path, tracker.cookie))
        for c in connections:
            for n in range(rounds):
                for page in pages:
                    for measured, on in ((anchor, anchor_ports), (page, ports)):
                        result = wrk(on, measured, c, seconds, run_id + c + n)
                        result["next_to"] = page.name
                        samples.setdefault(measured.name, {}).setdefault(c, []).append(result)
                    print(f"bench: {page.name} @{c} round {n + 1}: {result}")
        memory = {
            "anchor": _worker_rss(servers[: len(anchor_ports)]),
            "rapport": _worker_rss(servers[len(anchor_ports) :]),
        }
    finally:
        stop_servers(servers)
    results = {
        name: {c: summarise(runs) for c, runs in by_c.items()} for name, by_c in samples.items()
    }
    for name, by_c in samples.items():  # each page's anchor: the anchor runs right before it
        if name == ANCHOR:
            continue
        for c in by_c:
            next_to = [r for r in samples[ANCHOR][c] if r["next_to"] == name]
            results[name][c]["anchor_rps"] = summarise(next_to)["rps"]

    run = {
        "label": label,
        "backend": backend,
        "servers": servers_n,
        "redis": bool(os.environ.get("REDIS_URL")),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "load_before": os.getloadavg(),
        "shape": info["shape"],
        "build_seconds": info.get("build_seconds"),
        "app": app,
        "settings": {
            "workers": os.environ.get("BENCH_WORKERS", "2"),
            "worker_class": worker_class(),
            "duration": seconds,
            "rounds": rounds,
            "scale": scale,
        },
        "memory_mb": memory,
        "import_seconds": {"wsgi": _import_time("wsgi"), "anchor": _import_time("bench.anchor")},
        "inprocess": _inprocess(url, scale),
        "command": _command(),
        "results": results,
    }
    (DATA / f"run-{label}.json").write_text(json.dumps(run, indent=2))
    from bench.report import write_results

    write_results(DATA, ROOT / "bench" / "RESULTS.md")
    print("bench: wrote bench/RESULTS.md")


ANCHOR = "anchor (bench/anchor.py)"
TRACKER = "child's tracker"
TRACKER_END = "child's tracker, end of run"


def _anchor_cookie(port: int) -> str:
    _status, headers, _ = _request(port, "GET", "/anchor/sign-in")
    return headers["set-cookie"]


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the runs (rps, latencies, load); errors added up."""

    def median(key: str) -> float:
        values = sorted(float(r[key]) for r in runs)
        middle = len(values) // 2
        return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2

    summary: dict[str, Any] = {
        key: round(median(key), 1) for key in ("rps", "p50_ms", "p95_ms", "p99_ms", "load1")
    }
    summary["errors"] = sum(r["errors"] for r in runs)
    summary["rps_each"] = [r["rps"] for r in runs]
    summary["load_each"] = [r["load1"] for r in runs]
    return summary


def _worker_rss(servers: list[subprocess.Popen[bytes]]) -> list[float]:
    """Resident memory of every gunicorn worker of these servers, in MB, after the load."""
    sizes = []
    for server in servers:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        for pid in children.read_text().split() if children.exists() else []:
            status = Path(f"/proc/{pid}/status").read_text()
            rss_kb = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS"))
            sizes.append(round(rss_kb / 1024, 1))
    return sizes


def _import_time(module: str) -> float:
    """Seconds to import the WSGI module in a fresh interpreter, fastest of three, as a deployed
    server starts: with Python's bytecode cache (one import first writes it). A shell with
    PYTHONDONTWRITEBYTECODE=1 (as the sessions' machines have) would otherwise compile every
    module of portal/ from source on every start, which no production worker does (~0.1 s)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {**os.environ, "PORTAL_ENV": "development"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("DATABASE_URL", "sqlite:///" + str(DATA / "import-check.db"))
    times = []
    for _ in range(4):
        out = subprocess.run(  # noqa: S603
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return round(min(times[1:]), 3)  # the first run wrote the bytecode cache


def _inprocess(url: str, scale: float) -> dict[str, Any]:
    """Each key page and the anchor, one request at a time in one process (bench/inprocess.py):
    fastest wall and CPU ms of 30, and the SQL statements one request sends."""
    env = {**os.environ, "DATABASE_URL": url, "BENCH_SCALE": f"{scale:g}"}
    env.pop("INPROCESS_PAGES", None)
    out = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("INPROCESS_JSON "))
    results: dict[str, Any] = json.loads(line.removeprefix("INPROCESS_JSON "))
    return results


def _machine() -> str:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    system = f"{platform.system()} {platform.release()}"
    return f"{system}, {os.cpu_count()} cores {cpu}, Python {platform.python_version()}"


def _command() -> str:
    keys = (
        "DATABASE_URL",
        "REDIS_URL",
        "BENCH_SCALE",
        "BENCH_SERVERS",
        "BENCH_CONNECTIONS",
        "BENCH_DURATION",
        "BENCH_WORKERS",
        "BENCH_THREADS",
        "BENCH_ROUNDS",
        "BENCH_LABEL",
        "BENCH_PAGES",
        "BENCH_APP",
    )
    env = " ".join(f"{k}={os.environ[k]}" for k in keys if os.environ.get(k))
    return f"{env} make bench".strip()


if __name__ == "__main__":
    main()
