"""The offline commands: `--ma-history` (the checkpoints of the profile's directory as trend plots and a CSV) and
`--ma-report` (detailed reports of chosen configurations from the latest checkpoint), both without a server."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_model_analyzer.analysis.history import Run, build
from pytest_model_analyzer.config.names import suggest
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.infra.checkpoint import CheckpointError, CheckpointStore
from pytest_model_analyzer.infra.testbed import COMPARED
from pytest_model_analyzer.reports.detailed import render_detailed, report_path
from pytest_model_analyzer.reports.history_report import render_csv, render_html
from pytest_model_analyzer.reports.layout import OutputLayout


def write_history(profile: ProfileConfig) -> list[str]:
    """Writes `<export_path>/reports/history.html` and `history.csv`; returns what to tell the user."""
    directory = profile.run.checkpoint_directory
    try:
        found = CheckpointStore(directory, fresh=True).every()
    except CheckpointError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not found:
        raise pytest.UsageError(f"--ma-history: no checkpoint in {directory} (run the profile first)")
    models = {model.name for model in profile.models}
    runs = [Run(index, [m for m in measurements if m.model in models],
                {key: testbed.get(key, "") for key in COMPARED} if testbed else {})
            for index, measurements, testbed in found]
    series = build(runs)
    page, table = OutputLayout.of(profile).history
    page.parent.mkdir(parents=True, exist_ok=True)
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


def chosen_configs(option: str, profile: ProfileConfig) -> list[str]:
    """The names given on the command line, else the YAML's `report_model_configs` (Model Analyzer's report key:
    a list of names, or of mappings whose key is the name)."""
    if option:
        names = [name.strip() for name in option.split(",") if name.strip()]
    else:
        names = [_config_name(item) for item in profile.run.report_model_configs or []]
    if not names:
        raise pytest.UsageError("--ma-report: name the configurations, e.g. --ma-report=add_config_1,"
                                "add_config_default (or list them under report_model_configs in the profile)")
    return list(dict.fromkeys(names))


def _config_name(item: Any) -> str:
    if isinstance(item, dict) and len(item) == 1:
        item = next(iter(item))
    if not isinstance(item, str) or not item:
        raise pytest.UsageError(f"report_model_configs: expected configuration names, got {item!r:.60}")
    return item


def write_detailed_reports(profile: ProfileConfig, names: list[str]) -> list[str]:
    """Writes `<export_path>/reports/detailed/<config>.html` per name; returns what to tell the user."""
    directory = profile.run.checkpoint_directory
    try:
        store = CheckpointStore(directory)  # reads the latest checkpoint; writes nothing
    except CheckpointError as exc:
        raise pytest.UsageError(str(exc)) from None
    path = store.loaded_from
    if path is None or not store.loaded:
        raise pytest.UsageError(f"--ma-report: no checkpoint with measurements in {directory} (run the profile first)")
    by_variant: dict[str, list[Any]] = {}
    for m in store.loaded.values():
        by_variant.setdefault(m.variant, []).append(m)
    target = OutputLayout.of(profile).detailed
    pages = {}
    for name in names:
        if name not in by_variant:
            raise pytest.UsageError(f"--ma-report: {path.name} has no measurement of `{name}`"
                                    f"{suggest(name, by_variant)}; it holds {len(by_variant)} configurations")
        pages[name] = report_path(target, name)
        if pages[name] is None:
            raise pytest.UsageError(f"--ma-report: `{name}` cannot name a report file")
    target.mkdir(parents=True, exist_ok=True)
    models = {model.name: model for model in profile.models}
    lines = []
    for name, page in pages.items():
        rows = by_variant[name]
        model = models.get(rows[0].model)
        assert page is not None
        page.write_text(render_detailed(rows[0].model, name, rows, model.base_config if model else {},
                                        model.constraints if model else {}, str(path)), encoding="utf-8")
        lines.append(f"detailed report of {name} ({len(rows)} measurements from {path.name}): {page}")
    return lines
