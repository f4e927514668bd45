"""Files named in perf_analyzer_flags on the real server: relative to the YAML, whatever directory pytest runs
in, and their content part of what a point is measured under."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import read_junit
from tests.support import MODELS

pytestmark = pytest.mark.e2e

PROFILE = f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models: add
concurrency: 1
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20,
                       input-data: add_input.json, profile-export-file: export.json}}
triton_server_flags: {{strict-model-config: true}}
"""


def write_input(path: Path, value: float) -> None:
    path.write_text(json.dumps({"data": [{"INPUT0": [value] * 16}]}))


def test_input_data_beside_a_yaml_in_a_subdirectory_is_sent_and_an_edit_is_measured_again(
        pytester: pytest.Pytester) -> None:
    suite = pytester.path / "suite"
    suite.mkdir()
    (suite / "profile.yaml").write_text(PROFILE)
    write_input(suite / "add_input.json", 7.0)

    def run(name: str) -> dict[str, str]:
        junit = pytester.path / f"{name}.xml"
        result = pytester.runpytest_subprocess("--ma-config", "suite/profile.yaml", "-p", "no:cacheprovider",
                                               f"--junitxml={junit}", timeout=180)  # run from the YAML's parent
        assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
        (item,) = read_junit(junit)
        return item.properties

    first = run("first")
    assert "ma_from" not in first
    # perf_analyzer sent the file's values: its export (also a path beside the YAML) records each request's inputs.
    requests = json.loads((suite / "export.json").read_text())["experiments"][0]["requests"]
    assert requests and all(request["request_inputs"]["INPUT0"] == [7.0] * 16 for request in requests)
    assert run("again").get("ma_from") == "0.ckpt"  # unchanged: the checkpoint's measurement serves
    write_input(suite / "add_input.json", 8.0)
    assert "ma_from" not in run("edited")  # the file changed: measured again
