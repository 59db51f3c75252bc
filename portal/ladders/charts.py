"""Server-rendered fear charts: geometry only, drawn by templates/ladders/_chart.html as SVG
(presentation attributes, no inline styles: the CSP forbids them). Each chart has a table twin."""

from __future__ import annotations

from dataclasses import dataclass

from portal.ladders.queries import PracticeRow
from portal.models.ladders import Ladder, LadderStep

WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 30, 10, 10, 24


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    row: PracticeRow


@dataclass(frozen=True)
class StepChart:
    step: LadderStep
    rows: list[PracticeRow]  # oldest first
    peak_points: list[Point]
    after_points: list[Point]
    threshold_y: float
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def peak_line(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.peak_points)

    @property
    def grid(self) -> list[tuple[int, float]]:
        return [(value, _y(value * 10)) for value in (0, 5, 10)]

    @property
    def left(self) -> int:
        return LEFT

    @property
    def right(self) -> int:
        return WIDTH - RIGHT

    @property
    def bottom(self) -> int:
        return HEIGHT - BOTTOM


def _y(score: int) -> float:
    usable = HEIGHT - TOP - BOTTOM
    return TOP + usable * (1 - score / 100)


def _x(index: int, count: int) -> float:
    usable = WIDTH - LEFT - RIGHT
    if count == 1:
        return LEFT + usable / 2
    return LEFT + usable * index / (count - 1)


def step_charts(ladder: Ladder, log: list[PracticeRow]) -> list[StepChart]:
    charts = []
    for step in ladder.active_steps:
        rows = sorted((r for r in log if r.step_id == step.id), key=lambda r: r.practiced_at)
        if not rows:
            continue
        count = len(rows)
        peaks = [Point(_x(i, count), _y(r.peak), r) for i, r in enumerate(rows)]
        afters = [
            Point(_x(i, count), _y(r.after), r) for i, r in enumerate(rows) if r.after is not None
        ]
        charts.append(StepChart(step, rows, peaks, afters, _y(ladder.mastery_peak_max * 10)))
    return charts
