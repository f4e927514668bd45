"""Every option of `model-analyzer profile` (1.58), with its placeholder type, default and CLI availability.

The table drives three things: YAML validation (unknown keys are errors), the `--ma-*` pytest options
(generated for the CLI-settable subset) and the "accepted but not supported yet" warnings. An option whose
`unsupported` text is set is parsed and validated like any other, and setting it produces that warning:
it is never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.config.llm import ModelType, parse_model_type
from pytest_model_analyzer.config.search_settings import SearchStrategy, parse_search_strategy


@dataclass(frozen=True)
class Option:
    key: str
    parse: v.Parser
    default: Any
    cli: bool = True
    help: str = ""
    unsupported: str = ""  # why setting it has no effect yet; empty when it is supported
    path: bool = False  # a file system path: relative values are resolved against the config's directory

    @property
    def is_switch(self) -> bool:
        """A boolean option is a switch on the command line (`--ma-fresh`), any other takes a value."""
        return self.parse is v.parse_bool

    @property
    def flag(self) -> str:
        return "--ma-" + self.key.replace("_", "-")


def _passthrough(value: Any, key: str) -> Any:
    """Options with a structure of their own are validated by the profile builder."""
    return value


DOCKER = "docker launch mode is not supported yet"
COMPOSING = ("per-composing-model options are not supported yet: an ensemble's composing models are read from "
             "its config.pbtxt and searched over the run_config_search_* ranges")
PLOTS = "plots are fixed by the report"
# Keys of `model-analyzer report`, which Model Analyzer accepts in the same YAML as the profile's.
REPORT = "it is an option of `model-analyzer report`, not of the profile: `pytest --ma-report` reads it"
FORMATS = "it is an option of `model-analyzer report`, not of the profile: the detailed reports are HTML"

INFERENCE_FIELDS = [
    "model_name", "batch_size", "concurrency", "model_config_path", "instance_group",
    "max_batch_size", "satisfies_constraints", "perf_throughput", "perf_latency_p99",
]
GPU_FIELDS = [
    "model_name", "gpu_uuid", "batch_size", "concurrency", "model_config_path", "instance_group",
    "satisfies_constraints", "gpu_used_memory", "gpu_utilization", "gpu_power_usage",
]
SERVER_FIELDS = ["model_name", "gpu_uuid", "gpu_used_memory", "gpu_utilization", "gpu_power_usage"]

_OPTIONS = [
    Option("config_file", v.parse_str, None, help="ignored: use --ma-config", unsupported="use --ma-config"),
    Option("checkpoint_directory", v.parse_str, "checkpoints", path=True, help="directory of N.ckpt files"),
    Option("monitoring_interval", v.parse_float, 1.0, help="seconds between GPU/CPU metric samples"),
    Option("duration_seconds", v.parse_int, 3, help="seconds of server-only metric sampling"),
    Option("collect_cpu_metrics", v.parse_bool, False, help="record the server process's memory"),
    Option("gpus", v.parse_str_list, ["all"], help="GPU ids or UUIDs to monitor, or all"),
    Option("always_report_gpu_metrics", v.parse_bool, False, help="report GPU metrics for cpu_only models"),
    Option("dcgm_disable", v.parse_bool, False, help="Model Analyzer's: skip DCGM's GPU discovery (remote mode only)",
           unsupported="a remote server's GPU figures come from its own metrics here; no GPU of this machine is "
                       "looked at"),
    Option("skip_summary_reports", v.parse_bool, False, help="write no CSV/HTML reports"),
    Option("skip_detailed_reports", v.parse_bool, False, help="write no reports/detailed/<config>.html"),
    Option("model_type", parse_model_type, ModelType.GENERIC,
           help="generic, or LLM: streaming models measured per token"),
    Option("model_repository", v.parse_str, None, path=True, help="Triton model repository"),
    Option("output_model_repository_path", v.parse_str, "output_model_repository", path=True,
           help="where the best configs' model directories are written"),
    Option("override_output_model_repository", v.parse_bool, False,
           help="replace an existing output model repository instead of refusing"),
    Option("client_max_retries", v.parse_int, 50, help="seconds a started server has to become ready (a poll a "
                                                       "second, as Model Analyzer's retries)"),
    Option("client_protocol", v.parse_str, "grpc", help="grpc or http"),
    Option("perf_analyzer_flags", v.parse_dict, None, cli=False,
           help="flags of every perf_analyzer run: window, input data, ... (paths: from the YAML)"),
    Option("genai_perf_flags", v.parse_dict, None, cli=False,
           help="LLM models: backend, prompts, output tokens, tokenizer (docs/llm.md)"),
    Option("triton_server_flags", v.parse_str_dict, None, cli=False,
           help="tritonserver options of the local server (paths: from the YAML)"),
    Option("triton_server_environment", v.parse_str_dict, None, cli=False,
           help="environment variables of the local server"),
    Option("triton_docker_args", v.parse_dict, None, cli=False, unsupported=DOCKER,
           help="docker launch mode's container arguments"),
    Option("objectives", _passthrough, {"perf_throughput": 10}, cli=False,
           help="metrics that rank configs, with weights"),
    Option("constraints", _passthrough, None, cli=False, help="per-metric {min, max}: a point outside them fails"),
    # Not in Model Analyzer: per-request bounds in ms; they give perf_goodput and perf_slo_attainment.
    Option("slo", _passthrough, None, cli=False,
           help="per-request bounds in ms, e.g. {request_latency: 50}: adds perf_goodput, perf_slo_attainment"),
    Option("weighting", _passthrough, None, cli=False,
           help="a model's weight when models are ranked or profiled together (per model only)"),
    Option("profile_models", _passthrough, None, help="models to profile (comma-delimited)"),
    Option("batch_sizes", v.parse_positive_int_list, [1], help="client batch sizes, e.g. 1,8"),
    Option("concurrency", v.parse_positive_int_list, None, help="concurrency values, e.g. 1,2,4"),
    Option("request_rate", v.parse_positive_int_list, None, help="request rates, e.g. 16,32"),
    Option("reload_model_disable", v.parse_bool, False, help="remote mode: never load or unload models"),
    Option("bls_composing_models", v.parse_str_list, [], help="the models a BLS model calls, searched with it"),
    Option("ensemble_composing_models", _passthrough, [], unsupported=COMPOSING,
           help="Model Analyzer's per-composing-model options"),
    Option("cpu_only_composing_models", v.parse_str_list, None,
           help="composing models searched with KIND_CPU instances"),
    Option("perf_analyzer_timeout", v.parse_int, 600, help="seconds before perf_analyzer is killed"),
    Option("perf_analyzer_cpu_util", v.parse_float, None, unsupported="perf_analyzer is not killed for CPU use",
           help="Model Analyzer kills perf_analyzer above this CPU %"),
    Option("perf_analyzer_path", v.parse_str, "perf_analyzer", path=True,
           help="the perf_analyzer to run (default: the environment's, from the runtime extra)"),
    Option("perf_output", v.parse_bool, False, help="write perf_analyzer's output to perf_output_path"),
    Option("perf_output_path", v.parse_str, None, path=True,
           help="file for perf_analyzer's output with perf_output (default: the run's work directory)"),
    Option("perf_analyzer_max_auto_adjusts", v.parse_int, 10, help="window doublings when unstable"),
    Option("triton_launch_mode", v.parse_str, "local", help="local, remote or c_api"),
    Option("triton_docker_image", v.parse_str, "nvcr.io/nvidia/tritonserver:26.09-py3", unsupported=DOCKER,
           help="docker launch mode's image"),
    Option("triton_http_endpoint", v.parse_str, "localhost:8000", help="remote mode: host:port"),
    Option("triton_grpc_endpoint", v.parse_str, "localhost:8001", help="remote mode: host:port"),
    Option("triton_metrics_url", v.parse_str, "http://localhost:8002/metrics", help="remote mode metrics"),
    # Not in Model Analyzer: one remote server per pytest-xdist worker (slot i uses entry i of each list).
    Option("triton_http_endpoints", v.parse_str_list, None, help="remote mode, one per xdist worker: host:port,..."),
    Option("triton_grpc_endpoints", v.parse_str_list, None, help="remote mode, one per xdist worker: host:port,..."),
    Option("triton_metrics_urls", v.parse_str_list, None, help="remote mode, one per xdist worker (optional)"),
    Option("triton_server_path", v.parse_str, "tritonserver", path=True,
           help="the tritonserver to start (default: a full install on PATH or in /opt/tritonserver, else the "
                "bundled one)"),
    Option("triton_output_path", v.parse_str, None, path=True, help="file to append server logs to"),
    Option("triton_docker_mounts", v.parse_str_list, None, unsupported=DOCKER, help="docker launch mode's mounts"),
    Option("triton_docker_labels", v.parse_dict, None, cli=False, unsupported=DOCKER,
           help="docker launch mode's container labels"),
    Option("triton_docker_shm_size", v.parse_str, None, unsupported=DOCKER,
           help="docker launch mode's /dev/shm size"),
    Option("triton_install_path", v.parse_str, "/opt/tritonserver",
           help="c_api: the directory with lib/libtritonserver.so (default: /opt/tritonserver when it holds "
                "one, else the bundled library)"),
    Option("early_exit_enable", v.parse_bool, False,
           help="stop a listed load sweep, or a max_batch_size sweep, once throughput stops rising"),
    Option("run_config_search_max_concurrency", v.parse_int, 1024, help="the search's highest concurrency"),
    Option("run_config_search_min_concurrency", v.parse_int, 1, help="the search's lowest concurrency"),
    Option("run_config_search_max_request_rate", v.parse_int, 8192, help="the search's highest request rate"),
    Option("run_config_search_min_request_rate", v.parse_int, 16, help="the search's lowest request rate"),
    Option("run_config_search_max_instance_count", v.parse_int, 5, help="the search's highest instance count"),
    Option("run_config_search_min_instance_count", v.parse_int, 1, help="the search's lowest instance count"),
    Option("run_config_search_max_model_batch_size", v.parse_int, 128, help="the search's largest max_batch_size"),
    Option("run_config_search_min_model_batch_size", v.parse_int, 1, help="the search's smallest max_batch_size"),
    Option("run_config_search_max_binary_search_steps", v.parse_int, 5,
           help="brute: steps of the load's binary search at a constraint's boundary"),
    Option("min_percentage_of_search_space", v.parse_int, 5, help="optuna: measure at least this % of the space"),
    Option("max_percentage_of_search_space", v.parse_int, 10, help="optuna: measure at most this % of the space"),
    Option("optuna_min_trials", v.parse_int, None,
           help="optuna: at least this many trials, when set (with the min %: the larger)"),
    Option("optuna_max_trials", v.parse_int, None,
           help="optuna: at most this many trials, when set (with the max %: the smaller)"),
    Option("optuna_early_exit_threshold", v.parse_int, 10,
           help="optuna: stop after this many trials without a better config"),
    Option("use_concurrency_formula", v.parse_bool, False,
           help="optuna: each config at Model Analyzer's formula load instead of a sweep"),
    Option("run_config_search_mode", parse_search_strategy, SearchStrategy.BRUTE, help="brute, quick or optuna"),
    Option("run_config_search_disable", v.parse_bool, False,
           help="no search: the listed model_config_parameters (else the repository's config) at the listed loads"),
    Option("run_config_profile_models_concurrently_enable", v.parse_bool, False,
           help="measure the profiled models together, one perf_analyzer each"),
    Option("request_rate_search_enable", v.parse_bool, False, help="search request rates instead of concurrencies"),
    Option("concurrency_sweep_disable", v.parse_bool, False,
           help="quick: each config at its formula load only, no sweep of the best"),
    Option("export_path", v.parse_str, ".", path=True, help="root of results/ and reports/"),
    Option("filename_model_inference", v.parse_str, "metrics-model-inference.csv",
           help="the inference CSV's name under results/"),
    Option("filename_model_gpu", v.parse_str, "metrics-model-gpu.csv", help="the GPU CSV's name under results/"),
    Option("filename_server_only", v.parse_str, "metrics-server-only.csv",
           help="the server-only CSV's name under results/"),
    Option("num_configs_per_model", v.parse_int, 3,
           help="top configs per model that the reports and quick's sweep cover"),
    Option("num_top_model_configs", v.parse_int, 0, help="best configs across all models (needs global constraints)"),
    Option("inference_output_fields", v.parse_str_list, INFERENCE_FIELDS, help="columns of the inference CSV"),
    Option("gpu_output_fields", v.parse_str_list, GPU_FIELDS, help="columns of the GPU CSV"),
    Option("server_output_fields", v.parse_str_list, SERVER_FIELDS, help="columns of the server-only CSV"),
    Option("latency_budget", v.parse_int, None, help="shorthand: constraints.perf_latency_p99.max (ms)"),
    Option("min_throughput", v.parse_int, None, help="shorthand: constraints.perf_throughput.min"),
    Option("plots", _passthrough, None, cli=False, unsupported=PLOTS, help="Model Analyzer's plot specs"),
    Option("report_model_configs", _passthrough, None, cli=False, unsupported=REPORT,
           help="`model-analyzer report`'s configs to report"),
    Option("output_formats", _passthrough, None, cli=False, unsupported=FORMATS,
           help="`model-analyzer report`'s file formats"),
]

OPTIONS: dict[str, Option] = {option.key: option for option in _OPTIONS}

# The headings `pytest --help` lists the `--ma-*` options under, in this order, and which keys each takes: a key
# itself, or a prefix ending in `_`. The plugin's own options (gates, baselines, offline reports) name theirs.
HELP_TOPICS: dict[str, tuple[str, ...]] = {
    "profile": ("config_file", "model_repository", "profile_models", "batch_sizes", "concurrency", "request_rate",
                "objectives", "constraints", "slo", "weighting", "latency_budget", "min_throughput", "model_type",
                "bls_composing_models", "ensemble_composing_models", "cpu_only_composing_models",
                "output_model_repository_path", "override_output_model_repository"),
    "search": ("run_config_", "optuna_", "min_percentage_of_search_space", "max_percentage_of_search_space",
               "use_concurrency_formula", "early_exit_enable", "request_rate_search_enable",
               "concurrency_sweep_disable"),
    "server and perf_analyzer": ("triton_", "client_", "reload_model_disable", "perf_", "genai_perf_flags"),
    "monitoring": ("gpus", "monitoring_interval", "duration_seconds", "collect_cpu_metrics",
                   "always_report_gpu_metrics", "dcgm_disable"),
    "gates and baselines": (),
    "checkpoints": ("checkpoint_directory",),
    "reports": ("export_path", "filename_", "skip_", "num_", "inference_output_fields", "gpu_output_fields",
                "server_output_fields", "plots", "report_model_configs", "output_formats"),
    "scale-out (pytest-xdist)": ("triton_http_endpoints", "triton_grpc_endpoints", "triton_metrics_urls"),
}


def help_topic(key: str) -> str:
    """The heading an option is listed under: the one naming the key itself, else the one with its prefix."""
    for topic, keys in HELP_TOPICS.items():
        if key in keys:
            return topic
    for topic, keys in HELP_TOPICS.items():
        if any(prefix.endswith("_") and key.startswith(prefix) for prefix in keys):
            return topic
    raise KeyError(f"option {key} has no heading in HELP_TOPICS")

# Keys that may appear under `profile_models.<name>`; everything else there is an error.
MODEL_KEYS = frozenset({
    "cpu_only", "parameters", "objectives", "constraints", "slo", "weighting", "model_config_parameters",
    "perf_analyzer_flags", "genai_perf_flags", "triton_server_flags", "triton_server_environment",
    "triton_docker_args",
})
PARAMETER_KEYS = ("batch_sizes", "concurrency", "request_rate")
LAUNCH_MODES = ("local", "remote", "docker", "c_api")
