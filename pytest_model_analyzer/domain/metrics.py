"""The metrics a measurement can hold, with Model Analyzer's tags, units and which direction is better."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pytest_model_analyzer.domain.latency import INTER_TOKEN_LATENCY, TIME_TO_FIRST_TOKEN


class Combine(enum.Enum):
    """How the figures of models measured together make the combination's own figure (Model Analyzer's run
    config of several models): a rate adds up, a latency is the worst model's, a share the smallest."""

    SUM = "sum"
    MAX = "max"
    MIN = "min"


@dataclass(frozen=True)
class Metric:
    tag: str
    unit: str
    higher_is_better: bool
    header: str  # column title Model Analyzer 1.58 uses in its tables (record types' header())
    combine: Combine | None = None  # a client figure of the combination; None: only each model's own
    source: str = ""  # where the figure comes from, for docs/reference/metrics.md
    # A percentile of a per-request figure (0.99 for a p99): a comparison needs enough requests in its tail
    # (analysis/statistics.py, `required_requests`). None for any other figure.
    quantile: float | None = None
    # A figure of the server or the machine as a whole (the resource monitor's), not of one model's requests:
    # models measured at the same time (an A/B duet) all carry the same one.
    machine_wide: bool = False


def _quantile(statistic: str) -> float | None:
    """`p99` -> 0.99; None for `avg`, `min`, `max`."""
    return int(statistic[1:]) / 100 if statistic.startswith("p") else None


# The statistics of a per-request figure that Model Analyzer reports for an LLM (genai-perf's columns), each a
# metric `<figure>_<suffix>`: over every request of the stable windows (analysis/tokens.py).
TOKEN_STATISTICS = ("avg", "min", "max", "p25", "p50", "p75", "p90", "p95", "p99")
_TOKEN_FIGURE_HEADERS = {TIME_TO_FIRST_TOKEN: "Time To First Token", INTER_TOKEN_LATENCY: "Inter Token Latency"}


def _statistic_header(statistic: str) -> str:
    return statistic.capitalize() if statistic in ("avg", "min", "max") else statistic


_CSV = "perf_analyzer's CSV"
_EXPORT = "every request of the stable windows (perf_analyzer's profile export)"
_NVML = "NVML on this machine; a remote server's "
_NOT_MEASURED = "not measured here (Model Analyzer's tag, accepted in constraints and objectives)"

_METRICS = [
    Metric("perf_throughput", "infer/sec", True, "Throughput (infer/sec)", Combine.SUM,
           f"{_CSV}, `Inferences/Second`"),
    *(Metric(f"perf_latency_{statistic}", "ms", False, f"{_statistic_header(statistic)} Latency (ms)", Combine.MAX,
             f"{_CSV}, `{_statistic_header(statistic)} latency` (us / 1000)", quantile=_quantile(statistic))
      for statistic in ("avg", "p50", "p90", "p95", "p99")),
    Metric("perf_latency", "ms", False, "p99 Latency (ms)",
           source="Model Analyzer's deprecated name of perf_latency_p99", quantile=0.99),
    Metric("perf_client_send_recv", "ms", False, "Client Send/Recv (ms)", Combine.MAX,
           f"{_CSV}, `request/response` or `send/recv`"),
    Metric("perf_client_response_wait", "ms", False, "Response Wait Time (ms)", Combine.MAX,
           f"{_CSV}, `response wait`"),
    Metric("perf_server_queue", "ms", False, "Server Queue time (ms)", Combine.MAX, f"{_CSV}, `Server Queue`"),
    Metric("perf_server_compute_input", "ms", False, "Server Compute Input time (ms)", Combine.MAX,
           f"{_CSV}, `Server Compute Input`"),
    Metric("perf_server_compute_infer", "ms", False, "Server Compute Infer time (ms)", Combine.MAX,
           f"{_CSV}, `Server Compute Infer`"),
    Metric("perf_server_compute_output", "ms", False, "Server Compute Output time (ms)", Combine.MAX,
           f"{_CSV}, `Server Compute Output`"),
    # Against the profile's `slo` (analysis/slo.py), from every request of the stable windows (not in Model
    # Analyzer): requests per second that met every bound (DistServe's goodput), and their share.
    Metric("perf_goodput", "req/sec", True, "Goodput (req/sec)", Combine.SUM,
           f"{_EXPORT}: the requests that met every bound of `slo`, a second (not in Model Analyzer)"),
    Metric("perf_slo_attainment", "", True, "SLO Attainment", Combine.MIN,  # a share of requests, 0 to 1
           f"{_EXPORT}: the share (0 to 1) that met every bound of `slo` (not in Model Analyzer)"),
    # An LLM's (model_type: LLM), from every request's response timestamps (Model Analyzer's names and units).
    *(Metric(f"{figure}_{statistic}", "ms", False, f"{_statistic_header(statistic)} {header} (ms)", Combine.MAX,
             f"{_EXPORT}: each request's responses, genai-perf's definition (LLM models)",
             quantile=_quantile(statistic))
      for figure, header in _TOKEN_FIGURE_HEADERS.items() for statistic in TOKEN_STATISTICS),
    Metric("output_token_throughput", "tokens/sec", True, "Output Token Throughput (tokens/sec)", Combine.SUM,
           f"{_EXPORT}: their output tokens over the windows' span (LLM models)"),
    # Tokens per request (AIPerf's input and output sequence lengths), not in Model Analyzer: what the token
    # figures rest on. Neither better higher nor lower for the model; the request decides them.
    Metric("input_sequence_length_avg", "tokens", True, "Avg Input Sequence Length (tokens)",
           source=f"{_EXPORT}: each prompt's tokens (LLM models; AIPerf's figure)"),
    Metric("output_sequence_length_avg", "tokens", True, "Avg Output Sequence Length (tokens)",
           source=f"{_EXPORT}: each answer's tokens (LLM models; AIPerf's figure)"),
    Metric("gpu_utilization", "%", True, "GPU Utilization (%)",
           source=f"{_NVML}`nv_gpu_utilization`; average over the measurement", machine_wide=True),
    Metric("gpu_power_usage", "W", False, "GPU Power Usage (W)",
           source=f"{_NVML}`nv_gpu_power_usage`; average over the measurement", machine_wide=True),
    Metric("gpu_used_memory", "MB", False, "GPU Memory Usage (MB)",
           source=f"{_NVML}`nv_gpu_memory_used_bytes`; the most over the measurement", machine_wide=True),
    Metric("gpu_free_memory", "MB", True, "GPU Memory Available (MB)", source=_NOT_MEASURED, machine_wide=True),
    Metric("gpu_total_memory", "MB", True, "GPU Total Memory (MB)",
           source=f"{_NVML}`nv_gpu_memory_total_bytes`", machine_wide=True),
    Metric("cpu_used_ram", "MB", False, "RAM Usage (MB)",
           source="the server process tree's resident memory, with collect_cpu_metrics; the most",
           machine_wide=True),
    Metric("cpu_available_ram", "MB", True, "RAM Available (MB)", source=_NOT_MEASURED, machine_wide=True),
    # From the server's metrics endpoint on machines without a GPU (not in Model Analyzer).
    Metric("cpu_utilization", "%", True, "CPU Utilization (%)",
           source="the server's `nv_cpu_utilization`; average (not in Model Analyzer)", machine_wide=True),
    Metric("cpu_memory_used", "MB", False, "System Memory Used (MB)",
           source="the server's `nv_cpu_memory_used_bytes`, the whole machine; the most (not in Model Analyzer)",
           machine_wide=True),
]

METRICS: dict[str, Metric] = {metric.tag: metric for metric in _METRICS}


def metric_of(tag: str) -> Metric | None:
    """The metric a tag names. `<model>/<tag>`, one model's figure in a concurrent run, means what `<tag>` means."""
    return METRICS.get(tag) or METRICS.get(tag.rpartition("/")[2])


def member_tag(model: str, tag: str) -> str:
    """`add/perf_throughput`: the figure of one model among those measured together."""
    return f"{model}/{tag}"


def combined_metrics(per_model: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The figures of models measured together: each model's, tagged `add/perf_throughput`, and the
    combination's own client figures: throughput and goodput summed, each latency the largest of the models',
    the SLO attainment the smallest."""
    result = {member_tag(model, tag): value for model, metrics in per_model.items() for tag, value in metrics.items()}
    common = set.intersection(*(set(metrics) for metrics in per_model.values())) if per_model else set()
    for tag in sorted(common):
        rule = METRICS[tag].combine if tag in METRICS else None
        if rule is not None:
            result[tag] = _COMBINE[rule]([metrics[tag] for metrics in per_model.values()])
    return result


_COMBINE: dict[Combine, Callable[[list[float]], float]] = {Combine.SUM: sum, Combine.MAX: max, Combine.MIN: min}


def resolve_alias(tag: str) -> str:
    """`perf_latency` is Model Analyzer's deprecated name for the p99 latency."""
    return "perf_latency_p99" if tag == "perf_latency" else tag
