"""Write bench/RESULTS.md from the runs kept in bench/data/run-*.json (see bench/run.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ANCHOR = "anchor (bench/anchor.py)"
POLL = "live-update poll (idle)"
P99_TARGET_MS = 100
RSS_TARGET_MB = 80
IMPORT_TARGET_S = 0.6

INTRO = """# Benchmark results (issue 17)

Produced by `make bench` (bench/run.py); the narrative at the end is kept by hand in
bench/NOTES.md and appended here. **Reference setting: gunicorn sync workers** (2 per server
unless stated), wrk with 2 threads. Each page is measured right after the anchor (bench/anchor.py:
Flask-Login user loaded per request, one row by primary key, a 20-row join over 100,000 rows, a
template extending a full layout), the whole sequence twice; figures are **medians**, and a page's
ratio is its median rps over the median of the anchor runs right before it. Targets (full data
set, 16 connections): every key page at least **0.5×** the anchor and **p99 under 100 ms**; the
idle poll at least **2×** the anchor; worker RSS at most 80 MB; `import wsgi` at most 0.6 s.
✅ met, ❌ missed. "load" is the machine's 1-minute load average as each measurement ended (2
cores: above 2 means work was queueing for a CPU). **Figures taken while other people's work
loaded the machine are not comparable with a quiet machine's; each section says which it was.**
"""


def _fmt_shape(shape: dict[str, Any]) -> str:
    return (
        f"{shape['therapists']} therapists, {shape['families']} families, "
        f"{shape['practice']:,} practice entries, {shape['messages']:,} messages "
        f"(focus: a caseload of {shape['focus_caseload']}, a thread of {shape['focus_thread']} "
        f"messages), {shape['days']} days"
    )


def _section(run: dict[str, Any]) -> list[str]:
    results = run["results"]
    connections = sorted({int(c) for page in results.values() for c in page})
    settings = run["settings"]
    memory = run.get("memory_mb", {})
    imports = run.get("import_seconds", {})
    rss = memory.get("rapport", [])
    lines = [
        f"## {run['label']}: {run['backend']}, {run['servers']} app server(s)"
        + (" + Redis" if run.get("redis") else ""),
        "",
        f"- Date: {run['date']}; machine: {run['machine']}",
        f"- Load average just before the run: {', '.join(f'{x:.2f}' for x in run['load_before'])}",
        f"- Data: {_fmt_shape(run['shape'])} (scale {settings.get('scale')}); built in "
        f"{run.get('build_seconds')} s",
        f"- gunicorn: {settings['workers']} {settings.get('worker_class', 'sync')} workers per "
        f"server (the anchor's servers the same); wrk {settings['duration']} s per measurement, "
        f"{settings.get('rounds', 1)} rounds",
        f"- Worker RSS after the load: Rapport {rss} MB "
        + _mark(bool(rss) and max(rss) <= RSS_TARGET_MB)
        + f" (≤ {RSS_TARGET_MB}); anchor {memory.get('anchor', [])} MB",
        f"- `import wsgi` (fastest of 3, bytecode cached as on a deployed server): "
        f"{imports.get('wsgi')} s "
        + _mark(imports.get("wsgi", 99) <= IMPORT_TARGET_S)
        + f" (≤ {IMPORT_TARGET_S}); `import bench.anchor`: {imports.get('anchor')} s",
        f"- Command: `{run['command']}`",
        "",
        "| Page | Conns | rps (median) | anchor rps next to it | ratio | p50 ms | p99 ms "
        "| errors | target | load (each run) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, by_conn in results.items():
        for c in connections:
            row = by_conn.get(str(c)) or by_conn.get(c)
            if row is None:
                continue
            anchor = row.get("anchor_rps")
            ratio = row["rps"] / anchor if anchor else None
            verdict = ""
            if name != ANCHOR and c == 16 and ratio is not None:
                wanted = 2.0 if name == POLL else 0.5
                ok = ratio >= wanted and row["p99_ms"] < P99_TARGET_MS and not row["errors"]
                verdict = _mark(ok) + f" ≥{wanted:g}×, p99<{P99_TARGET_MS}"
            loads = ", ".join(f"{x:g}" for x in row.get("load_each", [row.get("load1")]))
            lines.append(
                f"| {name} | {c} | {row['rps']:.0f} | {anchor if anchor else ''} | "
                f"{f'{ratio:.2f}×' if ratio is not None else ''} | {row['p50_ms']} | "
                f"{row['p99_ms']} | {row['errors']} | {verdict} | {loads} |"
            )
    lines.append("")
    inprocess = run.get("inprocess")
    if inprocess:
        lines += [
            "One request at a time in one process (bench/inprocess.py, Flask's test client, "
            "fastest of 30): wall and CPU ms, the CPU cost over the anchor's, and the SQL "
            "statements one request sends (transaction control left out).",
            "",
            table(inprocess),
        ]
    return lines


def table(results: dict[str, dict[str, Any]]) -> str:
    base = results.get("anchor", {}).get("cpu_ms")
    lines = [
        "| Page | fastest ms | fastest CPU ms | × anchor (CPU) | SQL statements |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in results.items():
        ratio = f"{row['cpu_ms'] / base:.1f}×" if base else ""
        lines.append(f"| {name} | {row['ms']:.1f} | {row['cpu_ms']:.1f} | {ratio} | {row['sql']} |")
    return "\n".join(lines) + "\n"


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def write_results(data: Path, target: Path) -> None:
    runs = [json.loads(p.read_text()) for p in sorted(data.glob("run-*.json"))]
    lines = [INTRO]
    for run in runs:
        lines += _section(run)
    notes = target.parent / "NOTES.md"
    if notes.exists():
        lines.append(notes.read_text())
    target.write_text("\n".join(lines).rstrip() + "\n")


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    write_results(here / "data", here / "RESULTS.md")
