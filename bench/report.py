"""Write bench/RESULTS.md from the runs kept in bench/data/run-*.json (see bench/run.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BASELINE = "baseline (1 ORM query + small template)"
POLL = "live-update poll (idle)"
P99_TARGET_MS = 150

INTRO = """# Benchmark results (issue 9)

Produced by `make bench` (bench/run.py); the narrative sections at the end are kept by hand in
bench/NOTES.md and appended here. Targets, on the large data set at 16 connections: every key page
at least **0.5×** the baseline's requests per second and **p99 under 150 ms**; the idle live-update
poll at least **3×** the baseline. "Ratio" is the page's rps divided by the baseline's rps in the
same run and at the same number of connections. ✅ target met, ❌ missed.
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
    lines = [
        f"## {run['label']}: {run['backend']}, {run['servers']} app server(s)"
        + (" + Redis" if run.get("redis") else ""),
        "",
        f"- Date: {run['date']}; machine: {run['machine']}",
        f"- Load average just before the run: {', '.join(f'{x:.2f}' for x in run['load_before'])}"
        " (the machine's 2 cores were shared with other work when this is above ~0.5)",
        f"- Data: {_fmt_shape(run['shape'])}; built in {run.get('build_seconds')} s",
        f"- gunicorn: {run['settings']['workers']} workers × {run['settings']['threads']} threads "
        f"(gthread) per server; wrk for {run['settings']['duration']} s per page and connection "
        "count",
        f"- Command: `{run['command']}`",
        "",
        "| Page | Conns | rps | p50 ms | p95 ms | p99 ms | errors | ratio | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, by_conn in results.items():
        for c in connections:
            row = by_conn.get(str(c)) or by_conn.get(c)
            if row is None:
                continue
            base = results[BASELINE].get(str(c)) or results[BASELINE].get(c)
            ratio = row["rps"] / base["rps"] if base and base["rps"] else 0.0
            verdict = ""
            if name != BASELINE and c == 16:
                wanted = 3.0 if name == POLL else 0.5
                ok = ratio >= wanted and row["p99_ms"] < P99_TARGET_MS and not row["errors"]
                verdict = ("✅" if ok else "❌") + f" ≥{wanted:g}×, p99<150"
            lines.append(
                f"| {name} | {c} | {row['rps']:.0f} | {row['p50_ms']} | {row['p95_ms']} | "
                f"{row['p99_ms']} | {row['errors']} | {ratio:.2f}× | {verdict} |"
            )
    lines.append("")
    return lines


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
