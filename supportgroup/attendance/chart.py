"""The geometry of the group's attendance chart: bars, gridlines and labels, drawn by a template."""

from __future__ import annotations

from dataclasses import dataclass

from .reports import ChartRow


@dataclass
class Bar:
    row: ChartRow
    x: float
    y: float
    width: float
    height: float
    label_x: float
    value_y: float
    show_date: bool


@dataclass
class Tick:
    value: int
    y: float


@dataclass
class Chart:
    width: int
    height: int
    left: int
    top: int
    bottom: float
    right: int
    bars: list[Bar]
    ticks: list[Tick]
    max_value: int


def bar_chart(rows: list[ChartRow], width: int = 720, height: int = 260) -> Chart:
    """Geometry for a bar chart of participants present per meeting (numbers only, drawn by a template)."""
    left, right, top, bottom_margin = 40, 10, 20, 50
    plot_w, plot_h = width - left - right, height - top - bottom_margin
    bottom = top + plot_h
    max_value = max((r.participants for r in rows), default=0)
    scale_max = max(max_value, 1)
    step = max(1, -(-scale_max // 5))  # at most about five gridlines
    ticks = [Tick(v, bottom - plot_h * v / scale_max) for v in range(0, scale_max + 1, step)]
    n = max(len(rows), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1.0)
    label_every = max(1, -(-n // 12))  # at most about twelve date labels
    bars = []
    for i, row in enumerate(rows):
        h = plot_h * row.participants / scale_max
        x = left + i * slot + (slot - bar_w) / 2
        bars.append(
            Bar(
                row=row,
                x=round(x, 1),
                y=round(bottom - h, 1),
                width=round(bar_w, 1),
                height=round(h, 1),
                label_x=round(x + bar_w / 2, 1),
                value_y=round(bottom - h - 4, 1),
                show_date=(len(rows) - 1 - i) % label_every == 0,
            )
        )
    return Chart(
        width=width,
        height=height,
        left=left,
        top=top,
        bottom=bottom,
        right=width - right,
        bars=bars,
        ticks=[Tick(t.value, round(t.y, 1)) for t in ticks],
        max_value=max_value,
    )
