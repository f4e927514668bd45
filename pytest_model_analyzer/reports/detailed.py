"""A detailed report of one configuration, as Model Analyzer's `report` writes for `report_model_configs`.

One self-contained HTML page per configuration: what it is and what it changes in the repository's config;
per client batch size, the latency breakdown over the load (client send/recv, server queue, compute input,
infer, output, stacked: where the time of a request goes as the load rises), throughput and p99 latency over
the load, an LLM's output token throughput, time to first token and inter-token latency over the load, GPU
memory and utilisation over the load when there are GPU figures; and every measurement in a table with its
constraint verdict. It is built from measurements alone (a checkpoint), with no server.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_model_analyzer.analysis.gates import satisfies, violations
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.identity import arrivals, load_label, load_value
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import METRICS
from pytest_model_analyzer.reports.csv_tables import composed_of, instance_groups, max_batch_sizes
from pytest_model_analyzer.reports.describe import distinguishing_fields
from pytest_model_analyzer.reports.html_report import SCRIPT, STYLE
from pytest_model_analyzer.reports.svg import svg_plot, svg_stacked_bars

# Model Analyzer's latency breakdown, bottom of the bar first.
BREAKDOWN = ("perf_client_send_recv", "perf_server_queue", "perf_server_compute_input", "perf_server_compute_infer",
             "perf_server_compute_output")
# An LLM's token figures over the load (model_type: LLM), which Model Analyzer's reports leave out: the median and
# the p99 of every request's time to first token and inter-token latency.
TOKEN_PLOTS = {"time to first token": ("time_to_first_token_p50", "time_to_first_token_p99"),
               "inter-token latency": ("inter_token_latency_p50", "inter_token_latency_p99")}
LLM_TABLE = ("output_token_throughput", "time_to_first_token_p50", "time_to_first_token_p99",
             "inter_token_latency_p50", "inter_token_latency_p99", "output_sequence_length_avg")
TABLE = ("perf_throughput", *LLM_TABLE, "perf_latency_p50", "perf_latency_p90", "perf_latency_p95",
         "perf_latency_p99", "perf_latency_avg", *BREAKDOWN, "perf_client_response_wait", "cpu_utilization",
         "cpu_used_ram")
GPU = ("gpu_used_memory", "gpu_utilization", "gpu_power_usage")


def report_path(directory: Path, variant: str) -> Path | None:
    """`<directory>/<variant>.html`, or None when the name (say, from a hostile checkpoint) is not one plain
    file name."""
    if Path(variant).name != variant or variant in ("", ".", ".."):
        return None
    return directory / f"{variant}.html"


def _load(m: Measurement) -> str:
    return load_value(m.load_kind, m.load, m.perf_analyzer_flags)


def _label(tag: str) -> str:
    return tag.removeprefix("perf_").replace("_", " ")


def _plots(variant: str, batch: int, rows: Sequence[Measurement], load: str) -> str:
    where = f"{variant} (batch {batch})"
    categories = [_load(m) for m in rows]
    stacks = {_label(tag): [m.metrics.get(tag, 0.0) for m in rows] for tag in BREAKDOWN
              if any(tag in m.metrics for m in rows)}
    plots = [svg_stacked_bars(f"{where}: latency breakdown", load, "ms per request", categories, stacks)]
    plots.append(svg_plot(f"{where}: throughput", load, "throughput (infer/sec)",
                          {"throughput": [(float(m.load), m.metrics.get("perf_throughput", 0.0)) for m in rows]}))
    plots.append(svg_plot(f"{where}: p99 latency", load, "p99 latency (ms)",
                          {"p99": [(float(m.load), m.metrics.get("perf_latency_p99", 0.0)) for m in rows]}))
    if any("output_token_throughput" in m.metrics for m in rows):
        plots.append(svg_plot(f"{where}: output token throughput", load, "output tokens/sec",
                              {"tokens/sec": [(float(m.load), m.metrics["output_token_throughput"]) for m in rows
                                              if "output_token_throughput" in m.metrics]}))
    for title, tags in TOKEN_PLOTS.items():
        token_series = {tag.rsplit("_", 1)[1]: [(float(m.load), m.metrics[tag]) for m in rows if tag in m.metrics]
                        for tag in tags}
        if any(token_series.values()):
            plots.append(svg_plot(f"{where}: {title}", load, f"{title} (ms)", token_series))
    # Every request's latency (domain/latency.py): the share of requests at or under each latency, per load.
    distributions = {f"{load} {_load(m)} ({sketch.count} requests)": [(x, 100.0 * share) for x, share in sketch.cdf()]
                     for m in rows if (sketch := m.latency_sketch) is not None and sketch.count}
    if distributions:
        plots.append(svg_plot(f"{where}: latency of every request", "latency (ms)", "requests at or under it (%)",
                              distributions, css_class="plot cdf"))
    for tag in GPU:
        series: dict[str, list[tuple[float, float]]] = {}
        for m in rows:
            for uuid, figures in m.gpu_metrics.items():
                if tag in figures:
                    series.setdefault(uuid[:12], []).append((float(m.load), figures[tag]))
        if series:
            plots.append(svg_plot(f"{where}: {_label(tag)}", load, f"{_label(tag)} ({METRICS[tag].unit})", series))
    return f'<div class="plots" data-batch="{batch}">{"".join(plots)}</div>'


def _table(rows: Sequence[Measurement], constraints: Mapping[str, Bounds], load: str) -> str:
    tags = [tag for tag in TABLE if any(tag in m.metrics for m in rows)]
    head = "".join(f"<th>{html.escape(METRICS[tag].header)}</th>" for tag in tags)
    body = []
    for m in rows:
        problems = violations(m.metrics, constraints)
        verdict = "pass" if not problems else "FAIL: " + "; ".join(problems)
        cells = "".join(f"<td>{m.metrics[tag]:.4g}</td>" if tag in m.metrics else "<td></td>" for tag in tags)
        body.append(f"<tr><td>{m.batch_size}</td><td>{html.escape(_load(m))}</td>{cells}"
                    f"<td{'' if not problems else ' class=fail'}>{html.escape(verdict)}</td></tr>")
    return (f"<table><tr><th>batch</th><th>{html.escape(load)}</th>{head}<th>constraints</th></tr>"
            f"{''.join(body)}</table>")


def render_detailed(model: str, variant: str, measurements: Sequence[Measurement], base_config: Mapping[str, Any],
                    constraints: Mapping[str, Bounds], source: str) -> str:
    """The page of one configuration; `measurements` are its points (any order), `source` where they came from."""
    rows = sorted(measurements, key=lambda m: (m.batch_size, m.load))
    load = load_label(rows[0].load_kind, arrivals(rows[0].perf_analyzer_flags))
    config = rows[0].config_in_effect
    passing = [m for m in rows if satisfies(m.metrics, constraints)]
    best = max(passing or rows, key=lambda m: m.metrics.get("perf_throughput", 0.0))
    within = "within the constraints" if passing else "(no point meets the constraints)"
    batching = "on" if "dynamic_batching" in config else "off"
    summary = (f"<p>{html.escape(variant)}: {html.escape(instance_groups(rows[0]))} instances, max batch size "
               f"{html.escape(max_batch_sizes(rows[0]))}, dynamic batching {batching}"
               f"{html.escape(composed_of(rows[0]))}; "
               f"changes from the repository's config: "
               f"{html.escape(distinguishing_fields(base_config, rows[0].config))}.</p>"
               f"<p>{len(rows)} measurements, {load} {html.escape(_load(rows[0]))} to "
               f"{html.escape(_load(rows[-1]))}. Best {within}: "
               f"<strong>{best.metrics.get('perf_throughput', 0):.1f} infer/sec</strong>, p99 "
               f"{best.metrics.get('perf_latency_p99', 0):.2f} ms at batch {best.batch_size}, {load} "
               f"{html.escape(_load(best))}.</p>")
    batches = sorted({m.batch_size for m in rows})
    plots = "".join(_plots(variant, batch, [m for m in rows if m.batch_size == batch], load)
                    for batch in batches)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(variant)}: detailed report</title><style>{STYLE}</style><script>{SCRIPT}</script>"
        f'</head><body data-variant="{html.escape(variant)}"><h1>{html.escape(model)} / {html.escape(variant)}</h1>'
        f'<p class="note">From {html.escape(source)}, written {time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}. '
        "The latency breakdown stacks the parts of one request's time (perf_analyzer's client send/recv and the "
        "server's queue and compute times); the rest of the measured latency is the client's own wait.</p>"
        f"{summary}{plots}{_table(rows, constraints, load)}</body></html>\n"
    )
