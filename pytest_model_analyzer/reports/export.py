"""Writes the end-of-run files under `export_path` and `output_model_repository_path`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_model_analyzer.analysis.ranking import ModelRanking, rank
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.reports import csv_tables, html_report, output_repository
from pytest_model_analyzer.reports.columns import Column


@dataclass
class ExportResult:
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rankings(profile: ProfileConfig, measurements: Sequence[Measurement]) -> list[ModelRanking]:
    return [rank(model.name, measurements, model.objectives, model.constraints) for model in profile.models]


def _write(path: Path, text: str, result: ExportResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    result.written.append(path)


def export(profile: ProfileConfig, ranked: Sequence[ModelRanking], measurements: Sequence[Measurement],
           server_only: Mapping[str, Mapping[str, float]], gpu_count: int, gpu_note: str,
           interrupted: bool, extra: Sequence[Column] = ()) -> ExportResult:
    """The CSV tables, the HTML summary and the best configs, from the run's rankings (`rankings()`)."""
    result = ExportResult()
    constraints = {model.name: model.constraints for model in profile.models}
    rows = csv_tables.ordered_rows(ranked, constraints)
    results_dir = Path(profile["export_path"]) / "results"
    tables = [
        (profile["filename_model_inference"], csv_tables.inference_table(profile, rows, gpu_count, result.notes)),
        (profile["filename_model_gpu"], csv_tables.gpu_table(profile, rows, gpu_count, result.notes)),
        (profile["filename_server_only"], csv_tables.server_table(profile, server_only, result.notes)),
    ]
    for name, text in tables:
        if text is not None:
            _write(results_dir / name, text, result)
    page = html_report.render(profile, ranked, measurements, gpu_note, gpu_count, interrupted, extra)
    _write(Path(profile["export_path"]) / "reports" / "summary.html", page, result)
    output = Path(profile["output_model_repository_path"])
    repo = profile["model_repository"]
    for ranking in ranked:
        best = ranking.best
        if best is None:
            continue
        source = Path(repo) / ranking.model if repo else None
        try:
            target = output_repository.write_model(output, best.variant, best.representative.config, source,
                                                   profile["override_output_model_repository"])
        except (OSError, ValueError) as exc:
            result.notes.append(f"best config of {ranking.model} not written: {exc}")
            continue
        result.written.append(target / "config.pbtxt")
    return result
