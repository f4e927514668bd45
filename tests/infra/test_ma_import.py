"""Damaged Model Analyzer checkpoints are one clear error naming the file, never a crash."""

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
