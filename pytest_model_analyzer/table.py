"""Text tables for the terminal: the per-item headline and the per-model summary. Pure formatting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.ranking import ModelRanking
from pytest_model_analyzer.reports.csv_tables import instance_group_string


def headline(metrics: Mapping[str, float]) -> str:
    parts = []
    if "perf_throughput" in metrics:
        parts.append(f"{metrics['perf_throughput']:.1f} infer/s")
    if "perf_latency_p99" in metrics:
        parts.append(f"p99 {metrics['perf_latency_p99']:.2f} ms")
    return ", ".join(parts)


def _format_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    def line(row: Sequence[str]) -> str:
        cells = [str(cell).ljust(width) if i < 2 else str(cell).rjust(width)
                 for i, (cell, width) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(cells).rstrip()
    return [line(header), *(line(row) for row in rows)]


def summary_lines(profile: ProfileConfig, rankings: Sequence[ModelRanking], outcomes: Mapping[str, str]) -> list[str]:
    """A table per model in the profile's variant order; the best configuration's best point is marked."""
    lines: list[str] = []
    for model, ranking in zip(profile.models, rankings, strict=True):
        rows = [m for variant in ranking.variants for m in variant.measurements]
        if not rows:
            continue
        best = ranking.best.representative if ranking.best else None
        order = {variant.name: index for index, variant in enumerate(model.variants)}
        rows.sort(key=lambda m: (order.get(m.variant, len(order)), m.batch_size, m.load))
        load = "request rate" if model.load_kind == "request_rate" else "concurrency"
        header = ["variant", "instances", "max batch", "batch", load, "infer/s", "p99 ms", "gate", ""]
        table_rows = []
        for m in rows:
            config = m.effective_config or m.config
            gate = outcomes.get(m.key(), "")
            table_rows.append([
                m.variant, instance_group_string(config), str(config.get("max_batch_size", "-")),
                str(m.batch_size), str(m.load), f"{m.metrics.get('perf_throughput', 0.0):.1f}",
                f"{m.metrics.get('perf_latency_p99', 0.0):.2f}",
                {"passed": "pass", "failed": "FAIL"}.get(gate, gate or "-"), "<- best" if m is best else "",
            ])
        lines.append(f"{model.name}:")
        lines.extend("  " + line for line in _format_rows(header, table_rows))
    return lines
