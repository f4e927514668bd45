"""The columns of the summary tables, shared by the terminal summary and the HTML report.

Each column turns a measurement into the text of its cell. Users add columns of their own through the
`pytest_ma_report_columns` hook (plugin/hookspec.py); they appear in both tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pytest_model_analyzer.domain.identity import REQUEST_INTERVALS, load_label, load_value
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import member_tag
from pytest_model_analyzer.reports.csv_tables import instance_groups, max_batch_sizes


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[Measurement], str]
    numeric: bool = True  # right-aligned in the terminal


def per_model(m: Measurement, tag: str, form: str) -> str:
    """A figure of the measurement; of models profiled together each model's, in order (`2380.1, 25.2`), as
    Model Analyzer's summary lists them."""
    tags = [member_tag(composing["model"], tag) for composing in m.composing]
    if tags and all(name in m.metrics for name in tags):
        return ", ".join(form.format(m.metrics[name]) for name in tags)
    return form.format(m.metrics.get(tag, 0.0))


def summary_columns(load_kind: str, gpu_count: int = 0, extra: Sequence[Column] = (),
                    arrival: str = "", slo: bool = False, llm: bool = False) -> list[Column]:
    """variant, instances, max batch, batch, load (with its arrivals when random), infer/s, p99 ms, an LLM's
    output tokens a second and p99 time to first token and inter-token latency, goodput when there is an SLO,
    then the users' columns."""
    return [
        Column("variant", lambda m: m.variant, numeric=False),
        Column("instances", lambda m: instance_groups(m, gpu_count), numeric=False),
        Column("max batch", max_batch_sizes),
        Column("batch", lambda m: str(m.batch_size)),
        Column(load_label(load_kind, arrival),
               lambda m: load_value(m.load_kind, m.load, m.perf_analyzer_flags),
               numeric=load_kind != REQUEST_INTERVALS),
        Column("infer/s", lambda m: per_model(m, "perf_throughput", "{:.1f}")),
        Column("p99 ms", lambda m: per_model(m, "perf_latency_p99", "{:.2f}")),
        *([Column("tokens/s", lambda m: per_model(m, "output_token_throughput", "{:.1f}")),
           Column("TTFT p99 ms", lambda m: per_model(m, "time_to_first_token_p99", "{:.2f}")),
           Column("ITL p99 ms", lambda m: per_model(m, "inter_token_latency_p99", "{:.2f}"))] if llm else []),
        *([Column("goodput/s", lambda m: per_model(m, "perf_goodput", "{:.1f}")),
           Column("SLO met", lambda m: per_model(m, "perf_slo_attainment", "{:.1%}"))] if slo else []),
        *extra,
    ]
