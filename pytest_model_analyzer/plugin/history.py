"""`--ma-history`: the checkpoints of the profile's directory as trend plots and a CSV, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_model_analyzer.analysis.history import Run, build
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.infra.checkpoint import CheckpointError, read_all
from pytest_model_analyzer.infra.testbed import COMPARED
from pytest_model_analyzer.reports.history_report import render_csv, render_html


def write_history(profile: ProfileConfig) -> list[str]:
    """Writes `<export_path>/reports/history.html` and `history.csv`; returns what to tell the user."""
    directory = Path(profile["checkpoint_directory"])
    try:
        found = read_all(directory)
    except CheckpointError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not found:
        raise pytest.UsageError(f"--ma-history: no checkpoint in {directory} (run the profile first)")
    models = {model.name for model in profile.models}
    runs = [Run(index, [m for m in measurements if m.model in models],
                {key: testbed.get(key, "") for key in COMPARED} if testbed else {})
            for index, measurements, testbed in found]
    series = build(runs)
    reports = Path(profile["export_path"]) / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    page, table = reports / "history.html", reports / "history.csv"
    page.write_text(render_html(series, str(directory), len(found)), encoding="utf-8")
    table.write_text(render_csv(series), encoding="utf-8")
    shifted = [s for s in series if s.shifts]
    lines = [f"history of {len(found)} checkpoints in {directory}: {len(series)} series, {len(shifted)} with a "
             "persistent shift"]
    lines += [f"  {s.point.label}: {s.metric} {s.describe_shifts()}" for s in shifted[:20]]
    if len(shifted) > 20:
        lines.append(f"  ... and {len(shifted) - 20} more (see history.html)")
    lines.append(f"written: {page}, {table}")
    return lines
