"""Files and directories named in perf_analyzer_flags and triton_server_flags are relative to the YAML, as every
path of a profile is (perf_analyzer and the server run in directories of their own); an input file's content is
part of what a point is measured under."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.points import variant_points
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.identity import INPUT_DATA_DIGEST
from pytest_model_analyzer.infra.perf_analyzer import PerfAnalyzerCall
from tests.support import MODELS


def model(suite: Path, cwd: Path, **extra: Any) -> Any:
    raw = {"model_repository": str(MODELS), "profile_models": "add", "run_config_search_disable": True, **extra}
    return build_profile(raw, config_dir=suite, cwd=cwd).models[0]


def setup_of(spec: Any) -> Any:
    return next(iter(variant_points(spec, spec.variants[0]))).setup


def test_input_data_is_found_beside_the_yaml_whatever_the_working_directory(tmp_path: Path) -> None:
    suite, elsewhere = tmp_path / "suite", tmp_path / "elsewhere"
    suite.mkdir(), elsewhere.mkdir()
    (suite / "add.json").write_text('{"data": [{"INPUT0": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]}]}')
    spec = model(suite, elsewhere, perf_analyzer_flags={"input-data": "add.json"})
    assert spec.perf_analyzer_flags["input-data"] == str(suite / "add.json")
    command = PerfAnalyzerCall(Path("pa"), "add", (), 1, "concurrency", 1, spec.perf_analyzer_flags).command(Path("o"))
    assert f"--input-data={suite / 'add.json'}" in command
    assert not [arg for arg in command if INPUT_DATA_DIGEST in arg]  # the plugin's record, never passed
    # perf_analyzer's keywords are no paths; a list names several files.
    assert model(suite, elsewhere, perf_analyzer_flags={"input-data": "zero"}).perf_analyzer_flags["input-data"] == \
        "zero"
    listed = model(suite, elsewhere, perf_analyzer_flags={"input-data": ["add.json", "random"]})
    assert listed.perf_analyzer_flags["input-data"] == [str(suite / "add.json"), "random"]


def test_an_edited_input_file_or_directory_is_a_new_setup(tmp_path: Path) -> None:
    data = tmp_path / "add.json"
    data.write_text('{"data": [{"INPUT0": [1]}]}')
    before = setup_of(model(tmp_path, tmp_path, perf_analyzer_flags={"input-data": "add.json"}))
    assert setup_of(model(tmp_path, tmp_path, perf_analyzer_flags={"input-data": "add.json"})) == before
    data.write_text('{"data": [{"INPUT0": [2]}]}')
    assert setup_of(model(tmp_path, tmp_path, perf_analyzer_flags={"input-data": "add.json"})) != before
    # perf_analyzer's directory form: a file a input, every file counted.
    directory = tmp_path / "inputs"
    directory.mkdir()
    (directory / "INPUT0").write_text("1")
    first = setup_of(model(tmp_path, tmp_path, perf_analyzer_flags={"input-data": "inputs"}))
    (directory / "INPUT0").write_text("2")
    assert setup_of(model(tmp_path, tmp_path, perf_analyzer_flags={"input-data": "inputs"})) != first


@pytest.mark.parametrize(("flags", "message"), [
    ({"perf_analyzer_flags": {"input-data": "trt.json"}}, "perf_analyzer_flags.input-data: not found: {base}/trt.json"),
    ({"perf_analyzer_flags": {"ssl-grpc-root-certifications-file": "ca.pem"}},
     "perf_analyzer_flags.ssl-grpc-root-certifications-file: not found: {base}/ca.pem"),
    ({"perf_analyzer_flags": {"profile-export-file": "out/export.json"}},
     "perf_analyzer_flags.profile-export-file: the directory of {base}/out/export.json does not exist"),
    ({"triton_server_flags": {"grpc-server-cert": "server.crt"}},
     "triton_server_flags.grpc-server-cert: not found: {base}/server.crt"),
    ({"triton_server_flags": {"log-file": "logs/server.log"}},
     "triton_server_flags.log-file: the directory of {base}/logs/server.log does not exist"),
])
def test_a_missing_file_is_one_line_naming_the_key_and_the_path(tmp_path: Path, flags: dict[str, Any],
                                                                message: str) -> None:
    with pytest.raises(ConfigError) as error:
        model(tmp_path, Path("/"), **flags)
    assert str(error.value) == message.format(base=tmp_path)


def test_a_models_own_flags_are_named_by_its_key_and_server_paths_resolve(tmp_path: Path) -> None:
    raw = {"model_repository": str(MODELS), "run_config_search_disable": True,
           "profile_models": {"add": {"perf_analyzer_flags": {"input-data": "missing.json"}}}}
    with pytest.raises(ConfigError, match=r"^profile_models.add.perf_analyzer_flags.input-data: not found: "):
        build_profile(raw, config_dir=tmp_path, cwd=Path("/"))
    spec = model(tmp_path, Path("/"), triton_server_flags={"log-file": "server.log"})
    assert spec.triton_server_flags["log-file"] == str(tmp_path / "server.log")
