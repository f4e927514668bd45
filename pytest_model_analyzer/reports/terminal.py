"""Text tables for the terminal: the per-item headline and the per-model summary. Pure formatting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pytest_model_analyzer.analysis.ranking import ModelRanking
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.identity import PointId, arrivals
from pytest_model_analyzer.domain.outcome import GateOutcome
from pytest_model_analyzer.reports.columns import Column, summary_columns


def headline(metrics: Mapping[str, float]) -> str:
    parts = []
    if "perf_throughput" in metrics:
        parts.append(f"{metrics['perf_throughput']:.1f} infer/s")
    if "perf_latency_p99" in metrics:
        parts.append(f"p99 {metrics['perf_latency_p99']:.2f} ms")
    if "time_to_first_token_p99" in metrics:  # an LLM that streams
        parts.append(f"TTFT p99 {metrics['time_to_first_token_p99']:.2f} ms")
    if "inter_token_latency_p99" in metrics:
        parts.append(f"ITL p99 {metrics['inter_token_latency_p99']:.2f} ms")
    return ", ".join(parts)


def _format_rows(header: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[bool]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [str(cell).ljust(width) if flush_left else str(cell).rjust(width)
                 for cell, width, flush_left in zip(row, widths, left, strict=True)]
        return "  ".join(cells).rstrip()

    return [line(header), *(line(row) for row in rows)]


def summary_lines(profile: ProfileConfig, rankings: Sequence[ModelRanking], outcomes: Mapping[PointId, GateOutcome],
                  extra: Sequence[Column] = ()) -> list[str]:
    """A table per model in the profile's variant order; the best configuration's best point is marked."""
    lines: list[str] = []
    for model, ranking in zip(profile.models, rankings, strict=True):
        rows = [m for variant in ranking.variants for m in variant.measurements]
        if not rows:
            continue
        best = ranking.best.representative if ranking.best else None
        order = {variant.name: index for index, variant in enumerate(model.variants)}
        rows.sort(key=lambda m: (order.get(m.variant, len(order)), m.batch_size, m.load))
        columns = summary_columns(model.load_kind, extra=extra, arrival=arrivals(model.perf_analyzer_flags),
                                  slo=bool(model.slo), llm=model.llm is not None)
        header = [column.header for column in columns] + ["gate", ""]
        table_rows = []
        for m in rows:
            gate = outcomes.get(m.point_id)
            table_rows.append([column.cell(m) for column in columns]
                              + [gate.word if gate else "-", "<- best" if m is best else ""])
        left = [not column.numeric for column in columns] + [False, False]
        lines.append(f"{model.name}:")
        lines.extend("  " + line for line in _format_rows(header, table_rows, left))
    return lines
