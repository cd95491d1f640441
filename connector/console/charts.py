"""The overview's chart, drawn on the server as SVG: one bar per event type."""

from __future__ import annotations

from dataclasses import dataclass

ROW_HEIGHT = 22
BAR_HEIGHT = 14
LABEL_WIDTH = 230
BAR_SPACE = 300
MAX_ROWS = 12


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    y: int
    width: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    others: int  # events of the types past the last row
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


def bar_chart(counts: list[tuple[str, int]]) -> BarChart:
    """Bars for the most frequent types (at most twelve), scaled to the largest count."""
    shown = counts[:MAX_ROWS]
    largest = max((count for _, count in shown), default=0)
    bars = [
        Bar(label, count, index * ROW_HEIGHT, max(2, round(BAR_SPACE * count / largest)) if largest else 0)
        for index, (label, count) in enumerate(shown)
    ]
    others = sum(count for _, count in counts[MAX_ROWS:])
    return BarChart(bars, others, LABEL_WIDTH + BAR_SPACE + 70, max(len(bars), 1) * ROW_HEIGHT)
