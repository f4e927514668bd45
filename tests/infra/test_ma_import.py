"""Damaged Model Analyzer checkpoints, and runs with no counterpart here, are one clear error naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_model_analyzer.infra.checkpoint import CheckpointError
from pytest_model_analyzer.infra.ma_import import import_checkpoint


@pytest.mark.parametrize(("results", "message"), [
    ([], "`_results` must be a mapping of model to variants, got list"),
    ({"add": []}, "unexpected Model Analyzer checkpoint layout"),
    ({"add": {"add_config_0": [{"_model_run_configs": "x"}, {}]}}, "unexpected Model Analyzer checkpoint layout"),
    ({"add": {"add_config_0": [{}, {"k": {"_model_config_measurements": []}}]}}, "unexpected Model Analyzer"),
])
def test_a_damaged_model_analyzer_checkpoint_is_named(tmp_path: Path, results: object, message: str) -> None:
    path = tmp_path / "0.ckpt"
    path.write_text(json.dumps({"ResultManager.results": {"_results": results}}))
    with pytest.raises(CheckpointError, match=message) as error:
        import_checkpoint(path)
    assert str(path) in str(error.value)


def _run(model: str, variant: str, **extra: object) -> dict:
    config = {"name": model, "maxBatchSize": 8, "backend": "python"}
    return {"_model_name": model, "_perf_config": {"_args": {}},
            "_model_config_variant": {"model_config": config, "variant_name": variant}, **extra}


def _checkpoint(tmp_path: Path, model: str, variant: str, model_runs: list[dict]) -> Path:
    measurements = [{"_model_config_name": run["_model_config_variant"]["variant_name"],
                     "_model_specific_pa_params": {"batch-size": 1, "concurrency-range": 1},
                     "_non_gpu_data": [["perf_throughput", {"_value": 10.0}]]} for run in model_runs]
    rcm = {"_model_variants_name": variant, "_model_config_measurements": measurements}
    path = tmp_path / "0.ckpt"
    path.write_text(json.dumps({"ResultManager.results": {"_results": {model: {variant: [
        {"_model_run_configs": model_runs}, {"key": rcm}]}}}}))
    return path


def test_a_single_model_run_is_imported(tmp_path: Path) -> None:
    [measurement] = import_checkpoint(_checkpoint(tmp_path, "add", "add_config_0", [_run("add", "add_config_0")]))
    assert (measurement.model, measurement.variant, measurement.metrics) == ("add", "add_config_0",
                                                                            {"perf_throughput": 10.0})


def test_a_concurrent_multi_model_run_is_refused_not_imported_as_one_model(tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, "add,sleep", "add_config_0,sleep_config_1",
                       [_run("add", "add_config_0"), _run("sleep", "sleep_config_1")])
    with pytest.raises(CheckpointError, match=r"`add,sleep` / add_config_0,sleep_config_1 is a concurrent "
                                              r"multi-model run \(add, sleep measured together"):
        import_checkpoint(path)


def test_an_ensemble_or_bls_run_is_imported_with_its_composing_configs(tmp_path: Path) -> None:
    """Model Analyzer 1.32+ (`_composing_config_variants`, as in its own ensemble and BLS test checkpoints):
    each composing model's config, named by its model, with its variant name; the point's setup covers them."""
    from pytest_model_analyzer.domain.identity import config_digest

    composing = [{"model_config": {"name": "add", "instanceGroup": [{"count": 2, "kind": "KIND_CPU"}]},
                  "variant_name": "add_config_1"},
                 {"model_config": {"name": "sub", "maxBatchSize": 4}, "variant_name": "sub_config_0"}]
    path = _checkpoint(tmp_path, "pipeline", "pipeline_config_0",
                       [_run("pipeline", "pipeline_config_0", _composing_config_variants=composing)])
    [measurement] = import_checkpoint(path)
    assert measurement.composing == [
        {"model": "add", "variant": "add_config_1",
         "config": {"instance_group": [{"count": 2, "kind": "KIND_CPU"}]}},
        {"model": "sub", "variant": "sub_config_0", "config": {"max_batch_size": 4}}]
    assert measurement.config_digest == config_digest(measurement.config, measurement.composing)
    assert measurement.config_digest != config_digest(measurement.config)


def test_an_ensemble_in_the_layout_before_1_32_is_refused_rather_than_collapsed(tmp_path: Path) -> None:
    old = [{"name": "add_config_1", "backend": "python"}]
    path = _checkpoint(tmp_path, "pipeline", "pipeline_config_0",
                       [_run("pipeline", "pipeline_config_0", _ensemble_composing_configs=old)])
    with pytest.raises(CheckpointError, match=r"`pipeline` / pipeline_config_0 is an ensemble or BLS model in an "
                                              r"older Model Analyzer layout .* 1\.32 or later"):
        import_checkpoint(path)
