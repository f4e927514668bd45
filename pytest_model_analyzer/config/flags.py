"""perf_analyzer and tritonserver flags: which a user may set, which the plugin owns, and the default.

Model Analyzer's default measurement flags (`measurement-mode: count_windows`) apply when the user gives none;
`effective_flags` is the one place that rule lives, applied once when a model's spec is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.config.names import suggest
from pytest_model_analyzer.domain.errors import ConfigError

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
    "extra-verbose", "verbose-csv", "latency-report-file",
})
# Set by the plugin for every point; a user value would make the point mean something else.
PERF_ANALYZER_OWNED = frozenset({
    "model-name", "batch-size", "url", "protocol", "concurrency-range", "request-rate-range",
    "triton-server-directory", "model-repository", "bls-composing-models",
})
LIST_FLAGS = frozenset({"shape", "input-data", "http-header"})
# Server flags the plugin owns in local mode (ports, repository, model control).
SERVER_OWNED = frozenset({
    "model-repository", "model-store", "http-port", "grpc-port", "metrics-port", "model-control-mode",
    "backend-directory", "load-model",
})

# Model Analyzer's measurement flags when the user gives none (config_defaults.DEFAULT_MEASUREMENT_MODE).
DEFAULT_PERF_FLAGS: dict[str, Any] = {"measurement-mode": "count_windows"}


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
        # tritonserver takes any unique prefix of an option (getopt_long): `model-repo` is --model-repository.
        abbreviated = sorted(owned for owned in SERVER_OWNED if owned.startswith(flag))
        if abbreviated:
            raise ConfigError(f"{key}.{name}", f"tritonserver reads `{flag}` as an abbreviation of "
                                               f"`{abbreviated[0]}`, which the plugin sets when it starts the server")
        normalised[flag] = item
    return normalised
