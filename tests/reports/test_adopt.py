"""The change that adopts the best configuration: the model's config.pbtxt, and its composing models'."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

from pytest_model_analyzer.config.model_config import read_model_config
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.reports.adopt import adoption_diffs
from tests.support import MODELS


def test_a_combination_changes_each_composing_models_config_and_nothing_unchanged(tmp_path: Path) -> None:
    repository = tmp_path / "models"
    shutil.copytree(MODELS, repository)
    sleep = {**read_model_config(repository, "sleep"), "instance_group": [{"count": 2, "kind": "KIND_CPU"}]}
    add = read_model_config(repository, "add")  # as shipped
    composing = [{"model": "add", "variant": "add_config_default", "config": add},
                 {"model": "sleep", "variant": "sleep_config_1", "config": sleep}]
    ensemble = {**read_model_config(repository, "add_sleep"), "max_batch_size": 4}
    best = Measurement("add_sleep", "add_sleep_config_3", 1, "concurrency", 4, {}, config=ensemble,
                       composing=composing)
    diff = adoption_diffs(repository, best)
    assert "a/add_sleep/config.pbtxt" in diff and "+max_batch_size: 4" in diff
    assert "a/sleep/config.pbtxt" in diff and "count: 2" in diff
    assert "a/add/config.pbtxt" not in diff  # add keeps its shipped config: nothing to change
    together = Measurement("add,sleep", "add_config_default,sleep_config_1", 1, "concurrency", 4, {},
                           composing=composing)
    assert "add,sleep" not in adoption_diffs(repository, together)  # the combination has no config.pbtxt



def test_a_drifted_model_is_one_finding_with_the_diff_that_adopts_its_best_config(tmp_path: Path) -> None:
    """--ma-fail-if-not-best over a finished run, without a server: the finding names the best config and the
    diff written beside the reports; a model within the allowance has none."""
    from pytest_model_analyzer.analysis.ranking import rank
    from pytest_model_analyzer.config.variants import Variant
    from pytest_model_analyzer.reports.adopt import drift_findings
    from pytest_model_analyzer.reports.layout import OutputLayout

    repository = tmp_path / "models"
    shutil.copytree(MODELS, repository)
    two = {**read_model_config(repository, "add"), "instance_group": [{"count": 2, "kind": "KIND_CPU"}]}
    rows = [Measurement("add", "add_config_default", 1, "concurrency", 1, {"perf_throughput": 100.0},
                        config=read_model_config(repository, "add")),
            Measurement("add", "add_config_0", 1, "concurrency", 1, {"perf_throughput": 200.0}, config=two)]
    model = SimpleNamespace(objectives={"perf_throughput": 10},
                            variants=[Variant("add_config_default", {}, default=True), Variant("add_config_0", {})])
    ranking = rank("add", rows, model.objectives, {})
    layout = OutputLayout(tmp_path)
    [finding] = drift_findings([ranking], {"add": model}, 10.0, repository, layout)  # type: ignore[dict-item]
    diff = tmp_path / "reports" / "add-adopt-add_config_0.diff"
    assert finding == (f"config drift: add: the shipped config (add_config_default) is 66.7% worse on the "
                       f"objectives (allowed 10%) than add_config_0; the change that adopts it: {diff}")
    assert "count: 2" in diff.read_text()
    assert drift_findings([ranking], {"add": model}, 80.0, repository, layout) == []  # type: ignore[dict-item]
