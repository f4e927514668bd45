"""`reports/history.html` and `reports/history.csv`: every point's metrics across the checkpoints.

One plot per point and metric, checkpoint number on the x axis; a dashed red line where a persistent shift
starts (analysis/history.py) with its size, and a ring on each run measured on a testbed other than the run
before's. The CSV is the same data in long form (one row per point, metric and run), with the shift and testbed
marks, for tools that look for change points themselves (Apache Otava reads such a file per test).
"""

from __future__ import annotations

import csv
import html
import io
import time
from collections.abc import Sequence

from pytest_model_analyzer.analysis.history import Series
from pytest_model_analyzer.domain.metrics import METRICS
from pytest_model_analyzer.reports.html_report import SCRIPT, STYLE
from pytest_model_analyzer.reports.svg import Marker, svg_plot

MAX_PLOTS = 400  # beyond this the page gets slow to open; the CSV has everything


def _plot(series: Series) -> str:
    unit = METRICS[series.metric].unit if series.metric in METRICS else ""
    values = [(float(entry.checkpoint), entry.value) for entry in series.entries]
    markers = [Marker(float(series.entries[start].checkpoint), f"shift {100 * series.shift_of(start):+.0f}%")
               for start in series.shifts]
    rings = [(float(entry.checkpoint), entry.value) for entry in series.entries if entry.other_testbed]
    point = series.point
    title = f"{point.model} / {point.variant} {point.name}: {series.metric}"
    return svg_plot(title, "checkpoint", f"{series.metric} ({unit})".strip(),
                    {series.metric: values}, markers=markers, highlighted={series.metric: rings}, zero_based=False,
                    css_class="plot history")


def render_html(series: Sequence[Series], source: str, checkpoints: int) -> str:
    shifted = [s for s in series if s.shifts]
    shown = [*shifted, *[s for s in series if not s.shifts]][:MAX_PLOTS]
    cut = (f" {len(series) - len(shown)} more series are in history.csv only." if len(series) > len(shown) else "")
    listing = "".join(
        f"<li>{html.escape(s.point.label)}: {html.escape(s.metric)} {html.escape(s.describe_shifts())}</li>"
        for s in shifted)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Model analysis history</title><style>{STYLE}</style><script>{SCRIPT}</script></head><body>"
        f"<h1>Model analysis history</h1>"
        f'<p class="note">{len(series)} series from {checkpoints} checkpoints in {html.escape(source)}, written '
        f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}. Dashed red lines: persistent shifts "
        "(change points found by ruptures' PELT); rings: runs on a testbed other than the run before's, whose "
        f"figures are not comparable.{cut}</p>"
        f"<h2>Shifts</h2><ul class=\"shifts\">{listing or '<li>none</li>'}</ul>"
        f'<h2>Series</h2><div class="plots">{"".join(_plot(s) for s in shown)}</div></body></html>\n'
    )


def render_csv(series: Sequence[Series]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", "variant", "batch_size", "load_kind", "load", "metric", "checkpoint", "timestamp",
                     "value", "shift_starts", "other_testbed"])
    for s in series:
        starts = {s.entries[start].checkpoint for start in s.shifts}
        for entry in s.entries:
            writer.writerow([s.point.model, s.point.variant, s.point.batch_size, s.point.load_kind, s.point.load,
                             s.metric, entry.checkpoint, f"{entry.timestamp:.3f}", f"{entry.value:.6g}",
                             "yes" if entry.checkpoint in starts else "", "yes" if entry.other_testbed else ""])
    return out.getvalue()
