"""Audited writes per second through the app's own write path (issue 17).

`python -m bench.audit_writes` starts PROCESSES processes of CLIENTS/PROCESSES threads each; every
thread repeats the audit part of a change: open a transaction, `audit.record(...)` the change,
commit, and let the app do what it does after a commit. Each client works on its own child, so
nothing but the audit trail itself could make them wait for each other. Prints one JSON line:
writes/s, p50/p99 ms per write, load average, and whether the chain is whole and sealed.

  DATABASE_URL    the database (migrated to head first); PostgreSQL is what the figure is for
  AUDIT_CLIENTS   default 64      AUDIT_PROCESSES default 4      AUDIT_SECONDS default 10
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from typing import Any


def _client(app: Any, child_id: int, stop_at: float, latencies: list[float]) -> None:
    from portal import audit
    from portal.extensions import database

    sessions = database.for_app(app).sessionmaker
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        with app.test_request_context("/bench/audit", method="POST"):
            session = sessions()
            try:
                audit.record(
                    session,
                    action="update",
                    child_id=child_id,
                    object_type="case",
                    object_id=child_id,
                )
                session.commit()
            finally:
                session.close()
        latencies.append(time.perf_counter() - started)


def _process(url: str, first_child: int, threads: int, seconds: float, out: Any) -> None:
    from portal import create_app

    app = create_app({"DATABASE_URL": url, "PORTAL_ENV": "development"})
    stop_at = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(threads)]
    workers = [
        threading.Thread(target=_client, args=(app, first_child + n, stop_at, latencies[n]))
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put([value for per_thread in latencies for value in per_thread])


def main() -> None:
    url = os.environ["DATABASE_URL"]
    clients = int(os.environ.get("AUDIT_CLIENTS", "64"))
    processes = int(os.environ.get("AUDIT_PROCESSES", "4"))
    seconds = float(os.environ.get("AUDIT_SECONDS", "10"))
    from flask_migrate import upgrade

    from portal import create_app

    app = create_app({"DATABASE_URL": url, "PORTAL_ENV": "development"})
    with app.app_context():
        upgrade(revision="heads")
    load_before = os.getloadavg()[0]
    queue: Any = multiprocessing.get_context("fork").Queue()
    per_process = clients // processes
    jobs = [
        multiprocessing.get_context("fork").Process(
            target=_process, args=(url, 1000 + n * per_process, per_process, seconds, queue)
        )
        for n in range(processes)
    ]
    started = time.perf_counter()
    for job in jobs:
        job.start()
    latencies = sorted(value for _ in jobs for value in queue.get())
    for job in jobs:
        job.join()
    elapsed = time.perf_counter() - started
    with app.app_context():
        from portal import audit
        from portal.extensions import database

        session = database.for_app(app).sessionmaker()
        time.sleep(2)  # the writers' own sealers finish their last round
        unsealed = audit.count_unsealed(session) if hasattr(audit, "count_unsealed") else 0
        broken = audit.verify_chain(session)
        session.close()
    print(
        json.dumps(
            {
                "database": url.split(":", 1)[0],
                "clients": per_process * processes,
                "processes": processes,
                "seconds": seconds,
                "writes": len(latencies),
                "writes_per_s": round(len(latencies) / elapsed, 1),
                "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
                "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
                "chain_broken_at": broken,
                "unsealed_2s_after": unsealed,
                "load_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "cores": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
