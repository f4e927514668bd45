"""Parsers of a model's options that have a structure of their own: objectives, constraints, the SLO, a custom
load's file, `profile_models` and a model's name. Each returns the typed value or raises one ConfigError naming
the key; the profile builder (builder.py) calls them for the global options and for each model's own."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.config.flags import resolve_path
from pytest_model_analyzer.config.names import suggest
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.identity import digest
from pytest_model_analyzer.domain.latency import PER_REQUEST_QUANTITIES
from pytest_model_analyzer.domain.metrics import METRICS, resolve_alias


def parse_objectives(value: Any, key: str) -> dict[str, int]:
    if isinstance(value, str):
        value = v.parse_str_list(value, key)
    if isinstance(value, list):
        names = [name for name in value if isinstance(name, str)]
        if len(names) != len(value):
            raise ConfigError(key, f"expected metric names, got {v.describe(value)}")
        value = {name: 10 for name in names}
    if not isinstance(value, dict) or not value:
        raise ConfigError(key, f"expected a mapping of metric to weight or a list of metrics, got {v.describe(value)}")
    result = {}
    for name, weight in value.items():
        if name not in METRICS:
            raise ConfigError(f"{key}.{name}", f"unknown metric{suggest(str(name), METRICS)}")
        result[resolve_alias(name)] = v.parse_int(weight, f"{key}.{name}")
    return result


def parse_constraints(value: Any, key: str) -> dict[str, Bounds]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(key, f"expected a mapping of metric to {{min, max}}, got {v.describe(value)}")
    result = {}
    for name, bounds in value.items():
        where = f"{key}.{name}"
        if name not in METRICS:
            raise ConfigError(where, f"unknown metric{suggest(str(name), METRICS)}")
        if not isinstance(bounds, dict) or not bounds:
            raise ConfigError(where, f"expected {{min: N}} and/or {{max: N}}, got {v.describe(bounds)}")
        extra = set(bounds) - {"min", "max"}
        if extra:
            raise ConfigError(where, f"a constraint takes min and/or max, not {', '.join(map(str, extra))}")
        low = v.parse_float(bounds["min"], f"{where}.min") if "min" in bounds else None
        high = v.parse_float(bounds["max"], f"{where}.max") if "max" in bounds else None
        if low is not None and high is not None and low > high:
            raise ConfigError(where, f"min {low:g} is greater than max {high:g}")
        result[resolve_alias(name)] = Bounds(low, high)
    return result


def parse_slo(value: Any, key: str) -> dict[str, float]:
    """`slo: {request_latency: 50}`: each request's own bounds, in milliseconds (analysis/slo.py)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(key, "expected a mapping of a per-request latency to its bound in ms, e.g. "
                               "{request_latency: 50}")
    result = {}
    for quantity, bound in value.items():
        if quantity not in PER_REQUEST_QUANTITIES:
            hint = suggest(str(quantity), PER_REQUEST_QUANTITIES)
            raise ConfigError(f"{key}.{quantity}", f"not a per-request latency{hint} (an slo bounds "
                                                   f"{' or '.join(PER_REQUEST_QUANTITIES)}, in ms)")
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not bound > 0:
            raise ConfigError(f"{key}.{quantity}", f"must be a positive number of milliseconds, got {bound!r}")
        result[str(quantity)] = float(bound)
    return result


def check_stimulus(value: str, key: str, base: Path) -> tuple[str, str]:
    """perf_analyzer_flags.request-intervals: the file of a custom load, one interval in microseconds a line
    (perf_analyzer's format); returns its absolute path (perf_analyzer runs in a directory of its own) and a
    digest of its intervals."""
    path = resolve_path(value, base)
    lines = v.read_lines(path, key)
    intervals = [(number, line.strip()) for number, line in enumerate(lines, 1) if line.strip()]
    if not intervals:
        raise ConfigError(key, f"{path} holds no interval (one a line, in microseconds)")
    for number, text in intervals:
        if not text.isdigit() or int(text) <= 0:
            raise ConfigError(key, f"{path} line {number}: expected an interval in microseconds (a positive "
                                   f"integer), got {text[:40]!r}")
    return str(path), digest([text for _, text in intervals])


def merge_shorthands(constraints: dict[str, Bounds], settings: Mapping[str, Any]) -> dict[str, Bounds]:
    """`latency_budget` and `min_throughput` apply to every model, as in Model Analyzer."""
    merged = dict(constraints)
    if settings["latency_budget"] is not None:
        old = merged.get("perf_latency_p99", Bounds())
        merged["perf_latency_p99"] = Bounds(old.min, float(settings["latency_budget"]))
    if settings["min_throughput"] is not None:
        old = merged.get("perf_throughput", Bounds())
        merged["perf_throughput"] = Bounds(float(settings["min_throughput"]), old.max)
    return merged


def normalise_profile_models(value: Any, key: str) -> dict[str, dict[str, Any]]:
    """Comma string, list of names, mixed list, or mapping -> {name: per-model options}."""
    if value is None:
        raise ConfigError(key, "no models to profile: set profile_models (or --ma-profile-models)")
    if isinstance(value, str):
        names = v.parse_str_list(value, key)
        models: dict[str, dict[str, Any]] = {name: {} for name in names}
    elif isinstance(value, list):
        models = {}
        for index, item in enumerate(value):
            if isinstance(item, dict):
                for name, options in item.items():
                    models[str(name)] = v.parse_dict(options, f"{key}.{name}")
            else:
                models[v.parse_str(item, f"{key}[{index}]")] = {}
    elif isinstance(value, dict):
        models = {str(name): v.parse_dict(options, f"{key}.{name}") for name, options in value.items()}
    else:
        raise ConfigError(key, f"expected a list, mapping or comma-delimited string, got {v.describe(value)}")
    if not models:
        raise ConfigError(key, "the list of models is empty")
    for name in models:
        check_model_name(name, f"{key}.{name}" if name else key)
    return models


def check_model_name(name: str, key: str) -> None:
    """A model name is a directory of the model repository, and names files the plugin writes (the output
    repository's `<name>_config_<n>`): one path component, never `.` or `..`, no separator."""
    if name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ConfigError(key, f"`{name}` is not a model name: a model is one directory of the model repository")
