"""The change that adopts the best configuration: the model's config.pbtxt, and its composing models'."""

from __future__ import annotations

import shutil
from pathlib import Path

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

