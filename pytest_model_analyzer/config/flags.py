"""perf_analyzer and tritonserver flags: which a user may set, which the plugin owns, and the default.

Model Analyzer's default measurement flags (`measurement-mode: count_windows`) apply when the user gives none;
`effective_flags` is the one place that rule lives, applied once when a model's spec is built.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.config.names import suggest
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.identity import INPUT_DATA_DIGEST, INPUT_DATA_FLAG

# perf_analyzer flags a user may pass (Model Analyzer's allowed list, less what the plugin sets per point).
PERF_ANALYZER_FLAGS = frozenset({
    "service-kind", "model-signature-name", "async", "sync", "measurement-interval", "request-distribution",
    "request-intervals", "binary-search", "num-of-sequences", "latency-threshold", "max-threads",
    "stability-percentage", "max-trials", "percentile", "input-data", "shared-memory",
    "output-shared-memory-size", "shape", "sequence-length", "sequence-id-range", "string-length",
    "string-data", "measurement-mode", "measurement-request-count", "streaming",
    "grpc-compression-algorithm", "ssl-grpc-use-ssl", "ssl-grpc-root-certifications-file",
    "ssl-grpc-private-key-file", "ssl-grpc-certificate-chain-file", "ssl-https-verify-peer",
    "ssl-https-verify-host", "ssl-https-ca-certificates-file", "ssl-https-client-certificate-type",
    "ssl-https-client-certificate-file", "ssl-https-private-key-type", "ssl-https-private-key-file",
    "collect-metrics", "metrics-url", "metrics-interval", "model-version", "http-header", "verbose",
    "extra-verbose", "verbose-csv",
    # Not in Model Analyzer's list: a copy of every point's export lands there (infra/perf_analyzer.py).
    "profile-export-file",
})
# Set by the plugin for every point; a user value would make the point mean something else.
PERF_ANALYZER_OWNED = frozenset({
    "model-name", "batch-size", "url", "protocol", "concurrency-range", "request-rate-range",
    "triton-server-directory", "model-repository", "bls-composing-models",
    "latency-report-file",  # the plugin's own CSV of each measurement (`-f`)
})
LIST_FLAGS = frozenset({"shape", "input-data", "http-header"})
# The tritonserver options Model Analyzer accepts in `triton_server_flags` (TritonServerConfig.server_arg_keys).
SERVER_FLAGS = frozenset({
    "id", "exit-timeout-secs", "log-verbose", "log-info", "log-warning", "log-error", "log-format", "log-file",
    "model-store", "model-repository", "exit-on-error", "disable-auto-complete-config", "strict-readiness",
    "model-control-mode", "repository-poll-secs", "load-model", "model-load-thread-count",
    "model-load-retry-count", "model-namespacing", "allow-http", "http-address", "http-port", "reuse-http-port",
    "http-header-forward-pattern", "http-thread-count", "http-restricted-api", "allow-grpc", "grpc-address",
    "grpc-port", "reuse-grpc-port", "grpc-header-forward-pattern", "grpc-infer-allocation-pool-size",
    "grpc-use-ssl", "grpc-use-ssl-mutual", "grpc-server-cert", "grpc-server-key", "grpc-root-cert",
    "grpc-infer-response-compression-level", "grpc-keepalive-time", "grpc-keepalive-timeout",
    "grpc-keepalive-permit-without-calls", "grpc-http2-max-pings-without-data",
    "grpc-http2-min-recv-ping-interval-without-data", "grpc-http2-max-ping-strikes", "grpc-max-connection-age",
    "grpc-max-connection-age-grace", "grpc-restricted-protocol", "allow-sagemaker", "sagemaker-port",
    "sagemaker-safe-port-range", "sagemaker-thread-count", "allow-vertex-ai", "vertex-ai-port",
    "vertex-ai-thread-count", "vertex-ai-default-model", "allow-metrics", "allow-gpu-metrics",
    "allow-cpu-metrics", "metrics-address", "metrics-port", "metrics-interval-ms", "metrics-config",
    "trace-config", "backend-directory", "backend-config", "repoagent-directory", "cache-config",
    "cache-directory", "rate-limit", "rate-limit-resource", "pinned-memory-pool-byte-size",
    "cuda-memory-pool-byte-size", "cuda-virtual-address-size", "min-supported-compute-capability",
    "buffer-management-thread-count", "host-policy", "model-load-gpu-limit", "strict-model-config",
    "response-cache-byte-size", "trace-file", "trace-level", "trace-rate", "trace-count", "trace-log-frequency",
})
# Server flags the plugin owns in local mode (ports, repository, model control).
SERVER_OWNED = frozenset({
    "model-repository", "model-store", "http-port", "grpc-port", "metrics-port", "model-control-mode",
    "backend-directory", "load-model",
})

# Flags that name a file or directory (perf_analyzer's documented paths; request-intervals has its own reader in
# builder.py): relative ones are resolved against the YAML's directory, as every path of a profile is, since
# perf_analyzer and the server run in directories of their own. Those read must exist; those written must have
# their directory.
PERF_ANALYZER_READS = frozenset({
    INPUT_DATA_FLAG, "ssl-grpc-root-certifications-file", "ssl-grpc-private-key-file",
    "ssl-grpc-certificate-chain-file", "ssl-https-ca-certificates-file", "ssl-https-client-certificate-file",
    "ssl-https-private-key-file",
})
PERF_ANALYZER_WRITES = frozenset({"profile-export-file"})
INPUT_DATA_KEYWORDS = frozenset({"zero", "random"})  # input-data's values that are no path
SERVER_READS = frozenset({"repoagent-directory", "cache-directory", "grpc-server-cert", "grpc-server-key",
                          "grpc-root-cert"})
SERVER_WRITES = frozenset({"log-file", "trace-file"})

# Model Analyzer's measurement flags when the user gives none (config_defaults.DEFAULT_MEASUREMENT_MODE).
DEFAULT_PERF_FLAGS: dict[str, Any] = {"measurement-mode": "count_windows"}


def counts_requests(flags: Mapping[str, Any]) -> bool:
    """Whether perf_analyzer's windows end after a number of requests (`measurement-mode: count_windows`), so
    that a window's length depends on the model's speed, rather than after a time (`time_windows`, its own
    default)."""
    return str(flags.get("measurement-mode", "time_windows")) == "count_windows"


def effective_flags(flags: Mapping[str, Any]) -> dict[str, Any]:
    """The perf_analyzer flags a point is really measured with: the user's as given, or Model Analyzer's
    default when none are given. (Model Analyzer itself lays `measurement-mode: count_windows` under any
    flags, so a lone `measurement-interval` silently still measures count windows there; here the flags
    mean what perf_analyzer makes of them. Write `measurement-mode` to get the same command in both.)"""
    return dict(flags) if flags else dict(DEFAULT_PERF_FLAGS)


def parse_perf_flags(value: Any, key: str) -> dict[str, Any]:
    flags = v.parse_dict(value, key)
    result: dict[str, Any] = {}
    for name, item in flags.items():
        where = f"{key}.{name}"
        if name in PERF_ANALYZER_OWNED:
            raise ConfigError(where, "is set by the plugin for each point (use the profile's own keys)")
        if name not in PERF_ANALYZER_FLAGS:
            raise ConfigError(where, f"unknown perf_analyzer flag{suggest(name, PERF_ANALYZER_FLAGS)}")
        if isinstance(item, list):
            if name not in LIST_FLAGS:
                raise ConfigError(where, f"takes a single value, got the list {v.describe(item)}")
            result[name] = [v.parse_str(part, where) for part in item]
        elif isinstance(item, dict):
            raise ConfigError(where, f"expected a value, got the mapping {v.describe(item)}")
        else:
            result[name] = "" if item is None else (str(item).lower() if isinstance(item, bool) else str(item))
    return result


def parse_server_flags(value: Any, key: str) -> dict[str, str]:
    flags = v.parse_str_dict(value, key)
    normalised = {}
    for name, item in flags.items():
        flag = name.replace("_", "-")
        if flag in SERVER_OWNED:
            raise ConfigError(f"{key}.{name}", "is set by the plugin when it starts the server")
        if flag not in SERVER_FLAGS:
            # Model Analyzer refuses it in the config check; tritonserver would only refuse it at start.
            raise ConfigError(f"{key}.{name}", f"unknown tritonserver option{suggest(flag, SERVER_FLAGS)}")
        normalised[flag] = item
    return normalised


def resolve_path(value: str, base: Path) -> Path:
    """A path of the profile: `~` expanded, a relative one taken from `base` (the YAML's directory)."""
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else base / path


def _resolved(name: str, value: str, key: str, base: Path, reads: frozenset[str], writes: frozenset[str]) -> str:
    if name in reads and not (name == INPUT_DATA_FLAG and value in INPUT_DATA_KEYWORDS):
        path = resolve_path(value, base)
        if not path.exists():
            raise ConfigError(key, f"not found: {path}")
        return str(path)
    if name in writes:
        path = resolve_path(value, base)
        if not path.parent.is_dir():
            raise ConfigError(key, f"the directory of {path} does not exist")
        return str(path)
    return value


def resolve_perf_paths(flags: Mapping[str, Any], key: str, base: Path) -> dict[str, Any]:
    """The flags with every file or directory they name resolved against `base` and checked, and the content of
    input-data recorded beside it (INPUT_DATA_DIGEST, never passed): an edited input file is measured again, not
    taken from a checkpoint."""
    result = dict(flags)
    for name, value in flags.items():
        where = f"{key}.{name}"
        if isinstance(value, list):
            result[name] = [_resolved(name, item, where, base, PERF_ANALYZER_READS, PERF_ANALYZER_WRITES)
                            for item in value]
        else:
            result[name] = _resolved(name, value, where, base, PERF_ANALYZER_READS, PERF_ANALYZER_WRITES)
    data = result.get(INPUT_DATA_FLAG)
    paths = [Path(item) for item in (data if isinstance(data, list) else [data] if data else [])
             if item not in INPUT_DATA_KEYWORDS]
    if paths:
        try:
            result[INPUT_DATA_DIGEST] = v.files_digest(paths)
        except OSError as exc:
            raise ConfigError(f"{key}.{INPUT_DATA_FLAG}", f"cannot read {exc.filename}: {exc.strerror}") from None
    return result


def resolve_server_paths(flags: Mapping[str, str], key: str, base: Path) -> dict[str, str]:
    """The server flags with the files and directories they name resolved against `base` and checked."""
    return {name: _resolved(name, value, f"{key}.{name}", base, SERVER_READS, SERVER_WRITES)
            for name, value in flags.items()}
