"""Builds a validated ProfileConfig from a parsed YAML mapping and command-line overrides.

Precedence is Model Analyzer's: command line over YAML over defaults. Per-model options inherit the global
ones as Model Analyzer's `_autofill_values` does. Each model's config.pbtxt is read here, once. The variants
of an automatic search are planned on top of this by the search layer (search/plan.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.config.flags import (
    effective_flags,
    parse_perf_flags,
    parse_server_flags,
    resolve_path,
    resolve_perf_paths,
    resolve_server_paths,
)
from pytest_model_analyzer.config.llm import (
    LLM,
    LLMSpec,
    check_generic,
    is_decoupled,
    llm_flags,
    llm_spec,
    parse_genai_perf_flags,
)
from pytest_model_analyzer.config.model_config import (
    EXPORT_VALUES_LIMIT,
    ModelConfigError,
    read_model_config,
    request_values,
)
from pytest_model_analyzer.config.names import check_keys, suggest
from pytest_model_analyzer.config.options import MODEL_KEYS, OPTIONS, PARAMETER_KEYS
from pytest_model_analyzer.config.profile import ComposingModel, ModelSpec, ProfileConfig
from pytest_model_analyzer.config.run_settings import RunSettings
from pytest_model_analyzer.config.search_settings import OptunaSettings, SearchMode, SearchRanges, SearchStrategy
from pytest_model_analyzer.config.settings import (
    check_load_conflicts,
    check_load_exclusive,
    check_modes,
    check_output_parents,
    check_quick_search,
    check_repository,
    resolve_settings,
    unsupported_warnings,
)
from pytest_model_analyzer.config.together import KEY as CONCURRENT
from pytest_model_analyzer.config.together import check_search, combine
from pytest_model_analyzer.config.variants import Variant, default_variant_name, make_variants
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.identity import INPUT_DATA_FLAG, INTERVALS_DIGEST, INTERVALS_FLAG, digest
from pytest_model_analyzer.domain.latency import PER_REQUEST_QUANTITIES, TOKEN_QUANTITIES
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


@dataclass(frozen=True)
class _Loads:
    """A model's batch sizes and load values, and whether the user chose the loads (Model Analyzer's rules
    for early exits, the binary search and the formula load depend on it)."""

    batch_sizes: list[int]
    concurrency: list[int] | None
    request_rate: list[int] | None
    user_concurrency: bool  # the user listed concurrencies (for this model or globally)
    user_loads: bool  # the user listed concurrencies or request rates


def _model_loads(raw: Mapping[str, Any], settings: Mapping[str, Any], where: str, from_cli: frozenset[str],
                 request_rate_search: bool) -> _Loads:
    """`profile_models.<model>.parameters` over the global values, the command line over both; without any,
    the search's doubling range (or concurrency 1 with the search off)."""
    params = v.parse_dict(raw.get("parameters"), f"{where}.parameters")
    check_keys(params, PARAMETER_KEYS, f"{where}.parameters")
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
    check_load_exclusive(parsed.get("concurrency"), parsed.get("request_rate"), f"{where}.parameters")
    if parsed.get("concurrency") and settings["request_rate"] and "request_rate" not in parsed \
            and "concurrency" not in from_cli:
        # Model Analyzer fills the global request_rate in beside the model's own concurrency and refuses both.
        raise ConfigError(f"{where}.parameters.concurrency", "cannot be combined with the global request_rate: "
                          "choose one load type")
    batch_sizes = parsed.get("batch_sizes", settings["batch_sizes"])
    concurrency = parsed.get("concurrency")
    request_rate = parsed.get("request_rate")
    if concurrency is None and request_rate is None:
        concurrency, request_rate = settings["concurrency"], settings["request_rate"]
    user_concurrency = bool(concurrency)
    if not concurrency and not request_rate:
        if settings["run_config_search_disable"]:
            concurrency = [1]
        elif request_rate_search:
            request_rate = list(v.doubled(settings["run_config_search_min_request_rate"],
                                         settings["run_config_search_max_request_rate"]))
        else:
            concurrency = list(v.doubled(settings["run_config_search_min_concurrency"],
                                        settings["run_config_search_max_concurrency"]))
    user_loads = bool(parsed.get("concurrency") or parsed.get("request_rate") or settings["concurrency"]
                      or settings["request_rate"])
    return _Loads(batch_sizes, concurrency, request_rate, user_concurrency, user_loads)


def _small_requests(base_config: Mapping[str, Any], batch_sizes: list[int]) -> bool:
    values = request_values(dict(base_config), max(batch_sizes, default=1))
    return values is not None and values <= EXPORT_VALUES_LIMIT


def build_model(name: str, raw: Mapping[str, Any], settings: Mapping[str, Any], cpu_default: bool,
                 from_cli: frozenset[str] = frozenset(), request_rate_search: bool = False,
                 explicit: frozenset[str] = frozenset(), config_dir: Path | None = None) -> ModelSpec:
    """One model's spec. `cpu_default` forces cpu_only (no GPU and not remote: Model Analyzer's
    `_autofill_values` ORs it into every model's own value); `request_rate_search` is
    `request_rate_search_enable` or an explicit min/max request rate (its `_using_request_rate`)."""
    where = f"profile_models.{name}"
    check_keys(raw, MODEL_KEYS, where)
    if raw.get("triton_docker_args") is not None:
        raise ConfigError(f"{where}.triton_docker_args", OPTIONS["triton_docker_args"].unsupported)
    loads = _model_loads(raw, settings, where, from_cli, request_rate_search)
    batch_sizes, concurrency, request_rate = loads.batch_sizes, loads.concurrency, loads.request_rate
    user_concurrency, user_loads = loads.user_concurrency, loads.user_loads
    objectives = parse_objectives(raw.get("objectives", settings["objectives"]), f"{where}.objectives")
    constraints = merge_shorthands(parse_constraints(raw.get("constraints", settings["constraints"]),
                                                     f"{where}.constraints"), settings)
    slo = parse_slo(raw.get("slo", settings["slo"]), f"{where}.slo" if "slo" in raw else "slo")
    pa_flags = parse_perf_flags(raw.get("perf_analyzer_flags", settings["perf_analyzer_flags"]),
                                 f"{where}.perf_analyzer_flags")
    flags_key = f"{where}.perf_analyzer_flags" if "perf_analyzer_flags" in raw else "perf_analyzer_flags"
    base = config_dir or Path.cwd()  # what the profile's relative paths are relative to
    if settings["model_type"] == LLM and INPUT_DATA_FLAG in pa_flags:
        raise ConfigError(f"{flags_key}.{INPUT_DATA_FLAG}", "model_type LLM builds every request from "
                          "genai_perf_flags (prompts, output tokens): remove input-data, or give prompts as "
                          "input-dataset")
    pa_flags = resolve_perf_paths(pa_flags, flags_key, base)
    custom_load = ""
    if pa_flags.get(INTERVALS_FLAG):
        key = f"{flags_key}.{INTERVALS_FLAG}"
        custom_load, intervals_digest = check_stimulus(pa_flags[INTERVALS_FLAG], key, base)
        if user_loads:
            raise ConfigError(key, "a custom load replaces the concurrency and request_rate sweep: remove them "
                                   "(one point per config, as in Model Analyzer)")
        pa_flags = {**pa_flags, INTERVALS_FLAG: custom_load, INTERVALS_DIGEST: intervals_digest}
        concurrency, request_rate, user_concurrency = [], [], False
    server_key = f"{where}.triton_server_flags" if "triton_server_flags" in raw else "triton_server_flags"
    server_flags = resolve_server_paths(parse_server_flags(raw.get("triton_server_flags",
                                                                   settings["triton_server_flags"]), server_key),
                                        server_key, base)
    environment = v.parse_str_dict(raw.get("triton_server_environment", settings["triton_server_environment"]),
                                   f"{where}.triton_server_environment")
    weighting = v.parse_int(raw.get("weighting", 1), f"{where}.weighting")
    cpu_only = v.parse_bool(raw.get("cpu_only", False), f"{where}.cpu_only") or cpu_default
    base_config = _base_config(settings, name)
    composing = _composing_models(name, base_config, settings, cpu_default)
    search, variants, fixed = _search_mode(name, raw, settings, where, user_loads, base_config, composing,
                                           explicit)
    llm = _llm(name, raw, settings, where, pa_flags, base_config, composing, search, base)
    tokens = [quantity for quantity in slo if quantity in TOKEN_QUANTITIES]
    if tokens and (llm is None or not llm.streaming):
        raise ConfigError(f"{where}.slo" if "slo" in raw else "slo", f"{tokens[0]} is a streaming LLM's (model_type: "
                          f"LLM, its responses streamed): `{name}` has no tokens to time")
    if composing:
        # Every listed variant loads the composing models as the repository has them.
        defaults = tuple((model.name, Variant(default_variant_name(model.name), {}, default=True))
                         for model in composing)
        variants = [Variant(variant.name, variant.parameters, variant.default, defaults) for variant in variants]
    if custom_load and search in (SearchMode.QUICK, SearchMode.OPTUNA):
        raise ConfigError(f"{flags_key}.{INTERVALS_FLAG}", f"a custom load with run_config_search_mode "
                          f"{settings['run_config_search_mode'].value} is not supported yet (use brute)")
    optuna = None
    if search is SearchMode.OPTUNA:
        optuna, fixed = _optuna_settings(name, raw.get("model_config_parameters"), settings, explicit, where,
                                         base_config, user_loads)
    formula_only = search is SearchMode.QUICK or (optuna is not None and optuna.concurrency_formula)
    if formula_only and settings["concurrency_sweep_disable"]:
        concurrency, request_rate = [], []  # each variant at its formula load only, no sweep of the top ones
    return ModelSpec(
        name=name,
        cpu_only=cpu_only,
        batch_sizes=tuple(sorted(set(batch_sizes))),
        concurrency=tuple(sorted(set(concurrency or ()))),
        request_rate=tuple(sorted(set(request_rate or ()))),
        variants=tuple(variants),
        perf_analyzer_flags={**effective_flags(pa_flags), **(llm_flags(llm) if llm else {})},
        triton_server_flags=server_flags,
        triton_server_environment=environment,
        objectives=objectives,
        constraints=constraints,
        slo=slo,
        stimulus=custom_load,
        export_requests=bool(slo) or llm is not None or _small_requests(base_config, batch_sizes),
        llm=llm,
        weighting=weighting,
        base_config=base_config,
        search=search,
        fixed_parameters=fixed,
        # Model Analyzer stops a load sweep on its plateau unless the user listed concurrencies
        # (ModelRunConfigGenerator: `early_exit_enable or not concurrency_specified`): listed request rates
        # may stop early too.
        early_exit_loads=(settings["early_exit_enable"] or not user_concurrency)
        and len(concurrency or request_rate or ()) > 1,
        early_exit_batch=search is SearchMode.AUTOMATIC or (search is SearchMode.MANUAL
                                                            and settings["early_exit_enable"]),
        quick_sweep=not settings["concurrency_sweep_disable"],
        top_configs=settings["num_configs_per_model"],
        # Model Analyzer's BrutePlusBinaryParameterSearch: only over loads it chose itself, and only a model
        # with constraints has a boundary to find.
        binary_search_steps=(settings["run_config_search_max_binary_search_steps"]
                             if search in (SearchMode.AUTOMATIC, SearchMode.MANUAL) and not user_loads
                             and constraints and not custom_load else 0),
        optuna=optuna,
        composing=composing,
    )


def _llm(name: str, raw: Mapping[str, Any], settings: Mapping[str, Any], where: str, pa_flags: Mapping[str, Any],
         base_config: Mapping[str, Any], composing: tuple[ComposingModel, ...], search: SearchMode,
         config_dir: Path) -> LLMSpec | None:
    """An LLM's spec (model_type: LLM): its genai_perf_flags (the model's own over the global ones) read, its
    interface checked, its requests built. A generic model must not be a streaming one fed random inputs."""
    key = f"{where}.genai_perf_flags" if "genai_perf_flags" in raw else "genai_perf_flags"
    given = raw.get("genai_perf_flags", settings["genai_perf_flags"])
    if settings["model_type"] != LLM:
        if given is not None:
            raise ConfigError(key, "applies to LLM models only: set model_type: LLM")
        check_generic(name, base_config, pa_flags, settings["client_protocol"])
        return None
    if search in (SearchMode.QUICK, SearchMode.OPTUNA):
        raise ConfigError("run_config_search_mode", f"{search.value} search of LLM models is not supported yet: "
                          "use brute (a load sweep, model_config_parameters, or the automatic search)")
    flags = parse_genai_perf_flags(given, key, config_dir)
    decoupled = is_decoupled(base_config) or any(is_decoupled(model.base_config) for model in composing)
    return llm_spec(name, flags, base_config, key, settings["client_protocol"], decoupled)


def _base_config(settings: Mapping[str, Any], name: str, key: str = "") -> dict[str, Any]:
    """The model's config.pbtxt as Triton's ModelConfig reads it ({} in remote mode without a repository)."""
    repo = settings["model_repository"]
    try:
        return read_model_config(Path(repo), name) if repo else {}
    except ModelConfigError as exc:
        raise ConfigError(key or f"profile_models.{name}", str(exc)) from None


def ensemble_steps(base_config: Mapping[str, Any]) -> list[str]:
    """The models an ensemble's steps call, each once, in the order of the steps."""
    steps = (base_config.get("ensemble_scheduling") or {}).get("step") or []
    return list(dict.fromkeys(str(step.get("model_name", "")) for step in steps))


def _composing_models(name: str, base_config: Mapping[str, Any], settings: Mapping[str, Any],
                      cpu_default: bool) -> tuple[ComposingModel, ...]:
    """An ensemble's step models, or the BLS model's `bls_composing_models` (Model Analyzer's composing models),
    each with its config.pbtxt. `cpu_only_composing_models` gives KIND_CPU instances, as does a host without
    GPUs (cpu_default)."""
    if base_config.get("platform") == "ensemble":
        names, key = ensemble_steps(base_config), f"profile_models.{name}"
    else:
        names, key = list(settings["bls_composing_models"] or []), "bls_composing_models"
    repo = settings["model_repository"]
    cpu_only = set(settings["cpu_only_composing_models"] or [])
    result = []
    for composing in names:
        check_model_name(composing, key)
        if composing == name:
            raise ConfigError(key, f"`{name}` cannot be a composing model of itself")
        if repo and not (Path(repo) / composing).is_dir():
            raise ConfigError(key, f"composing model `{composing}` not found in {repo}")
        config = _base_config(settings, composing, key)
        if config.get("platform") == "ensemble":
            raise ConfigError(key, f"`{composing}` is an ensemble: an ensemble cannot be a composing model "
                              "(as in Model Analyzer)")
        result.append(ComposingModel(composing, config, cpu_only=composing in cpu_only or cpu_default))
    return tuple(result)


def _search_mode(name: str, raw: Mapping[str, Any], settings: Mapping[str, Any], where: str,
                 user_loads: bool, base_config: Mapping[str, Any], composing: tuple[ComposingModel, ...] = (),
                 explicit: frozenset[str] = frozenset()) -> tuple[SearchMode, list[Variant], dict[str, Any]]:
    """(search mode, the listed variants, the fields an automatic search keeps fixed) of one model.

    The variants of an automatic search are planned later, by the search layer. A model with composing models
    is searched with quick search, as Model Analyzer does (even when brute is the mode: its default)."""
    key = f"{where}.model_config_parameters"
    parameters = raw.get("model_config_parameters")
    mode = settings["run_config_search_mode"]
    if settings["run_config_search_disable"]:
        return SearchMode.DISABLED, make_variants(name, parameters, key, base_config), {}
    if composing:
        if settings["triton_launch_mode"] == "c_api":
            raise ConfigError("triton_launch_mode", f"`{name}` has composing models, which c_api mode does not "
                              "load yet: use local or remote")
        if mode is SearchStrategy.OPTUNA:
            raise ConfigError("run_config_search_mode", f"optuna search over the composing models of `{name}` is "
                              "not supported yet: use quick (Model Analyzer's search for them)")
        if mode is SearchStrategy.BRUTE and "run_config_search_mode" in explicit \
                and base_config.get("platform") != "ensemble":
            raise ConfigError("run_config_search_mode", f"`{name}` is a BLS model, which Model Analyzer searches "
                              "with quick search only: use quick, or leave the mode unset")
        mode = SearchStrategy.QUICK
    if mode is SearchStrategy.BRUTE and parameters:
        return SearchMode.MANUAL, make_variants(name, parameters, key, base_config), {}
    if mode is SearchStrategy.OPTUNA:
        return SearchMode.OPTUNA, make_variants(name, None, key), {}
    if mode is not SearchStrategy.QUICK:
        return SearchMode.AUTOMATIC, make_variants(name, None, key), {}
    if user_loads:
        raise ConfigError("concurrency", "quick search chooses the load of each configuration: leave "
                          "concurrency/request_rate unset (or use run_config_search_mode: brute)")
    combos = make_variants(name, parameters, key, base_config)[1:]
    if len(combos) > 1:
        raise ConfigError(key, "quick search takes model_config_parameters with one value each (it searches "
                          "max_batch_size and instance_group itself)")
    fixed = dict(combos[0].parameters) if combos else {}
    for field_name in ("max_batch_size", "instance_group"):
        if field_name in fixed:
            raise ConfigError(f"{key}.{field_name}", "quick search searches this field itself")
    return SearchMode.QUICK, make_variants(name, None, key), fixed


def _optuna_settings(name: str, parameters: Any, settings: Mapping[str, Any], explicit: frozenset[str], where: str,
                     base_config: Mapping[str, Any], user_loads: bool) -> tuple[OptunaSettings, dict[str, Any]]:
    """What optuna searches (Model Analyzer's SearchParameters) and the fields every variant keeps.

    `max_batch_size`, the instance group's `count` and `dynamic_batching.max_queue_delay_microseconds` may
    list the values to search; any other field of `model_config_parameters` takes one value, set in every
    variant (Model Analyzer's optuna drops them silently)."""
    key = f"{where}.model_config_parameters"
    rest = dict(v.parse_dict(parameters, key))
    sizes: tuple[int, ...] = ()
    if rest.get("max_batch_size") is not None:
        sizes = tuple(v.parse_positive_int_list(rest.pop("max_batch_size"), f"{key}.max_batch_size"))
    counts: tuple[int, ...] = ()
    kind = ""
    if rest.get("instance_group") is not None:
        group = rest.pop("instance_group")
        while isinstance(group, list) and len(group) == 1:
            group = group[0]  # Model Analyzer reads `instance_group[0][0].count`
        if not isinstance(group, dict) or "count" not in group or set(group) - {"count", "kind"}:
            raise ConfigError(f"{key}.instance_group", "optuna search takes one instance group with `count` "
                              "(the counts to search) and optionally `kind`")
        counts = tuple(v.parse_positive_int_list(group["count"], f"{key}.instance_group.count"))
        kind = v.parse_str(group.get("kind", ""), f"{key}.instance_group.kind")
        if kind not in ("", "KIND_CPU", "KIND_GPU"):
            raise ConfigError(f"{key}.instance_group.kind", f"must be KIND_CPU or KIND_GPU, got `{kind}`")
    delays: tuple[int, ...] = ()
    batching = rest.get("dynamic_batching")
    if isinstance(batching, dict) and batching.get("max_queue_delay_microseconds") is not None:
        batching = dict(batching)
        delays = tuple(v.parse_int_list(batching.pop("max_queue_delay_microseconds"),
                                        f"{key}.dynamic_batching.max_queue_delay_microseconds"))
        rest["dynamic_batching"] = batching
    combos = make_variants(name, rest, key, base_config)[1:]
    if len(combos) > 1:
        raise ConfigError(key, "optuna search searches max_batch_size, the instance group's count and "
                          "dynamic_batching.max_queue_delay_microseconds; any other field takes one value")
    return OptunaSettings(
        max_batch_sizes=sizes,
        instance_counts=counts,
        instance_kind=kind,
        max_queue_delays=delays,
        batch_size_range=(settings["run_config_search_min_model_batch_size"],
                          settings["run_config_search_max_model_batch_size"]),
        instance_count_range=(settings["run_config_search_min_instance_count"],
                              settings["run_config_search_max_instance_count"]),
        concurrency_range=(settings["run_config_search_min_concurrency"],
                           settings["run_config_search_max_concurrency"]),
        min_percentage=settings["min_percentage_of_search_space"],
        max_percentage=settings["max_percentage_of_search_space"],
        min_trials=settings["optuna_min_trials"] if "optuna_min_trials" in explicit else None,
        max_trials=settings["optuna_max_trials"] if "optuna_max_trials" in explicit else None,
        min_percentage_set="min_percentage_of_search_space" in explicit,
        max_percentage_set="max_percentage_of_search_space" in explicit,
        early_exit_threshold=settings["optuna_early_exit_threshold"],
        concurrency_formula=settings["use_concurrency_formula"],
        loads_listed=user_loads,
    ), (dict(combos[0].parameters) if combos else {})


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
    check_keys(raw, OPTIONS, "")
    settings, explicit = resolve_settings(raw, cli, config_dir, cwd)
    check_modes(settings)
    check_output_parents(settings)
    check_load_exclusive(settings["concurrency"], settings["request_rate"], "concurrency")
    check_load_conflicts(settings, explicit)
    check_quick_search(settings, explicit)
    if settings["num_top_model_configs"] > 0 and not settings["constraints"] and (
            settings["latency_budget"] is None and settings["min_throughput"] is None):
        raise ConfigError("num_top_model_configs", "needs global constraints to rank models against each other")
    # Checked once globally so that the error names the global key, not every model.
    objectives = parse_objectives(settings["objectives"], "objectives")
    constraints = merge_shorthands(parse_constraints(settings["constraints"], "constraints"), settings)
    parse_perf_flags(settings["perf_analyzer_flags"], "perf_analyzer_flags")
    parse_slo(settings["slo"], "slo")
    parse_server_flags(settings["triton_server_flags"], "triton_server_flags")

    if "profile_models" in cli:
        # The command line picks models; per-model options written in the YAML still apply to them.
        chosen = normalise_profile_models(cli["profile_models"], "profile_models")
        written = (normalise_profile_models(raw["profile_models"], "profile_models")
                   if raw.get("profile_models") is not None else {})
        models_raw = {name: written.get(name, {}) for name in chosen}
    else:
        models_raw = normalise_profile_models(raw.get("profile_models"), "profile_models")
    check_repository(settings, models_raw)
    remote = settings["triton_launch_mode"] == "remote"
    cpu_default = not gpus_available and not remote
    from_cli = frozenset(cli)
    request_rate_search = settings["request_rate_search_enable"] or bool(
        explicit & {"run_config_search_min_request_rate", "run_config_search_max_request_rate"})
    if settings["bls_composing_models"] and len(models_raw) > 1:
        raise ConfigError("bls_composing_models", f"a BLS search profiles one model, but profile_models lists "
                          f"{len(models_raw)} (as in Model Analyzer)")
    together = settings[CONCURRENT] and len(models_raw) > 1
    if together:
        check_search(settings, explicit)
    # Models profiled together are searched with quick search (Model Analyzer's rule), whatever the default says.
    model_settings = ({**settings, "run_config_search_mode": SearchStrategy.QUICK} if together else settings)
    models = tuple(build_model(name, options, model_settings, cpu_default, from_cli, request_rate_search, explicit,
                               config_dir)
                   for name, options in models_raw.items())
    composing = {composing.name for model in models for composing in model.composing}
    for name in settings["cpu_only_composing_models"] or []:
        if name not in composing:
            raise ConfigError("cpu_only_composing_models", f"`{name}` is not a composing model of a profiled "
                              f"model (composing models: {', '.join(sorted(composing)) or 'none'})")
    kinds = {model.load_kind for model in models}
    if len(kinds) > 1:
        raise ConfigError("profile_models", "mixes request_rate models with concurrency models: use one load type")
    if together:
        models = (combine(models),)

    warnings = unsupported_warnings(explicit, settings)
    warnings.extend(f"`{model.name}` has no tokenizer (genai_perf_flags.tokenizer): one streamed response counts as "
                    "one token, and a prompt's words as its tokens" for model in models
                    if model.llm is not None and model.llm.tokenizer is None)
    return ProfileConfig(run=RunSettings.from_options(settings), models=models,
                         search_ranges=SearchRanges.from_options(settings, explicit), source=source,
                         explicit=explicit, warnings=tuple(warnings), objectives=objectives, constraints=constraints)
