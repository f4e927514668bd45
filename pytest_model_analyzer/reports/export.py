"""Writes the end-of-run files under `export_path` and `output_model_repository_path`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_model_analyzer.analysis.ranking import ModelRanking, VariantResult, rank
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra import model_directory
from pytest_model_analyzer.reports import csv_tables, html_report
from pytest_model_analyzer.reports.columns import Column
from pytest_model_analyzer.reports.detailed import render_detailed, report_path
from pytest_model_analyzer.reports.layout import OutputLayout


@dataclass
class ExportResult:
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the writing went
    findings: list[str] = field(default_factory=list)  # what the results say (the best configs across models)


def rankings(profile: ProfileConfig, measurements: Sequence[Measurement]) -> list[ModelRanking]:
    return [rank(model.name, measurements, model.objectives, model.constraints) for model in profile.models]


def _write(path: Path, text: str, result: ExportResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    result.written.append(path)


def export(profile: ProfileConfig, ranked: Sequence[ModelRanking], measurements: Sequence[Measurement],
           server_only: Mapping[str, Mapping[str, float]], gpu_count: int, gpu_note: str,
           interrupted: bool, extra: Sequence[Column] = (), covered: str = "") -> ExportResult:
    """The CSV tables, the HTML summary and the best configs, from the run's rankings (`rankings()`)."""
    result = ExportResult()
    constraints = {model.name: model.constraints for model in profile.models}
    rows = csv_tables.ordered_rows(ranked, constraints)
    layout = OutputLayout.of(profile)
    results_dir = layout.results
    tables = [
        (profile.run.filename_model_inference, csv_tables.inference_table(profile, rows, gpu_count, result.notes)),
        (profile.run.filename_model_gpu, csv_tables.gpu_table(profile, rows, gpu_count, result.notes)),
        (profile.run.filename_server_only, csv_tables.server_table(profile, server_only, result.notes)),
    ]
    for name, text in tables:
        if text is not None:
            _write(results_dir / name, text, result)
    page = html_report.render(profile, ranked, measurements, gpu_note, gpu_count, interrupted, extra, covered)
    _write(layout.summary, page, result)
    for ranking in ranked:
        _write_detailed(profile, ranking, result)
    written: set[str] = set()
    for ranking in ranked:
        if ranking.best is not None:
            _write_config(profile, ranking.best, f"best config of {ranking.model}", written, result)
    if profile.run.num_top_model_configs > 0:
        _write_top_configs(profile, measurements, written, result)
    return result


def _write_detailed(profile: ProfileConfig, ranking: ModelRanking, result: ExportResult) -> None:
    """Model Analyzer's profile ends with the detailed reports of each model's `num_configs_per_model` best
    configurations (reports/detailed.py), or, with skip_detailed_reports, with the command that writes them."""
    top = list(ranking.variants[:profile.run.num_configs_per_model])
    if not top or profile.model(ranking.model).members:
        return  # Model Analyzer writes no detailed report of models profiled together either
    if profile.run.skip_detailed_reports:
        names = ",".join(variant.variant for variant in top)
        result.notes.append(f"detailed reports of the {len(top)} best {ranking.model} configurations: "
                            f"pytest --ma-config {profile.source} --ma-report={names}")
        return
    model = profile.model(ranking.model)
    for variant in top:
        path = report_path(OutputLayout.of(profile).detailed, variant.variant)
        if path is not None:
            _write(path, render_detailed(ranking.model, variant.variant, variant.measurements, model.base_config,
                                         model.constraints, "this run"), result)


def _write_config(profile: ProfileConfig, variant: VariantResult, what: str, written: set[str],
                  result: ExportResult) -> None:
    """`<output_model_repository_path>/<variant>/config.pbtxt`, once per variant; an ensemble's or BLS model's
    composing models' variants beside it (`add_config_3`), as Model Analyzer writes them."""
    repo = profile.run.model_repository
    for directory, model, config in variant.representative.model_configs():
        if directory in written:
            continue
        try:
            target = model_directory.write_model(profile.run.output_model_repository_path, directory, config,
                                                 repo / model if repo else None,
                                                 profile.run.override_output_model_repository)
        except (OSError, ValueError) as exc:
            result.notes.append(f"{what} not written: {exc}")
            return
        written.add(directory)
        result.written.append(target / "config.pbtxt")


def _write_top_configs(profile: ProfileConfig, measurements: Sequence[Measurement], written: set[str],
                       result: ExportResult) -> None:
    """num_top_model_configs: the N best configs across all models, ranked by the global objectives within the
    global constraints (Model Analyzer's top-models report), written beside each model's best."""
    count = profile.run.num_top_model_configs
    across = rank(None, measurements, profile.objectives, profile.constraints)
    top = [variant for variant in across.variants[:count] if variant.passes]
    if not top:
        result.findings.append("num_top_model_configs: no config of any model satisfies the global constraints")
        return
    for variant in top:
        _write_config(profile, variant, f"top config {variant.variant}", written, result)
    short = f" (only {len(top)} satisfy the global constraints)" if len(top) < count else ""
    result.findings.append(f"top {count} configurations across models{short}: "
                        + ", ".join(variant.variant for variant in top))
