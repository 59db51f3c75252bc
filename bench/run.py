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
  BENCH_WORKERS, BENCH_THREADS   gunicorn settings, default 4 workers x 4 threads (gthread)
  BENCH_LABEL         name of this run in bench/RESULTS.md (default: database + servers)
  REDIS_URL           passed to the app servers (rate limits and live updates)
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
    for _ in range(5):  # follow the landing page's redirects (e.g. /family -> /family/<case>)
        status, headers, page = _request(port, "GET", location, cookie=cookie)
        cookie = headers.get("set-cookie", cookie)  # the page put its CSRF token in the session
        if status not in (301, 302, 303):
            break
        location = headers["location"]
    return Signed(cookie=cookie, csrf=_csrf(page))


# --- the data set ---------------------------------------------------------------------------------


def _database_url(scale: float) -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return f"sqlite:///{DATA / f'bench-{scale:g}.db'}"


def _flask(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"}
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def prepare(url: str, scale: float) -> dict[str, Any]:
    """Build (or reuse) the data set; returns the focus ids and how long the build took."""
    marker = DATA / f"focus-{hashlib.sha256(url.encode()).hexdigest()[:12]}-{scale:g}.json"
    sqlite = url.startswith("sqlite")
    default_rebuild = "0" if sqlite else "1"
    rebuild = os.environ.get("BENCH_REBUILD", default_rebuild) == "1"
    if marker.exists() and not rebuild:
        print(f"bench: reusing the data set ({marker.name})")
        loaded: dict[str, Any] = json.loads(marker.read_text())
        return loaded
    if sqlite:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
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
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql("COMMIT")
            connection.exec_driver_sql("ANALYZE")
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
    workers = os.environ.get("BENCH_WORKERS", "4")
    threads = os.environ.get("BENCH_THREADS", "4")
    return [
        str(BIN / "gunicorn"),
        "--workers",
        workers,
        "--worker-class",
        "gthread",
        "--threads",
        threads,
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app,
    ]


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
                _request(port, "GET", "/login" if "wsgi" in app else "/baseline")
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
    practice = urllib.parse.urlencode(
        {
            "csrf_token": child.csrf,
            "when": "now",
            "fear_before": "6",
            "fear_peak": "4",
            "fear_after": "2",
            "completion": "full",
            "coach": "",
        }
    )
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
    servers_n = int(os.environ.get("BENCH_SERVERS", "1"))
    connections = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "16,64").split(",")]
    seconds = int(os.environ.get("BENCH_DURATION", "15"))
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    label = os.environ.get("BENCH_LABEL") or f"{backend.lower()}-{servers_n}-server"
    run_id = int(time.time()) & 0xFFFFFFFF
    ports = [BASE_PORT + n for n in range(servers_n)]
    results: dict[str, dict[int, dict[str, Any]]] = {}

    servers = start_servers(url, "bench.baseline:app", ports)
    try:
        baseline = Page("baseline (1 ORM query + small template)", "/baseline")
        results[baseline.name] = {c: wrk(ports, baseline, c, seconds, run_id) for c in connections}
    finally:
        stop_servers(servers)

    servers = start_servers(url, "wsgi:app", ports)
    try:
        pages = key_pages(ports[0], info["focus"])
        for page in pages:
            check(ports[0], page)
        for page in pages:
            results[page.name] = {}
            for c in connections:
                results[page.name][c] = wrk(ports, page, c, seconds, run_id + c)
                print(f"bench: {page.name} @{c}: {results[page.name][c]}")
    finally:
        stop_servers(servers)

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
        "settings": {
            "workers": os.environ.get("BENCH_WORKERS", "4"),
            "threads": os.environ.get("BENCH_THREADS", "4"),
            "duration": seconds,
            "scale": scale,
        },
        "command": _command(),
        "results": results,
    }
    (DATA / f"run-{label}.json").write_text(json.dumps(run, indent=2))
    from bench.report import write_results

    write_results(DATA, ROOT / "bench" / "RESULTS.md")
    print("bench: wrote bench/RESULTS.md")


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
        "BENCH_LABEL",
    )
    env = " ".join(f"{k}={os.environ[k]}" for k in keys if os.environ.get(k))
    return f"{env} make bench".strip()


if __name__ == "__main__":
    main()
