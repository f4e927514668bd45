"""The change to a model's config.pbtxt that adopts the best configuration found, as a unified diff.

Written by the config-drift gate (`--ma-fail-if-not-best`) next to the reports, so that the failure comes with
its fix: `git apply` it, or copy the fields by hand.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_model_analyzer.analysis.drift import drift
from pytest_model_analyzer.analysis.ranking import ModelRanking
from pytest_model_analyzer.config.model_config import ModelConfigError, normalise, read_model_config
from pytest_model_analyzer.config.profile import ModelSpec
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra.model_directory import to_pbtxt
from pytest_model_analyzer.reports.layout import OutputLayout


def adoption_diff(repository: Path, model: str, config: Mapping[str, Any]) -> str:
    """`config` (a point's requested config) as the model's config.pbtxt, against the file as it is."""
    path = repository / model / "config.pbtxt"
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    after = to_pbtxt({**config, "name": model})
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{model}/config.pbtxt", tofile=f"b/{model}/config.pbtxt"))


def adoption_diffs(repository: Path, best: Measurement) -> str:
    """The change that adopts the configuration `best` was measured with: its model's config.pbtxt and, for an
    ensemble, a BLS model or models profiled together, each composing model's (only the files that change)."""
    return "".join(adoption_diff(repository, model, config) for _, model, config in best.model_configs()
                   if not _as_shipped(repository, model, config))


def _as_shipped(repository: Path, model: str, config: Mapping[str, Any]) -> bool:
    """Whether `config` is what the repository's config.pbtxt already says (a composing model the best
    configuration keeps as it is): its file is not rewritten in another layout."""
    try:
        return normalise(read_model_config(repository, model)) == normalise(dict(config))
    except ModelConfigError:
        return False


def drift_findings(rankings: Sequence[ModelRanking], models: Mapping[str, ModelSpec], allowed: float,
                   repository: Path | None, layout: OutputLayout) -> list[str]:
    """The config-drift gate (analysis/drift.py) over a finished run: one finding per model whose shipped config
    fails it, each with the config.pbtxt diff that adopts the best config, written to
    `reports/<model>-adopt-<variant>.diff`. No finding: the gate passes."""
    findings = []
    for ranking in rankings:
        model = models[ranking.model]
        default = next((variant.name for variant in model.variants if variant.is_default), None)
        found = drift(ranking, model.objectives, allowed, default)
        if found is None:
            continue
        text = f"config drift: {found.describe(allowed)}"
        if repository is not None:
            path = layout.adoption_diff(ranking.model, found.best.variant)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(adoption_diffs(repository, found.best.representative), encoding="utf-8")
                text += f"; the change that adopts it: {path}"
            except OSError as exc:
                text += f" (the change that adopts it could not be written: {exc})"
        findings.append(text)
    return findings
