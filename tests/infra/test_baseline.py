"""Staging an A/B run's baseline (infra/baseline.py): served names, an ensemble's steps, keys, git revisions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_model_analyzer.config.model_config import read_model_config
from pytest_model_analyzer.infra.baseline import BaselineError, open_pairing
from tests.support import MODELS

ENSEMBLE = [("add_sleep", ["add", "sleep", "add_sleep"])]


def copy(root: Path, *models: str) -> Path:
    for model in models:
        shutil.copytree(MODELS / model, root / model)
    return root


def test_an_ensembles_baseline_calls_the_baselines_composing_models(tmp_path: Path) -> None:
    candidate = copy(tmp_path / "candidate", "add", "sleep", "add_sleep")
    baseline = copy(tmp_path / "baseline", "add", "sleep", "add_sleep")
    pairing = open_pairing(repository=str(baseline), rev=None, candidate=candidate, models=ENSEMBLE)
    try:
        assert pairing.served_as == {"add": "add__baseline", "sleep": "sleep__baseline",
                                     "add_sleep": "add_sleep__baseline"}
        staged = read_model_config(pairing.repository, "add_sleep__baseline")
        assert staged["name"] == "add_sleep__baseline"
        assert [step["model_name"] for step in staged["ensemble_scheduling"]["step"]] == ["add__baseline",
                                                                                           "sleep__baseline"]
        # The baseline's own config, as read, keeps its names (the requested config of the baseline side).
        assert [s["model_name"] for s in pairing.base_configs["add_sleep"]["ensemble_scheduling"]["step"]] == [
            "add", "sleep"]
        assert (pairing.repository / "sleep__baseline" / "1" / "model.py").read_text() == (
            baseline / "sleep" / "1" / "model.py").read_text()
        assert pairing.missing == ()
    finally:
        pairing.close()
    assert not pairing.workdir.exists()


def test_a_model_the_baseline_lacks_is_missing_and_keys_follow_both_sides_files(tmp_path: Path) -> None:
    candidate = copy(tmp_path / "candidate", "add", "sleep")
    baseline = copy(tmp_path / "baseline", "sleep")
    models = [("sleep", ["sleep"]), ("add", ["add"])]
    first = open_pairing(repository=str(baseline), rev=None, candidate=candidate, models=models)
    first.close()
    assert first.missing == ("add",) and set(first.keys) == {"sleep"}
    (candidate / "sleep" / "1" / "model.py").write_text("# edited\n")
    second = open_pairing(repository=str(baseline), rev=None, candidate=candidate, models=models)
    second.close()
    assert second.keys["sleep"] != first.keys["sleep"]  # a stored pair of the old candidate is not reused


def test_a_revision_is_extracted_without_touching_the_working_tree(tmp_path: Path) -> None:
    candidate = copy(tmp_path / "repo" / "models", "sleep")
    git = ["git", "-C", str(tmp_path / "repo"), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    config = candidate / "sleep" / "config.pbtxt"
    config.write_text(config.read_text().replace('"20"', '"30"'))
    pairing = open_pairing(repository=None, rev="HEAD", candidate=candidate, models=[("sleep", ["sleep"])])
    try:
        assert pairing.source.startswith("HEAD (") and pairing.name == "HEAD"
        assert pairing.base_configs["sleep"]["parameters"]["sleep_ms"]["string_value"] == "20"
    finally:
        pairing.close()
    assert '"30"' in config.read_text()
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, check=True).stdout
    assert status == " M models/sleep/config.pbtxt\n"


def test_one_baseline_not_two(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="give one baseline, not both"):
        open_pairing(repository=str(tmp_path), rev="HEAD", candidate=tmp_path, models=[])
