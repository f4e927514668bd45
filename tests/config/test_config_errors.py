"""Every invalid profile is a pytest usage error (exit 4): one line naming the key, no traceback."""

from __future__ import annotations

import pytest

from tests.support import MODELS

BASE = f"model_repository: {MODELS}\nprofile_models: add\n"

CASES = [
    ("misspelled key", BASE + "batch_size: 1\n", "batch_size: unknown option (did you mean `batch_sizes`?)"),
    ("hyphenated key", BASE + "batch-sizes: 1\n", "batch-sizes: unknown option (did you mean `batch_sizes`?)"),
    ("range start > stop", BASE + "batch_sizes: {start: 8, stop: 4}\n",
     "batch_sizes: range start 8 is greater than stop 4"),
    ("range extra key", BASE + "concurrency: {start: 1, stop: 4, stride: 2}\n",
     "concurrency: a range takes only start, stop and step, not stride"),
    ("range without stop", BASE + "concurrency: {start: 1}\n", "concurrency: a range needs stop"),
    ("non-integer in list", BASE + "concurrency: [1, two]\n", "concurrency[1]: expected an integer, got 'two'"),
    ("non-integer scalar", BASE + "perf_analyzer_timeout: soon\n", "perf_analyzer_timeout: expected an integer"),
    ("zero batch size", BASE + "batch_sizes: [0, 1]\n", "batch_sizes: values must be positive, got 0"),
    ("concurrency with request_rate", BASE + "concurrency: 1\nrequest_rate: 16\n",
     "concurrency: concurrency and request_rate cannot both be set"),
    ("per-model concurrency with request_rate",
     f"model_repository: {MODELS}\nprofile_models:\n  add:\n    parameters: {{concurrency: 1, request_rate: 8}}\n",
     "profile_models.add.parameters: concurrency and request_rate cannot both be set"),
    ("constraint on unknown metric", BASE + "constraints: {perf_latency_p999: {max: 5}}\n",
     "constraints.perf_latency_p999: unknown metric (did you mean `perf_latency_p99`?)"),
    ("constraint bound key", BASE + "constraints: {perf_throughput: {minimum: 5}}\n",
     "constraints.perf_throughput: a constraint takes min and/or max, not minimum"),
    ("constraint min > max", BASE + "constraints: {perf_throughput: {min: 10, max: 5}}\n",
     "constraints.perf_throughput: min 10 is greater than max 5"),
    ("objective on unknown metric", BASE + "objectives: {speed: 10}\n", "objectives.speed: unknown metric"),
    ("missing model repository", "model_repository: /nonexistent/models\nprofile_models: add\n",
     "model_repository: directory not found: /nonexistent/models"),
    ("no model repository", "profile_models: add\n", "model_repository: is required"),
    ("model not in repository", f"model_repository: {MODELS}\nprofile_models: resnet50\n",
     "profile_models.resnet50: model not found in"),
    ("YAML syntax error", BASE + "concurrency: [1, 2\nbatch_sizes: 1\n", "YAML syntax error at line"),
    ("key written twice", BASE + "concurrency: 1\nconcurrency: 2\n", "concurrency: written twice in the same mapping"),
    ("profile is a list", "- model_repository: x\n", "the profile must be a mapping of option to value, got list"),
    ("no models", f"model_repository: {MODELS}\n", "profile_models: no models to profile"),
    ("unknown launch mode", BASE + "triton_launch_mode: kubernetes\n",
     "triton_launch_mode: must be one of local, remote, docker, c_api, got `kubernetes`"),
    ("docker launch mode", BASE + "triton_launch_mode: docker\n",
     "triton_launch_mode: `docker` is not supported yet"),
    ("unknown protocol", BASE + "client_protocol: websocket\n", "client_protocol: must be grpc or http"),
    ("unknown per-model key", f"model_repository: {MODELS}\nprofile_models:\n  add:\n    batch_sizes: 4\n",
     "profile_models.add.batch_sizes: unknown option"),
    ("unknown perf_analyzer flag", BASE + "perf_analyzer_flags: {measurment-interval: 100}\n",
     "perf_analyzer_flags.measurment-interval: unknown perf_analyzer flag (did you mean `measurement-interval`?)"),
    ("perf_analyzer flag the plugin owns", BASE + "perf_analyzer_flags: {concurrency-range: 4}\n",
     "perf_analyzer_flags.concurrency-range: is set by the plugin"),
    ("server flag the plugin owns", BASE + "triton_server_flags: {model-repository: /x}\n",
     "triton_server_flags.model-repository: is set by the plugin"),
    ("server flag abbreviating one the plugin owns", BASE + "triton_server_flags: {model-repo: /x}\n",
     "triton_server_flags.model-repo: unknown tritonserver option"),
    ("unknown server flag", BASE + "triton_server_flags: {log-verbos: 1}\n",
     "triton_server_flags.log-verbos: unknown tritonserver option (did you mean `log-verbose`?)"),
    ("quick search with the search disabled", BASE + "run_config_search_mode: quick\nrun_config_search_disable: true\n",
     "run_config_search_disable: cannot be combined with run_config_search_mode: quick"),
    ("quick search with batch sizes", BASE + "run_config_search_mode: quick\nbatch_sizes: [1, 2]\n",
     "batch_sizes: is not supported in quick search"),
    ("min concurrency with request rates", BASE + "run_config_search_min_concurrency: 2\nrequest_rate: 16\n",
     "run_config_search_min_concurrency: cannot be combined with request_rate"),
    ("max concurrency with request-rate search",
     BASE + "run_config_search_max_concurrency: 64\nrequest_rate_search_enable: true\n",
     "run_config_search_max_concurrency: cannot be combined with request_rate_search_enable"),
    ("concurrency with a min request rate", BASE + "concurrency: 4\nrun_config_search_min_request_rate: 32\n",
     "concurrency: cannot be combined with run_config_search_min_request_rate"),
    ("global request rate with a model's concurrency",
     f"model_repository: {MODELS}\nrequest_rate: 16\nprofile_models:\n  add:\n    parameters: {{concurrency: 2}}\n",
     "profile_models.add.parameters.concurrency: cannot be combined with the global request_rate"),
    ("model name leaving the repository", f"model_repository: {MODELS}\nprofile_models: ../victim/add\n",
     "profile_models.../victim/add: `../victim/add` is not a model name"),
    ("absolute model name", f"model_repository: {MODELS}\nprofile_models: [/etc]\n",
     "profile_models./etc: `/etc` is not a model name"),
    ("model name dot", f"model_repository: {MODELS}\nprofile_models: [.]\n", "`.` is not a model name"),
    ("unknown model config field",
     f"model_repository: {MODELS}\nprofile_models:\n  add:\n    model_config_parameters: {{max_batch: [1, 2]}}\n",
     "profile_models.add.model_config_parameters.max_batch: `max_batch` is not a field of Triton's ModelConfig"),
    ("global weighting", BASE + "weighting: 2\n", "weighting: is a per-model option"),
    ("dcgm_disable in local mode", BASE + "dcgm_disable: true\n",
     "dcgm_disable: is only allowed with triton_launch_mode: remote"),
    ("boolean expected", BASE + "run_config_search_disable: maybe\n",
     "run_config_search_disable: expected a boolean (true or false), got 'maybe'"),
    ("optuna percentage", BASE + "run_config_search_mode: optuna\nmax_percentage_of_search_space: 150\n",
     "max_percentage_of_search_space: must be a percentage from 0 to 100, got 150"),
    ("optuna other field swept", BASE.replace("profile_models: add", "profile_models:\n  add:\n    "
                                              "model_config_parameters: {max_batch_size: [2, 4], "
                                              "input: [[{name: INPUT0, dims: [16]}], [{name: INPUT0, dims: [8]}]]}")
     + "run_config_search_mode: optuna\n",
     "profile_models.add.model_config_parameters: optuna search searches max_batch_size"),
    ("optuna two instance groups", BASE.replace("profile_models: add", "profile_models:\n  add:\n    "
                                                "model_config_parameters: {instance_group: [{count: [1, 2]}, "
                                                "{count: 1}]}") + "run_config_search_mode: optuna\n",
     "profile_models.add.model_config_parameters.instance_group: optuna search takes one instance group"),
    ("top configs without constraints", BASE + "num_top_model_configs: 3\n",
     "num_top_model_configs: needs global constraints"),
    ("search bounds reversed", BASE + "run_config_search_min_concurrency: 64\nrun_config_search_max_concurrency: 8\n",
     "run_config_search_min_concurrency: must be between 1 and max (8), got 64"),
    ("slo on a metric, not a request", BASE + "slo: {perf_latency_p99: 50}\n",
     "slo.perf_latency_p99: not a per-request latency (an slo bounds request_latency or time_to_first_response"),
    ("slo key misspelled", BASE + "slo: {request_latncy: 50}\n",
     "slo.request_latncy: not a per-request latency (did you mean `request_latency`?)"),
    ("slo bound zero", BASE + "slo: {request_latency: 0}\n",
     "slo.request_latency: must be a positive number of milliseconds, got 0"),
    ("slo bound negative, per model",
     f"model_repository: {MODELS}\nprofile_models:\n  add:\n    slo: {{request_latency: -5}}\n",
     "profile_models.add.slo.request_latency: must be a positive number of milliseconds, got -5"),
    ("slo not a mapping", BASE + "slo: 50\n", "slo: expected a mapping of a per-request latency to its bound"),
    ("custom load file missing", BASE + "perf_analyzer_flags: {request-intervals: /nonexistent/burst.txt}\n",
     "perf_analyzer_flags.request-intervals: file not found: /nonexistent/burst.txt"),
    ("custom load file malformed", BASE + f"perf_analyzer_flags: {{request-intervals: {MODELS}/add/config.pbtxt}}\n",
     "perf_analyzer_flags.request-intervals: " + f"{MODELS}/add/config.pbtxt line 1: expected an interval in "
     "microseconds"),
    ("custom load beside a concurrency sweep",
     BASE + f"concurrency: [1, 2]\nperf_analyzer_flags: {{request-intervals: {MODELS}/../intervals/burst.txt}}\n",
     "perf_analyzer_flags.request-intervals: a custom load replaces the concurrency and request_rate sweep"),
]


@pytest.mark.parametrize(("body", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_invalid_profile_is_a_one_line_usage_error(pytester: pytest.Pytester, write_profile, body: str,
                                                   expected: str) -> None:
    path = write_profile(body)
    # --collect-only: the profile is read at configure time either way, and a case that stops being an error
    # then fails here at once instead of measuring its whole sweep (a 6-minute optuna run, once).
    result = pytester.runpytest("--ma-config", str(path), "--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.errlines
    assert errors[0].startswith(f"ERROR: {path}: ")
    assert expected in errors[0]
    assert "Traceback" not in "\n".join(result.outlines + result.errlines)


def test_missing_config_file(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--ma-config", "nothere.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: nothere.yaml: config file not found: *nothere.yaml"])


def test_bad_command_line_override_names_the_key(pytester: pytest.Pytester, write_profile) -> None:
    path = write_profile(BASE)
    result = pytester.runpytest("--ma-config", str(path), "--ma-batch-sizes=1,x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *: batch_sizes: expected an integer, got 'x'"])


def test_there_are_at_least_25_cases() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("value", ["lots", "-5", "nan"])
def test_a_drift_allowance_that_is_not_a_percentage_is_a_usage_error(pytester: pytest.Pytester, write_profile,
                                                                     value: str) -> None:
    write_profile(BASE)
    result = pytester.runpytest("--ma-config", "profile.yaml", f"--ma-fail-if-not-best={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --ma-fail-if-not-best: expected a percentage such as 5 or 5%, got `{value}`"])
