"""Measurements through the real bundled tritonserver and the real perf_analyzer."""

from __future__ import annotations

import pytest

from tests.support import FAST_FLAGS_YAML, HAS_GPU, MODELS, processes_of_this_test

pytestmark = pytest.mark.e2e

FLAGS = FAST_FLAGS_YAML


def test_small_sweep_records_plausible_measurements(run_profile) -> None:
    run = run_profile(f"""
model_repository: {MODELS}
run_config_search_disable: true
collect_cpu_metrics: true
profile_models:
  add:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
concurrency: [1, 2]
batch_sizes: [1, 4]
""" + FLAGS, "-v")
    assert run.result.ret == 0, run.result.stdout.str()
    assert len(run.items) == 8
    for item in run.items:
        assert item.outcome == "passed"
        metrics = item.measurement["metrics"]
        assert metrics["perf_throughput"] > 0
        assert metrics["perf_latency_p99"] >= metrics["perf_latency_p50"] > 0
        assert metrics["cpu_used_ram"] > 0  # the server process tree's memory (collect_cpu_metrics)
        assert "cpu_utilization" in metrics
        # junit: besides the JSON, one property per metric, for dashboards that chart junit properties.
        for name in ("perf_throughput", "perf_latency_p99", "perf_server_queue", "cpu_used_ram"):
            assert float(item.properties[name]) == pytest.approx(metrics[name], rel=1e-5)
    by_variant = {m["variant"]: m["effective_config"]["instance_group"][0]["count"] for m in run.measured}
    assert by_variant == {"add_config_default": 1, "add_config_0": 2}  # read back from the server
    # -v shows the headline figures, and the summary table lists every point; no GPU note is hidden.
    run.result.stdout.fnmatch_lines(["*add_config_0::b4-c2 PASSED (* infer/s, p99 * ms)*"])
    run.result.stdout.fnmatch_lines(["*model analyzer: 8 measurements*", "add:", "*add_config_0*2:CPU*"])
    if HAS_GPU:
        run.result.stdout.fnmatch_lines(["model-analyzer: GPU metrics from NVML: 0: *"])
    else:
        run.result.stdout.fnmatch_lines(["model-analyzer: GPU metrics unavailable (*): CPU metrics recorded instead"])
    assert processes_of_this_test() == []


def test_two_instances_of_sleep_model_beat_one_at_concurrency_4(run_profile) -> None:
    run = run_profile(f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models:
  sleep:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
concurrency: 4
""" + FLAGS)
    assert run.result.ret == 0, run.result.stdout.str()
    throughput = {m["variant"]: m["metrics"]["perf_throughput"] for m in run.measured}
    # 20 ms per batch without batching: about 50 infer/s for one instance, about 100 for two.
    assert throughput["sleep_config_0"] > 1.6 * throughput["sleep_config_default"], throughput


def test_variant_that_fails_to_load_errors_and_the_run_goes_on(run_profile) -> None:
    run = run_profile(f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models:
  add:
    model_config_parameters:
      instance_group: [[{{kind: KIND_GPU, count: 1, gpus: [64]}}], [{{kind: KIND_CPU, count: 2}}]]
concurrency: 1
""" + FLAGS)
    outcomes = {item.variant: item for item in run.items}
    assert outcomes["add_config_0"].outcome == "error"
    assert "add_config_0 did not load" in outcomes["add_config_0"].message
    assert "GPU" in outcomes["add_config_0"].message  # the server's own words
    assert outcomes["add_config_default"].outcome == "passed"
    assert outcomes["add_config_1"].outcome == "passed"
    assert "Traceback" not in run.result.stdout.str()


def test_server_dying_mid_run_is_restarted_for_the_next_items(run_profile, model_repo) -> None:
    repo = model_repo("crash", "add")
    run = run_profile(f"""
model_repository: {repo}
run_config_search_disable: true
profile_models: crash,add
concurrency: 1
""" + FLAGS)
    crash, add = run.by_name("crash"), run.by_name("add")
    assert crash[0].outcome == "error"
    assert "server died" in crash[0].message
    assert add[0].outcome == "passed"
    assert add[0].measurement["metrics"]["perf_throughput"] > 0
    run.result.stdout.fnmatch_lines(["*the Triton server died and was restarted 1 time(s)*"])


def test_server_killed_while_loading_is_restarted_and_the_variant_tried_again(run_profile, model_repo) -> None:
    """The killed server's backend stub holds the load's connection open: without reaping, the load waits for
    perf_analyzer_timeout, and the variant's next items fail with the cached error, never tried again."""
    repo = model_repo("die_on_load", "add")
    run = run_profile(f"""
model_repository: {repo}
run_config_search_disable: true
profile_models: die_on_load,add
concurrency: [1, 2]
perf_analyzer_timeout: 120
""" + FLAGS)
    first, second = run.by_name("die_on_load")
    assert first.outcome == "error", first
    assert "the Triton server died while loading die_on_load_config_default" in first.message
    assert "did not answer within" not in first.message  # it did not wait for the deadline
    assert second.outcome == "passed", second.message  # tried again, on the restarted server
    assert [item.outcome for item in run.by_name("add_config_default")] == ["passed", "passed"]
    run.result.stdout.fnmatch_lines(["*the Triton server died and was restarted 1 time(s)*"])
    assert not processes_of_this_test()


def test_missing_perf_analyzer_is_one_clear_error(run_profile) -> None:
    run = run_profile(f"""
model_repository: {MODELS}
profile_models: add
run_config_search_disable: true
concurrency: [1, 2]
perf_analyzer_path: /nonexistent/perf_analyzer
""")
    assert run.result.ret == 1
    output = run.result.stdout.str()
    assert "perf_analyzer_path: perf_analyzer not found or not executable at /nonexistent/perf_analyzer" in output
    assert "scripts/setup.sh" in output
    # One error, and the session stops instead of repeating it for every point.
    assert [item.outcome for item in run.items] == ["error"]
    assert processes_of_this_test() == []


def test_missing_server_binary_is_one_clear_error(run_profile) -> None:
    run = run_profile(f"""
model_repository: {MODELS}
profile_models: add
run_config_search_disable: true
concurrency: 1
triton_server_path: /nonexistent/tritonserver
""")
    assert run.result.ret == 1
    run.result.stdout.fnmatch_lines(["*triton_server_path: tritonserver not found or not executable at*"])


def test_a_variant_identical_to_the_default_is_measured_once_and_reported_twice(run_profile) -> None:
    # add's repository config has max_batch_size 8 and one CPU instance: config_1 asks for the same config.
    run = run_profile(f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models:
  add:
    model_config_parameters:
      max_batch_size: [4, 8]
      instance_group: [[{{kind: KIND_CPU, count: 1}}]]
concurrency: 1
""" + FLAGS, "-v")
    assert run.result.ret == 0, run.result.stdout.str()
    by_variant = {item.variant: item for item in run.items}
    twin = by_variant["add_config_1"]
    assert twin.properties["ma_from"] == "same config as add_config_default"
    assert twin.measurement["metrics"] == by_variant["add_config_default"].measurement["metrics"]
    run.result.stdout.fnmatch_lines(["*add_config_1::b1-c1 PASSED (from same config as add_config_default: *"])
    run.result.stdout.fnmatch_lines(["*model analyzer: 3 measurements*"])  # one row per variant in the table


def test_variants_merge_into_the_repository_config_and_sweep_map_fields(run_profile, model_repo) -> None:
    """Model Analyzer's merge and map sweeps through the real server: `parameters.sleep_ms` takes two values,
    `dynamic_batching` gains a delay, and what the repository's config.pbtxt sets besides stays as it is."""
    repo = model_repo("sleep")
    config = repo / "sleep" / "config.pbtxt"
    config.write_text(config.read_text() + 'parameters: { key: "note", value: { string_value: "kept" } }\n'
                      "dynamic_batching { preferred_batch_size: [ 2 ] }\n")
    run = run_profile(f"""
model_repository: {repo}
run_config_search_mode: brute
profile_models:
  sleep:
    model_config_parameters:
      parameters: {{sleep_ms: {{string_value: ["20", "2"]}}}}
      dynamic_batching: {{max_queue_delay_microseconds: 500}}
concurrency: 1
""" + FLAGS)
    assert run.result.ret == 0, run.result.stdout.str()
    effective = {item.variant: item.measurement["effective_config"] for item in run.items}
    assert set(effective) == {"sleep_config_default", "sleep_config_0", "sleep_config_1"}
    for name, sleep_ms in (("sleep_config_0", "20"), ("sleep_config_1", "2")):
        assert effective[name]["parameters"] == {"sleep_ms": {"string_value": sleep_ms},
                                                 "note": {"string_value": "kept"}}
        assert effective[name]["dynamic_batching"]["preferred_batch_size"] == [2]
        assert int(effective[name]["dynamic_batching"]["max_queue_delay_microseconds"]) == 500
    throughput = {item.variant: item.measurement["metrics"]["perf_throughput"] for item in run.items}
    assert throughput["sleep_config_1"] > 3 * throughput["sleep_config_0"], throughput  # 2 ms per batch, not 20


def test_model_analyzers_flag_names_reach_the_real_perf_analyzer(run_profile) -> None:
    """`model-version`, `http-header` and `verbose` are Model Analyzer's names for `-x`, `-H` and `-v`, which
    this perf_analyzer takes only in short form (issue 14 item 8: they failed every point); `async: false`
    is left out rather than passed as `--async=false`."""
    run = run_profile(f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models: add
concurrency: 1
perf_analyzer_flags:
  measurement-mode: time_windows
  measurement-interval: 200
  stability-percentage: 20
  model-version: 1
  http-header: "x-request-source: pytest-model-analyzer"
  verbose: true
  async: false
""")
    assert run.result.ret == 0, run.result.stdout.str()
    [measurement] = run.measured
    assert measurement["perf_analyzer_flags"]["model-version"] == "1"
    assert measurement["metrics"]["perf_throughput"] > 0
