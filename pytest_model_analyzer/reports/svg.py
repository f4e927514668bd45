"""Inline SVG line plots for the HTML reports: nice axis ticks, readable labels, markers where asked.

Hand-drawn rather than matplotlib: a few dozen lines give self-contained pages with hover titles and data
attributes that the browser checks read, without a plotting dependency in the measuring environment. Ticks
fall on 1, 2 or 5 times a power of ten (Heckbert's "nice numbers"), labels are written out with thousands
separators (`2,770`, never `2.77e+03`), and the left margin leaves room for them beside the axis title.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]
WIDTH, HEIGHT = 560, 320
LEFT, RIGHT, TOP, BOTTOM = 76, 24, 32, 52


def _nice(value: float, round_it: bool) -> float:
    exponent = math.floor(math.log10(value))
    fraction = value / 10 ** exponent
    if round_it:
        nice = 1 if fraction < 1.5 else 2 if fraction < 3 else 5 if fraction < 7 else 10
    else:
        nice = 1 if fraction <= 1 else 2 if fraction <= 2 else 5 if fraction <= 5 else 10
    return float(nice * 10.0 ** exponent)


MIN_SPAN = 1e-300  # the narrowest range an axis spans: its powers of ten are normal floats
RELATIVE_SPAN = 1e-9  # and at least this share of its values: far above a float's precision (2e-16)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` ticks on round values covering [low, high]."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    # A subnormal span (5e-324, seen from Hypothesis) has a power of ten that underflows to 0 in _nice; a span
    # below the values' own precision (9999.999999999998 to 10000) has a step that adding does not change:
    # ticks were appended without end until the memory ran out (a full suite run, killed by the OOM killer).
    high = max(high, low + MIN_SPAN, low + RELATIVE_SPAN * max(abs(low), abs(high)))
    span = _nice(high - low, round_it=False)
    step = _nice(span / max(count - 1, 1), round_it=True)
    start = math.floor(low / step) * step
    if start > low:  # low / step underflowed to -0.0 (a denormal low): one step further down
        start -= step
    # Rounded six digits below the step (0.30000000000000004 -> 0.3), never to nothing on a tiny axis.
    digits = 6 - math.floor(math.log10(step))
    ticks: list[float] = []
    for index in range(4 * count):  # each tick from the start (no running sum), and never without end
        value = start + index * step
        if value >= high + step * 0.5:
            break
        ticks.append(round(value, digits))
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, digits))
    return ticks


def tick_label(value: float) -> str:
    """`0`, `2.5`, `0.05`, `2,770`: no exponent notation, thousands separated."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


@dataclass(frozen=True)
class Marker:
    """A vertical line at `x` with a label (a change point), drawn behind the series."""

    x: float
    label: str


def _y_scale(y_low: float, y_high: float) -> Callable[[float], float]:
    inner_h = HEIGHT - TOP - BOTTOM

    def sy(y: float) -> float:
        return HEIGHT - BOTTOM - inner_h * (y - y_low) / ((y_high - y_low) or 1.0)

    return sy


def _frame(title: str, x_label: str, y_label: str, y_ticks: Sequence[float], sy: Callable[[float], float],
           css_class: str) -> list[str]:
    """The parts every plot shares: title, horizontal grid with its labels, both axes and their titles."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-label="{html.escape(title)}" class="{css_class}">',
             f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-weight="600">{html.escape(title)}</text>']
    for value in y_ticks:
        parts.append(f'<line x1="{LEFT}" y1="{sy(value):.1f}" x2="{WIDTH - RIGHT}" y2="{sy(value):.1f}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{sy(value) + 3:.1f}" font-size="10" text-anchor="end" '
                     f'class="tick">{tick_label(value)}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
                 'stroke="#333"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#333"/>')
    parts.append(f'<text x="{LEFT + inner_w / 2}" y="{HEIGHT - 14}" text-anchor="middle" font-size="12">'
                 f"{html.escape(x_label)}</text>")
    parts.append(f'<text x="16" y="{TOP + inner_h / 2}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 16 {TOP + inner_h / 2})">{html.escape(y_label)}</text>')
    return parts


def _legend(parts: list[str], index: int, name: str, color: str) -> None:
    legend_y = TOP + 12 + 14 * index
    parts.append(f'<rect x="{WIDTH - RIGHT - 150}" y="{legend_y - 9}" width="10" height="10" fill="{color}"/>')
    parts.append(f'<text x="{WIDTH - RIGHT - 136}" y="{legend_y}" font-size="11">{html.escape(name)}</text>')


def svg_plot(title: str, x_label: str, y_label: str, series: Mapping[str, Sequence[tuple[float, float]]],
             *, markers: Sequence[Marker] = (), highlighted: Mapping[str, Sequence[tuple[float, float]]] | None = None,
             zero_based: bool = True, css_class: str = "plot", dashed: Collection[str] = ()) -> str:
    """A line plot with markers, one series per name. `highlighted` points (per series) get a ring, e.g. the
    Pareto front or a run on another testbed. A `dashed` series is drawn dashed in the colour of the series
    before it: its companion, e.g. the baseline side of an A/B run beside the candidate's."""
    points = [point for values in series.values() for point in values]
    xs = [x for x, _ in points] or [0.0, 1.0]
    ys = [y for _, y in points] or [0.0, 1.0]
    x_ticks = nice_ticks(0.0 if zero_based else min(xs), max(xs))
    y_low, y_high = (0.0 if zero_based else min(ys)), max(ys)
    if y_high == y_low and not zero_based:  # a flat series sits in the middle, not on an axis
        y_low, y_high = y_low - (abs(y_low) or 1.0) * 0.5, y_high + (abs(y_high) or 1.0) * 0.5
    y_ticks = nice_ticks(y_low, y_high)
    if len(series) > 1:
        # Headroom above the highest point for the legend's rows (top right), as the bars have: no point or
        # line hides under a name. The axis starts at its lowest tick, which may lie below the lowest value,
        # so the room is measured on the ticks, and the ticks widened until they leave it.
        share = min(0.6, (14 * len(series) + 8) / (HEIGHT - TOP - BOTTOM))
        for _ in range(8):
            needed = y_high + (y_high - y_ticks[0]) * share / (1 - share)
            if y_ticks[-1] >= needed:
                break
            y_ticks = nice_ticks(y_low, needed)
    x_low, x_high, y_low, y_high = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    inner_w = WIDTH - LEFT - RIGHT

    def sx(x: float) -> float:
        return LEFT + inner_w * (x - x_low) / ((x_high - x_low) or 1.0)

    sy = _y_scale(y_low, y_high)
    parts = _frame(title, x_label, y_label, y_ticks, sy, css_class)
    for value in x_ticks:
        parts.append(f'<text x="{sx(value):.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="10" text-anchor="middle" '
                     f'class="tick">{tick_label(value)}</text>')
    for marker in markers:
        parts.append(f'<line x1="{sx(marker.x):.1f}" y1="{TOP}" x2="{sx(marker.x):.1f}" y2="{HEIGHT - BOTTOM}" '
                     f'stroke="#d62728" stroke-dasharray="4 3" class="change-point" data-x="{marker.x:g}"/>')
        parts.append(f'<text x="{sx(marker.x) + 4:.1f}" y="{TOP + 12}" font-size="10" fill="#d62728">'
                     f"{html.escape(marker.label)}</text>")
    index = -1
    for row, (name, values) in enumerate(series.items()):
        index += name not in dashed or index < 0
        color = COLORS[index % len(COLORS)]
        ordered = sorted(values)
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in ordered)
        dash = ' stroke-dasharray="6 4"' if name in dashed else ""
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash} '
                     f'data-series="{html.escape(name)}"/>')
        for x, y in ordered:
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{color}">'
                         f"<title>{html.escape(name)}: {tick_label(x)}, {y:.4g}</title></circle>")
        for x, y in (highlighted or {}).get(name, ()):
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="7" fill="none" stroke="{color}" '
                         'stroke-width="2" class="highlight"/>')
        if len(series) > 1:  # one series is named by the axis title; a dashed companion has a row of its own
            _legend(parts, row, name, color)
    parts.append("</svg>")
    return "".join(parts)


def svg_stacked_bars(title: str, x_label: str, y_label: str, categories: Sequence[str],
                     stacks: Mapping[str, Sequence[float]], *, css_class: str = "plot bars") -> str:
    """One bar per category (a load), each stacked from the components in `stacks` (name -> one value per
    category), bottom first: Model Analyzer's latency breakdown."""
    totals = [sum(values[i] for values in stacks.values()) for i in range(len(categories))]
    # Headroom above the tallest bar for the legend's rows (top right), so that no bar hides under it.
    legend_share = min(0.6, (14 * len(stacks) + 8) / (HEIGHT - TOP - BOTTOM))
    y_ticks = nice_ticks(0.0, (max(totals, default=1.0) or 1.0) / (1 - legend_share))
    sy = _y_scale(y_ticks[0], y_ticks[-1])
    parts = _frame(title, x_label, y_label, y_ticks, sy, css_class)
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    for i, category in enumerate(categories):
        x = LEFT + slot * i + slot * 0.15
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="10" '
                     f'text-anchor="middle" class="tick">{html.escape(category)}</text>')
        base = 0.0
        for index, (name, values) in enumerate(stacks.items()):
            value = values[i]
            if value > 0:
                top, bottom = sy(base + value), sy(base)
                parts.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}" height="{bottom - top:.1f}" '
                             f'fill="{COLORS[index % len(COLORS)]}" data-series="{html.escape(name)}" '
                             f'data-category="{html.escape(category)}"><title>{html.escape(name)} at '
                             f"{html.escape(category)}: {value:.4g}</title></rect>")
            base += value
    for index, name in enumerate(stacks):
        _legend(parts, index, name, COLORS[index % len(COLORS)])
    parts.append("</svg>")
    return "".join(parts)
