"""A self-contained HTML summary: per model, the best configuration, two plots and the measurements.

Plots are inline SVG (reports/svg.py; no JavaScript library, no network): throughput against p99 latency with
one line per variant and the Pareto front ringed, and throughput against concurrency (or request rate). The
table says what each variant changes in the repository's config, and the page says which points it covers.
The page opens offline in any browser; a few lines of script only record load errors in `data-errors` for
automated checks.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Sequence

from pytest_model_analyzer.analysis.gates import satisfies
from pytest_model_analyzer.analysis.ranking import ModelRanking
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.identity import arrivals, load_label, load_value
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.reports.columns import Column, summary_columns
from pytest_model_analyzer.reports.csv_tables import composed_of, instance_groups, max_batch_sizes
from pytest_model_analyzer.reports.describe import distinguishing_fields
from pytest_model_analyzer.reports.svg import svg_plot

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
.best{background:#e8f5e9;font-weight:600}.fail{color:#b00020}.note{color:#555}td.changes{text-align:left}
.plots{display:flex;flex-wrap:wrap;gap:1rem}svg{background:#fff;border:1px solid #eee}
"""

BASELINE_SUFFIX = " (baseline)"  # an A/B run's baseline curve of a variant, beside the candidate's

SCRIPT = """
document.documentElement.dataset.errors = "0";
window.addEventListener("error", function () {
  document.documentElement.dataset.errors = String(Number(document.documentElement.dataset.errors) + 1);
});
"""


def pareto_front(points: Sequence[Measurement]) -> list[Measurement]:
    """The measurements no other beats on both throughput (higher) and p99 latency (lower)."""
    def beats(a: Measurement, b: Measurement) -> bool:
        ta, tb = a.metrics.get("perf_throughput", 0.0), b.metrics.get("perf_throughput", 0.0)
        la, lb = a.metrics.get("perf_latency_p99", math.inf), b.metrics.get("perf_latency_p99", math.inf)
        return ta >= tb and la <= lb and (ta > tb or la < lb)

    return [m for m in points if not any(beats(other, m) for other in points if other is not m)]


def _model_section(profile: ProfileConfig, ranking: ModelRanking, gpu_count: int, extra: Sequence[Column]) -> str:
    model = profile.model(ranking.model)
    load = load_label(model.load_kind, arrivals(model.perf_analyzer_flags))
    columns = summary_columns(model.load_kind, gpu_count, extra, arrivals(model.perf_analyzer_flags), bool(model.slo),
                              model.llm is not None)
    best = ranking.best
    if best is not None:
        rep = best.representative
        verdict = (f"<p>Best configuration: <strong>{html.escape(best.variant)}</strong> "
                   f"({instance_groups(rep, gpu_count)}, max batch {max_batch_sizes(rep)}"
                   f"{html.escape(composed_of(rep))}): "
                   f"{rep.metrics.get('perf_throughput', 0):.1f} infer/sec, p99 "
                   f"{rep.metrics.get('perf_latency_p99', 0):.2f} ms at batch {rep.batch_size}, {load} "
                   f"{html.escape(load_value(rep.load_kind, rep.load, rep.perf_analyzer_flags))}.</p>")
    else:
        verdict = '<p class="fail">No configuration satisfies the constraints.</p>'
    latency: dict[str, list[tuple[float, float]]] = {}
    by_load: dict[str, list[tuple[float, float]]] = {}
    front_rings: dict[str, list[tuple[float, float]]] = {}
    front = {id(m) for m in pareto_front([m for variant in ranking.variants for m in variant.measurements])}
    rows = []
    # An A/B run (analysis/ab.py) measured the baseline version beside each point: its curves are drawn dashed
    # beside the candidate's, and the table gives its figures and the change.
    paired = any(m.pair is not None for variant in ranking.variants for m in variant.measurements)
    for variant in ranking.variants:
        changes = distinguishing_fields(model.base_config, variant.representative.config)
        for m in variant.measurements:
            name = variant.variant if len(model.batch_sizes) == 1 else f"{variant.variant} b{m.batch_size}"
            throughput = m.metrics.get("perf_throughput", 0.0)
            latency.setdefault(name, []).append((m.metrics.get("perf_latency_p99", 0.0), throughput))
            by_load.setdefault(name, []).append((float(m.load), throughput))
            if id(m) in front:
                front_rings.setdefault(name, []).append((m.metrics.get("perf_latency_p99", 0.0), throughput))
            baseline = m.baseline_side
            if baseline is not None:
                before = baseline.metrics.get("perf_throughput", 0.0)
                latency.setdefault(f"{name}{BASELINE_SUFFIX}", []).append(
                    (baseline.metrics.get("perf_latency_p99", 0.0), before))
                by_load.setdefault(f"{name}{BASELINE_SUFFIX}", []).append((float(m.load), before))
            ok = satisfies(m.metrics, model.constraints)
            css = ' class="best"' if best is not None and m is best.representative else ""
            cells = "".join(f"<td>{html.escape(column.cell(m))}</td>" for column in columns)
            if paired:
                cells += _baseline_cells(m, baseline)
            rows.append(f"<tr{css}>{cells}<td class=\"changes\">{html.escape(changes)}</td>"
                        f"<td>{'yes' if id(m) in front else ''}</td>"
                        f"<td{'' if ok else ' class=fail'}>{'pass' if ok else 'FAIL'}</td></tr>")
    dashed = {name for name in latency if name.endswith(BASELINE_SUFFIX)}
    baseline_headers = ("<th>baseline throughput (infer/sec)</th><th>baseline p99 latency (ms)</th>"
                        "<th>throughput change</th>") if paired else ""
    baseline_note = (f"Dashed, named &quot;{html.escape(BASELINE_SUFFIX.strip())}&quot;: the baseline version, "
                     "measured beside each point in this run. ") if paired else ""
    return "".join([
        f'<section data-model="{html.escape(ranking.model)}"><h2>{html.escape(ranking.model)}</h2>', verdict,
        '<div class="plots">',
        svg_plot(f"{ranking.model}: throughput vs p99 latency", "p99 latency (ms)", "throughput (infer/sec)", latency,
                 highlighted=front_rings, dashed=dashed),
        svg_plot(f"{ranking.model}: throughput vs {load}", load, "throughput (infer/sec)", by_load, dashed=dashed),
        f'</div><p class="note">{baseline_note}Ringed: the Pareto front of throughput against p99 latency (no '
        "other point has both more throughput and less latency).</p><table><tr>",
        *(f"<th>{html.escape(column.header)}</th>" for column in columns), baseline_headers,
        "<th>changes from the repository's config</th><th>Pareto front</th><th>gate</th></tr>",
        *rows, "</table></section>",
    ])


def _baseline_cells(m: Measurement, baseline: Measurement | None) -> str:
    """The baseline side of an A/B point: its throughput and p99, and the candidate's throughput change."""
    if baseline is None:
        return "<td></td><td></td><td>new</td>"
    before, after = baseline.metrics.get("perf_throughput", 0.0), m.metrics.get("perf_throughput", 0.0)
    change = f"{100 * (after / before - 1):+.1f}%" if before > 0 else ""
    return (f"<td>{before:.1f}</td><td>{baseline.metrics.get('perf_latency_p99', 0.0):.2f}</td>"
            f"<td>{change}</td>")


def render(profile: ProfileConfig, rankings: Sequence[ModelRanking], measurements: Sequence[Measurement],
           gpu_note: str, gpu_count: int, interrupted: bool, extra: Sequence[Column] = (),
           covered: str = "") -> str:
    """`covered`: which points the run covered, in words (a `-k` run's report shows only what it selected)."""
    status = " (interrupted run: partial results)" if interrupted else ""
    sections = "".join(_model_section(profile, ranking, gpu_count, extra) for ranking in rankings
                       if ranking.variants)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Model analysis summary</title><style>{STYLE}</style><script>{SCRIPT}</script></head><body>"
        f"<h1>Model analysis summary{status}</h1>"
        f'<p class="note covered">Covers {html.escape(covered or "the points this run measured")}.</p>'
        f'<p class="note">{len(measurements)} measurements from {html.escape(str(profile.source))}, '
        f"{html.escape(profile.run.triton_launch_mode)} server, written "
        f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}. {html.escape(gpu_note)}</p>"
        f"{sections}</body></html>\n"
    )
