"""Server-rendered line charts (SVG) for trends; every chart also has a table alternative."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from portal.i18n import local_date

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 640, 240, 36, 16, 12, 28


@dataclass
class Series:
    name: str
    points: list[tuple[date, float]]
    css_class: str
    marker: str  # a shape as well as a colour, so meaning never rests on colour alone

    svg_points: str = ""
    dots: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass
class Chart:
    title: str
    y_max: int
    series: list[Series]
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, int]]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


CLASSES = ["series-a", "series-b", "series-c", "series-d"]
MARKERS = ["circle", "square", "diamond", "triangle"]


def line_chart(title: str, named_points: dict[str, list[tuple[date, float]]], y_max: int) -> Chart:
    days = sorted({day for points in named_points.values() for day, _ in points})
    first, last = (days[0], days[-1]) if days else (date.today(), date.today())
    span = max((last - first).days, 1)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x_of(day: date) -> float:
        return round(PAD_LEFT + plot_w * (day - first).days / span, 1)

    def y_of(value: float) -> float:
        return round(PAD_TOP + plot_h * (1 - value / y_max), 1)

    series = []
    for index, (name, points) in enumerate(sorted(named_points.items())):
        s = Series(name, sorted(points), CLASSES[index % 4], MARKERS[index % 4])
        s.dots = [(x_of(day), y_of(value), value) for day, value in s.points]
        s.svg_points = " ".join(f"{x},{y}" for x, y, _ in s.dots)
        series.append(s)
    labels = [(x_of(day), local_date(day, "day")) for day in (days[:: max(len(days) // 5, 1)])]
    ticks = [(y_of(v), v) for v in range(0, y_max + 1, max(y_max // 5, 1))]
    return Chart(title, y_max, series, labels, ticks)
