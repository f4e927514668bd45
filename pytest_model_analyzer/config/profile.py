"""Builds a validated ProfileConfig from a parsed YAML mapping and command-line overrides.

Precedence is Model Analyzer's: command line over YAML over defaults. Per-model options inherit the global
ones as Model Analyzer's `_autofill_values` does. Relative paths written in the YAML are resolved against the
YAML file's directory (the pytest way: a suite can be run from anywhere); those given on the command line
against the current directory; defaults against the current directory (as Model Analyzer does).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.config.errors import ConfigError
from pytest_model_analyzer.config.options import (
    LAUNCH_MODES,
    MODEL_KEYS,
    OPTIONS,
    PARAMETER_KEYS,
    SEARCH_MODES,
)
from pytest_model_analyzer.config.variants import Variant, make_variants, name_variants
from pytest_model_analyzer.metrics import METRICS, resolve_alias
from pytest_model_analyzer.search.space import doubled

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


@dataclass(frozen=True)
class Bounds:
    """A constraint on one metric: the value must be >= min and <= max (either may be absent)."""

    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class ModelSpec:
    name: str
    cpu_only: bool
    batch_sizes: tuple[int, ...]
    concurrency: tuple[int, ...]
    request_rate: tuple[int, ...]
    variants: tuple[Variant, ...]
    perf_analyzer_flags: Mapping[str, Any]
    triton_server_flags: Mapping[str, str]
    triton_server_environment: Mapping[str, str]
    objectives: Mapping[str, int]
    constraints: Mapping[str, Bounds]
    weighting: int = 1
    search: str = "disabled"  # "disabled", "manual" (brute over model_config_parameters), "automatic", "quick"
    early_exit_loads: bool = False  # stop a load sweep on its plateau
    early_exit_batch: bool = False  # stop a max_batch_size sweep when throughput stops rising
    extra_loads: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # per variant (quick's formula)
    quick_sweep: bool = True  # quick: sweep the load of the top configurations afterwards

    def loads_for(self, variant: str) -> tuple[int, ...]:
        return tuple(sorted(set(self.load_values) | set(self.extra_loads.get(variant, ()))))

    @property
    def load_kind(self) -> str:
        """`concurrency` or `request_rate`: what the client load values of this model are."""
        return "request_rate" if self.request_rate else "concurrency"

    @property
    def load_values(self) -> tuple[int, ...]:
        return self.request_rate or self.concurrency


@dataclass(frozen=True)
class ProfileConfig:
    settings: Mapping[str, Any]
    models: tuple[ModelSpec, ...]
    source: Path | None = None
    explicit: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]

    def remote_endpoints(self, slot: int | None) -> tuple[str, str, str]:
        """(http, grpc, metrics URL) of the remote server for an xdist worker slot (or the only one)."""
        s = self.settings
        if s["triton_grpc_endpoints"] is None:
            return s["triton_http_endpoint"], s["triton_grpc_endpoint"], s["triton_metrics_url"]
        index = slot or 0
        metrics = s["triton_metrics_urls"][index] if s["triton_metrics_urls"] else ""
        return s["triton_http_endpoints"][index], s["triton_grpc_endpoints"][index], metrics

    @property
    def gpu_bound(self) -> bool:
        """Whether some model measures on GPUs (local mode): then each xdist worker needs a GPU of its own."""
        return self.settings["triton_launch_mode"] == "local" and not all(m.cpu_only for m in self.models)

    @property
    def model_repository(self) -> Path:
        return Path(self.settings["model_repository"])


def _suggest(key: str, known: Any) -> str:
    candidates = difflib.get_close_matches(key.replace("-", "_"), list(known), n=1, cutoff=0.7)
    return f" (did you mean `{candidates[0]}`?)" if candidates else ""


def _check_keys(raw: Mapping[str, Any], known: Any, where: str) -> None:
    for key in raw:
        if key not in known:
            name = f"{where}.{key}" if where else str(key)
            raise ConfigError(name, f"unknown option{_suggest(str(key), known)}")


def _resolve_path(value: str, base: Path) -> str:
    path = Path(os.path.expanduser(value))
    return str(path if path.is_absolute() else (base / path))


def _resolve_executable_path(value: str, base: Path) -> str:
    """A bare name (`perf_analyzer`) is looked up on PATH later; a path is resolved like any other."""
    return _resolve_path(value, base) if os.sep in value else value


def resolve_settings(
    raw: Mapping[str, Any], cli: Mapping[str, Any], config_dir: Path, cwd: Path
) -> tuple[dict[str, Any], frozenset[str]]:
    """Every option's value (CLI over YAML over default), parsed; and which were set explicitly."""
    _check_keys(raw, OPTIONS, "")
    settings: dict[str, Any] = {}
    for key, option in OPTIONS.items():
        if key in cli:
            value, base = option.parse(cli[key], key), cwd
        elif key in raw and raw[key] is not None:
            value, base = option.parse(raw[key], key), config_dir
        else:
            value, base = option.default, cwd
        if option.path and isinstance(value, str):
            executable = key in ("triton_server_path", "perf_analyzer_path")
            value = (_resolve_executable_path if executable else _resolve_path)(value, base)
        settings[key] = value
    explicit = frozenset(key for key in OPTIONS if key in cli or (key in raw and raw[key] is not None))
    return settings, explicit


def _parse_objectives(value: Any, key: str) -> dict[str, int]:
    if isinstance(value, str):
        value = v.parse_str_list(value, key)
    if isinstance(value, list):
        value = {name: 10 for name in value}
    if not isinstance(value, dict) or not value:
        raise ConfigError(key, f"expected a mapping of metric to weight or a list of metrics, got {value!r}")
    result = {}
    for name, weight in value.items():
        if name not in METRICS:
            raise ConfigError(f"{key}.{name}", f"unknown metric{_suggest(str(name), METRICS)}")
        result[resolve_alias(name)] = v.parse_int(weight, f"{key}.{name}")
    return result


def _parse_constraints(value: Any, key: str) -> dict[str, Bounds]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(key, f"expected a mapping of metric to {{min, max}}, got {value!r}")
    result = {}
    for name, bounds in value.items():
        where = f"{key}.{name}"
        if name not in METRICS:
            raise ConfigError(where, f"unknown metric{_suggest(str(name), METRICS)}")
        if not isinstance(bounds, dict) or not bounds:
            raise ConfigError(where, f"expected {{min: N}} and/or {{max: N}}, got {bounds!r}")
        extra = set(bounds) - {"min", "max"}
        if extra:
            raise ConfigError(where, f"a constraint takes min and/or max, not {', '.join(map(str, extra))}")
        low = v.parse_float(bounds["min"], f"{where}.min") if "min" in bounds else None
        high = v.parse_float(bounds["max"], f"{where}.max") if "max" in bounds else None
        if low is not None and high is not None and low > high:
            raise ConfigError(where, f"min {low:g} is greater than max {high:g}")
        result[resolve_alias(name)] = Bounds(low, high)
    return result


def _merge_shorthands(constraints: dict[str, Bounds], settings: Mapping[str, Any]) -> dict[str, Bounds]:
    """`latency_budget` and `min_throughput` apply to every model, as in Model Analyzer."""
    merged = dict(constraints)
    if settings["latency_budget"] is not None:
        old = merged.get("perf_latency_p99", Bounds())
        merged["perf_latency_p99"] = Bounds(old.min, float(settings["latency_budget"]))
    if settings["min_throughput"] is not None:
        old = merged.get("perf_throughput", Bounds())
        merged["perf_throughput"] = Bounds(float(settings["min_throughput"]), old.max)
    return merged


def _parse_perf_flags(value: Any, key: str) -> dict[str, Any]:
    flags = v.parse_dict(value, key)
    result: dict[str, Any] = {}
    for name, item in flags.items():
        where = f"{key}.{name}"
        if name in PERF_ANALYZER_OWNED:
            raise ConfigError(where, "is set by the plugin for each point (use the profile's own keys)")
        if name not in PERF_ANALYZER_FLAGS:
            raise ConfigError(where, f"unknown perf_analyzer flag{_suggest(name, PERF_ANALYZER_FLAGS)}")
        if isinstance(item, list):
            if name not in LIST_FLAGS:
                raise ConfigError(where, f"takes a single value, got the list {item!r}")
            result[name] = [v.parse_str(part, where) for part in item]
        elif isinstance(item, dict):
            raise ConfigError(where, f"expected a value, got the mapping {item!r}")
        else:
            result[name] = "" if item is None else (str(item).lower() if isinstance(item, bool) else str(item))
    return result


def _parse_server_flags(value: Any, key: str) -> dict[str, str]:
    flags = v.parse_str_dict(value, key)
    normalised = {}
    for name, item in flags.items():
        flag = name.replace("_", "-")
        if flag in SERVER_OWNED:
            raise ConfigError(f"{key}.{name}", "is set by the plugin when it starts the server")
        normalised[flag] = item
    return normalised


def _normalise_profile_models(value: Any, key: str) -> dict[str, dict[str, Any]]:
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
        raise ConfigError(key, f"expected a list, mapping or comma-delimited string, got {value!r}")
    if not models:
        raise ConfigError(key, "the list of models is empty")
    return models


def _check_modes(settings: Mapping[str, Any]) -> None:
    mode = settings["triton_launch_mode"]
    if mode not in LAUNCH_MODES:
        raise ConfigError("triton_launch_mode", f"must be one of {', '.join(LAUNCH_MODES)}, got `{mode}`")
    if mode in ("docker", "c_api"):
        raise ConfigError("triton_launch_mode", f"`{mode}` is not supported yet; use local or remote")
    if settings["client_protocol"] not in ("grpc", "http"):
        raise ConfigError("client_protocol", f"must be grpc or http, got `{settings['client_protocol']}`")
    search = settings["run_config_search_mode"]
    if search not in SEARCH_MODES:
        raise ConfigError("run_config_search_mode", f"must be one of {', '.join(SEARCH_MODES)}, got `{search}`")
    if search == "optuna":
        raise ConfigError("run_config_search_mode", "`optuna` is not supported yet; use brute or quick")
    if settings["model_type"] != "generic":
        raise ConfigError("model_type", f"`{settings['model_type']}` is not supported yet; use generic")
    if settings["dcgm_disable"] and mode != "remote":
        raise ConfigError("dcgm_disable", "is only allowed with triton_launch_mode: remote")
    if settings["weighting"] is not None:
        raise ConfigError("weighting", "is a per-model option: set it under profile_models.<model>")
    for name in ("concurrency", "request_rate", "instance_count", "model_batch_size"):
        lo, hi = settings[f"run_config_search_min_{name}"], settings[f"run_config_search_max_{name}"]
        if lo <= 0 or lo > hi:
            raise ConfigError(f"run_config_search_min_{name}", f"must be between 1 and max ({hi}), got {lo}")
    lists = {key: settings[key] for key in ("triton_http_endpoints", "triton_grpc_endpoints", "triton_metrics_urls")
             if settings[key] is not None}
    if lists:
        if mode != "remote":
            raise ConfigError(next(iter(lists)), "endpoint lists are for triton_launch_mode: remote")
        if "triton_http_endpoints" not in lists or "triton_grpc_endpoints" not in lists:
            raise ConfigError(next(iter(lists)), "set both triton_http_endpoints and triton_grpc_endpoints")
        lengths = {key: len(value) for key, value in lists.items()}
        if len(set(lengths.values())) > 1:
            raise ConfigError("triton_grpc_endpoints", f"the endpoint lists differ in length: {lengths}")
    if settings["perf_analyzer_timeout"] <= 0:
        raise ConfigError("perf_analyzer_timeout", "must be a positive number of seconds")
    if settings["monitoring_interval"] <= 0:
        raise ConfigError("monitoring_interval", "must be a positive number of seconds")


def _check_load_exclusive(concurrency: Any, request_rate: Any, where: str) -> None:
    if concurrency and request_rate:
        raise ConfigError(where, "concurrency and request_rate cannot both be set: choose one load type")


def _check_repository(settings: Mapping[str, Any], models: Mapping[str, Any]) -> None:
    repo = settings["model_repository"]
    if repo is None:
        if settings["triton_launch_mode"] == "remote":
            return
        raise ConfigError("model_repository", "is required: the Triton model repository to profile")
    path = Path(repo)
    if not path.is_dir():
        raise ConfigError("model_repository", f"directory not found: {repo}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ConfigError("model_repository", f"directory not readable: {repo}")
    for name in models:
        if not (path / name).is_dir():
            available = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
            raise ConfigError(
                f"profile_models.{name}",
                f"model not found in {repo} (available: {', '.join(available) or 'none'})",
            )


def _build_model(name: str, raw: Mapping[str, Any], settings: Mapping[str, Any], cpu_default: bool,
                 from_cli: frozenset[str] = frozenset(), explicit: frozenset[str] = frozenset()) -> ModelSpec:
    where = f"profile_models.{name}"
    _check_keys(raw, MODEL_KEYS, where)
    for key in ("genai_perf_flags", "triton_docker_args"):
        if raw.get(key) is not None:
            raise ConfigError(f"{where}.{key}", OPTIONS[key].unsupported)
    params = v.parse_dict(raw.get("parameters"), f"{where}.parameters")
    _check_keys(params, PARAMETER_KEYS, f"{where}.parameters")
    parsed = {
        key: v.parse_positive_int_list(params[key], f"{where}.parameters.{key}")
        for key in PARAMETER_KEYS if params.get(key) is not None
    }
    # A value typed on the command line is the most specific intent: it beats per-model YAML values too.
    for key in PARAMETER_KEYS:
        if key in from_cli:
            parsed[key] = settings[key]
    if "concurrency" in from_cli:
        parsed.pop("request_rate", None)
    if "request_rate" in from_cli:
        parsed.pop("concurrency", None)
    _check_load_exclusive(parsed.get("concurrency"), parsed.get("request_rate"), f"{where}.parameters")
    batch_sizes = parsed.get("batch_sizes", settings["batch_sizes"])
    concurrency = parsed.get("concurrency")
    request_rate = parsed.get("request_rate")
    if concurrency is None and request_rate is None:
        concurrency, request_rate = settings["concurrency"], settings["request_rate"]
    if not concurrency and not request_rate:
        if settings["run_config_search_disable"]:
            concurrency = [1]
        elif settings["request_rate_search_enable"]:
            request_rate = list(doubled(settings["run_config_search_min_request_rate"],
                                         settings["run_config_search_max_request_rate"]))
        else:
            concurrency = list(doubled(settings["run_config_search_min_concurrency"],
                                        settings["run_config_search_max_concurrency"]))
    objectives = _parse_objectives(raw.get("objectives", settings["objectives"]), f"{where}.objectives")
    constraints = _parse_constraints(raw.get("constraints", settings["constraints"]), f"{where}.constraints")
    pa_flags = _parse_perf_flags(raw.get("perf_analyzer_flags", settings["perf_analyzer_flags"]),
                                 f"{where}.perf_analyzer_flags")
    server_flags = _parse_server_flags(raw.get("triton_server_flags", settings["triton_server_flags"]),
                                       f"{where}.triton_server_flags")
    environment = v.parse_str_dict(raw.get("triton_server_environment", settings["triton_server_environment"]),
                                   f"{where}.triton_server_environment")
    weighting = v.parse_int(raw.get("weighting", 1), f"{where}.weighting")
    cpu_only = v.parse_bool(raw.get("cpu_only", cpu_default), f"{where}.cpu_only")
    user_loads = bool(parsed.get("concurrency") or parsed.get("request_rate") or settings["concurrency"]
                      or settings["request_rate"])
    search, variants, extra_loads = _search_space(name, raw, settings, cpu_only, where, user_loads, explicit)
    if search == "quick" and settings["concurrency_sweep_disable"]:
        concurrency, request_rate = [], []  # each variant at its formula load only, no sweep of the top ones
    return ModelSpec(
        name=name,
        cpu_only=cpu_only,
        batch_sizes=tuple(sorted(set(batch_sizes))),
        concurrency=tuple(sorted(set(concurrency or ()))),
        request_rate=tuple(sorted(set(request_rate or ()))),
        variants=tuple(variants),
        perf_analyzer_flags=pa_flags,
        triton_server_flags=server_flags,
        triton_server_environment=environment,
        objectives=objectives,
        constraints=_merge_shorthands(constraints, settings),
        weighting=weighting,
        search=search,
        early_exit_loads=search != "disabled" and (not user_loads or settings["early_exit_enable"]),
        early_exit_batch=search == "automatic" or (search == "manual" and settings["early_exit_enable"]),
        extra_loads=extra_loads,
        quick_sweep=not settings["concurrency_sweep_disable"],
    )


def _search_space(name: str, raw: Mapping[str, Any], settings: Mapping[str, Any], cpu_only: bool, where: str,
                  user_loads: bool, explicit: frozenset[str]) -> tuple[str, list[Variant], dict[str, tuple[int, ...]]]:
    """(search mode, variants, extra loads per variant) of one model, as Model Analyzer builds them."""
    from pytest_model_analyzer.repository import ModelConfigError, read_model_config
    from pytest_model_analyzer.search.space import automatic_parameters, quick_concurrency

    key = f"{where}.model_config_parameters"
    parameters = raw.get("model_config_parameters")
    mode = settings["run_config_search_mode"]
    if settings["run_config_search_disable"]:
        return "disabled", make_variants(name, parameters, key), {}
    if mode == "brute" and parameters:
        return "manual", make_variants(name, parameters, key), {}
    fixed: dict[str, Any] = {}
    if mode == "quick":
        if user_loads:
            raise ConfigError("concurrency", "quick search chooses the load of each configuration: leave "
                              "concurrency/request_rate unset (or use run_config_search_mode: brute)")
        combos = [combo for combo in make_variants(name, parameters, key)[1:]]
        if len(combos) > 1:
            raise ConfigError(key, "quick search takes model_config_parameters with one value each (it searches "
                              "max_batch_size and instance_group itself)")
        fixed = dict(combos[0].parameters) if combos else {}
        for field_name in ("max_batch_size", "instance_group"):
            if field_name in fixed:
                raise ConfigError(f"{key}.{field_name}", "quick search searches this field itself")
    repo = settings["model_repository"]
    try:
        base = read_model_config(Path(repo), name) if repo else {}
    except ModelConfigError as exc:
        raise ConfigError(f"profile_models.{name}", str(exc)) from None
    variants = name_variants(name, automatic_parameters(base, settings, cpu_only, fixed))
    if mode != "quick":
        return "automatic", variants, {}
    loads = {variant.name: (quick_concurrency(variant.parameters or fixed, base, settings, explicit),)
             for variant in variants}
    return "quick", variants, loads


def _unsupported_warnings(explicit: frozenset[str], settings: Mapping[str, Any]) -> list[str]:
    notes = []
    for key in sorted(explicit):
        option = OPTIONS[key]
        if option.unsupported and settings[key] != option.default:
            notes.append(f"`{key}` is accepted but has no effect: {option.unsupported}")
    return notes


def build_profile(
    raw: Any,
    cli: Mapping[str, Any] | None = None,
    config_dir: Path | None = None,
    cwd: Path | None = None,
    source: Path | None = None,
    gpus_available: bool = False,
) -> ProfileConfig:
    """Validate everything up front; any problem is one ConfigError naming its key."""
    cli = cli or {}
    cwd = cwd or Path.cwd()
    config_dir = config_dir or cwd
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("", f"the profile must be a mapping of option to value, got {type(raw).__name__}")
    _check_keys(raw, OPTIONS, "")
    settings, explicit = resolve_settings(raw, cli, config_dir, cwd)
    _check_modes(settings)
    _check_load_exclusive(settings["concurrency"], settings["request_rate"], "concurrency")
    if settings["request_rate"] is None and settings["request_rate_search_enable"] and settings["concurrency"]:
        raise ConfigError("request_rate_search_enable", "cannot be combined with concurrency")
    if settings["num_top_model_configs"] > 0 and not settings["constraints"] and (
            settings["latency_budget"] is None and settings["min_throughput"] is None):
        raise ConfigError("num_top_model_configs", "needs global constraints to rank models against each other")
    # Checked once globally so that the error names the global key, not every model.
    _parse_objectives(settings["objectives"], "objectives")
    _parse_constraints(settings["constraints"], "constraints")
    _parse_perf_flags(settings["perf_analyzer_flags"], "perf_analyzer_flags")
    _parse_server_flags(settings["triton_server_flags"], "triton_server_flags")

    models_raw = _normalise_profile_models(raw.get("profile_models"), "profile_models")
    if "profile_models" in cli:
        # The command line picks models; per-model options written in the YAML still apply to them.
        chosen = _normalise_profile_models(cli["profile_models"], "profile_models")
        models_raw = {name: models_raw.get(name, {}) for name in chosen}
    _check_repository(settings, models_raw)
    remote = settings["triton_launch_mode"] == "remote"
    cpu_default = not gpus_available and not remote
    from_cli = frozenset(cli)
    models = tuple(_build_model(name, options, settings, cpu_default, from_cli, explicit)
                   for name, options in models_raw.items())
    kinds = {model.load_kind for model in models}
    if len(kinds) > 1:
        raise ConfigError("profile_models", "mixes request_rate models with concurrency models: use one load type")

    warnings = _unsupported_warnings(explicit, settings)
    return ProfileConfig(settings=settings, models=models, source=source, explicit=explicit,
                         warnings=tuple(warnings))
