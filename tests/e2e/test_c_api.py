"""`triton_launch_mode: c_api`: the bundled Triton library loaded by each perf_analyzer, with no server process."""

from __future__ import annotations

import pytest

from tests.support import FAST_FLAGS_YAML, MODELS

pytestmark = pytest.mark.e2e


def test_c_api_measures_each_variant_inside_perf_analyzer(run_profile, pytester: pytest.Pytester) -> None:
    run = run_profile(f"""
model_repository: {MODELS}
triton_launch_mode: c_api
run_config_search_disable: true
profile_models:
  sleep:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
concurrency: [2]
triton_server_flags: {{log-verbose: 1}}
{FAST_FLAGS_YAML}""", "-v")
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    # Model Analyzer ignores the server's flags in c_api mode, and says so.
    run.result.stdout.fnmatch_lines(["*`triton_server_flags` has no effect with triton_launch_mode: c_api*"])
    measured = {item.measurement["variant"]: item.measurement for item in run.items}
    assert set(measured) == {"sleep_config_default", "sleep_config_0"}
    one, two = (measured[name]["metrics"] for name in ("sleep_config_default", "sleep_config_0"))
    # Two instances serve two concurrent requests at once, each sleeping 20 ms: about twice the throughput.
    assert two["perf_throughput"] > 1.5 * one["perf_throughput"]
    assert 15 < one["perf_server_compute_infer"] < 60  # the server's own breakdown, from inside the process
    assert measured["sleep_config_0"]["effective_config"]["name"] == "sleep_config_0"
    # The best config is written as for a local server.
    assert (pytester.path / "output_model_repository" / "sleep_config_0" / "config.pbtxt").exists()
