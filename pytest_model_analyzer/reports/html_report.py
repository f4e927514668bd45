"""A self-contained HTML summary: per model, the best configuration, two plots and the measurements.

Plots are inline SVG drawn here (no JavaScript library, no network): throughput against p99 latency with
one line per variant, and throughput against concurrency (or request rate). The page opens offline in any
browser; a few lines of script only record load errors in `data-errors` for automated checks.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence

from pytest_model_analyzer.analysis.gates import satisfies
from pytest_model_analyzer.analysis.ranking import ModelRanking
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.identity import load_label
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.reports.columns import Column, summary_columns
from pytest_model_analyzer.reports.csv_tables import instance_group_string

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]
WIDTH, HEIGHT, MARGIN = 560, 320, 56

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
.best{background:#e8f5e9;font-weight:600}.fail{color:#b00020}.note{color:#555}
.plots{display:flex;flex-wrap:wrap;gap:1rem}svg{background:#fff;border:1px solid #eee}
"""

SCRIPT = """
document.documentElement.dataset.errors = "0";
window.addEventListener("error", function () {
  document.documentElement.dataset.errors = String(Number(document.documentElement.dataset.errors) + 1);
});
"""


def _nice_max(value: float) -> float:
    return value * 1.1 if value > 0 else 1.0


def svg_plot(title: str, x_label: str, y_label: str, series: Mapping[str, Sequence[tuple[float, float]]]) -> str:
    """A line plot with markers, one series per name; axes start at zero."""
    points = [point for values in series.values() for point in values]
    x_max = _nice_max(max((x for x, _ in points), default=1.0))
    y_max = _nice_max(max((y for _, y in points), default=1.0))
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def sx(x: float) -> float:
        return MARGIN + inner_w * x / x_max

    def sy(y: float) -> float:
        return HEIGHT - MARGIN - inner_h * y / y_max

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-label="{html.escape(title)}" class="plot">',
             f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-weight="600">{html.escape(title)}</text>',
             f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#333"/>',
             f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#333"/>']
    for step in range(6):
        xv, yv = x_max * step / 5, y_max * step / 5
        parts.append(f'<text x="{sx(xv):.1f}" y="{HEIGHT - MARGIN + 16}" font-size="10" text-anchor="middle">'
                     f"{xv:.3g}</text>")
        parts.append(f'<text x="{MARGIN - 6}" y="{sy(yv) + 3:.1f}" font-size="10" text-anchor="end">{yv:.3g}</text>')
        parts.append(f'<line x1="{MARGIN}" y1="{sy(yv):.1f}" x2="{WIDTH - MARGIN}" y2="{sy(yv):.1f}" stroke="#eee"/>')
    parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT - 12}" text-anchor="middle" font-size="12">'
                 f"{html.escape(x_label)}</text>")
    parts.append(f'<text x="14" y="{HEIGHT / 2}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 14 {HEIGHT / 2})">{html.escape(y_label)}</text>')
    for index, (name, values) in enumerate(series.items()):
        color = COLORS[index % len(COLORS)]
        ordered = sorted(values)
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in ordered)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2" '
                     f'data-series="{html.escape(name)}"/>')
        for x, y in ordered:
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{color}">'
                         f"<title>{html.escape(name)}: {x:.4g}, {y:.4g}</title></circle>")
        legend_y = MARGIN + 14 * index
        parts.append(f'<rect x="{WIDTH - MARGIN - 150}" y="{legend_y - 9}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{WIDTH - MARGIN - 136}" y="{legend_y}" font-size="11">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _model_section(profile: ProfileConfig, ranking: ModelRanking, gpu_count: int, extra: Sequence[Column]) -> str:
    model = profile.model(ranking.model)
    load = load_label(model.load_kind)
    columns = summary_columns(model.load_kind, gpu_count, extra)
    best = ranking.best
    if best is not None:
        rep = best.representative
        verdict = (f"<p>Best configuration: <strong>{html.escape(best.variant)}</strong> "
                   f"({instance_group_string(rep.config_in_effect, gpu_count)}, max batch "
                   f"{rep.config_in_effect.get('max_batch_size', 0)}): "
                   f"{rep.metrics.get('perf_throughput', 0):.1f} infer/sec, p99 "
                   f"{rep.metrics.get('perf_latency_p99', 0):.2f} ms at batch {rep.batch_size}, {load} {rep.load}.</p>")
    else:
        verdict = '<p class="fail">No configuration satisfies the constraints.</p>'
    latency: dict[str, list[tuple[float, float]]] = {}
    by_load: dict[str, list[tuple[float, float]]] = {}
    rows = []
    for variant in ranking.variants:
        for m in variant.measurements:
            name = variant.variant if len(model.batch_sizes) == 1 else f"{variant.variant} b{m.batch_size}"
            throughput = m.metrics.get("perf_throughput", 0.0)
            latency.setdefault(name, []).append((m.metrics.get("perf_latency_p99", 0.0), throughput))
            by_load.setdefault(name, []).append((float(m.load), throughput))
            ok = satisfies(m.metrics, model.constraints)
            css = ' class="best"' if best is not None and m is best.representative else ""
            cells = "".join(f"<td>{html.escape(column.cell(m))}</td>" for column in columns)
            rows.append(f"<tr{css}>{cells}<td{'' if ok else ' class=fail'}>{'pass' if ok else 'FAIL'}</td></tr>")
    return "".join([
        f'<section data-model="{html.escape(ranking.model)}"><h2>{html.escape(ranking.model)}</h2>', verdict,
        '<div class="plots">',
        svg_plot(f"{ranking.model}: throughput vs p99 latency", "p99 latency (ms)", "throughput (infer/sec)", latency),
        svg_plot(f"{ranking.model}: throughput vs {load}", load, "throughput (infer/sec)", by_load),
        "</div><table><tr>", *(f"<th>{html.escape(column.header)}</th>" for column in columns), "<th>gate</th></tr>",
        *rows, "</table></section>",
    ])


def render(profile: ProfileConfig, rankings: Sequence[ModelRanking], measurements: Sequence[Measurement],
           gpu_note: str, gpu_count: int, interrupted: bool, extra: Sequence[Column] = ()) -> str:
    status = " (interrupted run: partial results)" if interrupted else ""
    sections = "".join(_model_section(profile, ranking, gpu_count, extra) for ranking in rankings
                       if ranking.variants)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Model analysis summary</title><style>{STYLE}</style><script>{SCRIPT}</script></head><body>"
        f"<h1>Model analysis summary{status}</h1>"
        f'<p class="note">{len(measurements)} measurements from {html.escape(str(profile.source))}, '
        f"{html.escape(profile['triton_launch_mode'])} server, written "
        f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}. {html.escape(gpu_note)}</p>"
        f"{sections}</body></html>\n"
    )
