"""Builds a validated ProfileConfig from a parsed YAML mapping and command-line overrides.

Precedence is Model Analyzer's: command line over YAML over defaults. Per-model options inherit the global
ones as Model Analyzer's `_autofill_values` does. Each model's config.pbtxt is read here, once. The variants
of an automatic search are planned on top of this by the search layer (search/plan.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.config.composing import base_config_of, composing_models, with_composing_defaults
from pytest_model_analyzer.config.flags import (
    effective_flags,
    parse_perf_flags,
    parse_server_flags,
    resolve_perf_paths,
    resolve_server_paths,
)
from pytest_model_analyzer.config.llm import (
    LLMSpec,
    ModelType,
    check_generic,
    is_decoupled,
    llm_flags,
    llm_spec,
    parse_genai_perf_flags,
)
from pytest_model_analyzer.config.model_config import (
    EXPORT_VALUES_LIMIT,
    request_values,
)
from pytest_model_analyzer.config.model_parsers import (
    check_stimulus,
    merge_shorthands,
    normalise_profile_models,
    parse_constraints,
    parse_objectives,
    parse_slo,
)
from pytest_model_analyzer.config.names import check_keys
from pytest_model_analyzer.config.options import MODEL_KEYS, OPTIONS, PARAMETER_KEYS
from pytest_model_analyzer.config.profile import ComposingModel, ModelSpec, ProfileConfig
from pytest_model_analyzer.config.run_settings import RunSettings
from pytest_model_analyzer.config.search_settings import (
    SearchMode,
    SearchRanges,
    SearchStrategy,
    optuna_settings,
    resolve_search,
)
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
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.identity import INPUT_DATA_FLAG, INTERVALS_DIGEST, INTERVALS_FLAG
from pytest_model_analyzer.domain.latency import TOKEN_QUANTITIES


@dataclass(frozen=True)
class ModelContext:
    """What building one model's spec reads: its own options (`raw`) over the global ones (`settings`), and
    the run's facts every part of it needs; the key of an option is the model's own when it set it."""

    name: str
    raw: Mapping[str, Any]
    settings: Mapping[str, Any]
    cpu_default: bool  # no GPU and not remote: Model Analyzer's `_autofill_values` ORs it into cpu_only
    from_cli: frozenset[str] = frozenset()  # options given on the command line
    request_rate_search: bool = False  # request_rate_search_enable, or an explicit min/max request rate
    explicit: frozenset[str] = frozenset()  # options the user set (YAML or command line)
    config_dir: Path = field(default_factory=Path.cwd)  # what the profile's relative paths are relative to

    @property
    def where(self) -> str:
        return f"profile_models.{self.name}"

    def key(self, option: str) -> str:
        """How an error names the option: the model's own key when it set it, else the global one."""
        return f"{self.where}.{option}" if option in self.raw else option

    def value(self, option: str) -> Any:
        """The model's own value of an option, else the global one."""
        return self.raw.get(option, self.settings[option])


@dataclass(frozen=True)
class _Loads:
    """A model's batch sizes and load values, and whether the user chose the loads (Model Analyzer's rules
    for early exits, the binary search and the formula load depend on it)."""

    batch_sizes: list[int]
    concurrency: list[int] | None
    request_rate: list[int] | None
    user_concurrency: bool  # the user listed concurrencies (for this model or globally)
    user_loads: bool  # the user listed concurrencies or request rates


def _model_loads(ctx: ModelContext) -> _Loads:
    """`profile_models.<model>.parameters` over the global values, the command line over both; without any,
    the search's doubling range (or concurrency 1 with the search off)."""
    where, settings, from_cli = ctx.where, ctx.settings, ctx.from_cli
    params = v.parse_dict(ctx.raw.get("parameters"), f"{where}.parameters")
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
        elif ctx.request_rate_search:
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


@dataclass(frozen=True)
class _Stimulus:
    """A model's perf_analyzer flags, with its custom load (request-intervals) when it has one."""

    flags: dict[str, Any]
    custom_load: str  # the intervals file's absolute path; '' without a custom load


def _perf_flags(ctx: ModelContext, loads: _Loads) -> _Stimulus:
    """perf_analyzer_flags (the model's over the global ones), their paths resolved against the YAML's
    directory; a custom load replaces the load sweep."""
    flags_key = ctx.key("perf_analyzer_flags")
    pa_flags = parse_perf_flags(ctx.value("perf_analyzer_flags"), f"{ctx.where}.perf_analyzer_flags")
    if ctx.settings["model_type"] is ModelType.LLM and INPUT_DATA_FLAG in pa_flags:
        raise ConfigError(f"{flags_key}.{INPUT_DATA_FLAG}", "model_type LLM builds every request from "
                          "genai_perf_flags (prompts, output tokens): remove input-data, or give prompts as "
                          "input-dataset")
    pa_flags = resolve_perf_paths(pa_flags, flags_key, ctx.config_dir)
    if not pa_flags.get(INTERVALS_FLAG):
        return _Stimulus(pa_flags, "")
    key = f"{flags_key}.{INTERVALS_FLAG}"
    custom_load, intervals_digest = check_stimulus(pa_flags[INTERVALS_FLAG], key, ctx.config_dir)
    if loads.user_loads:
        raise ConfigError(key, "a custom load replaces the concurrency and request_rate sweep: remove them "
                               "(one point per config, as in Model Analyzer)")
    return _Stimulus({**pa_flags, INTERVALS_FLAG: custom_load, INTERVALS_DIGEST: intervals_digest}, custom_load)


def _gates(ctx: ModelContext) -> tuple[dict[str, int], dict[str, Bounds], dict[str, float]]:
    """The model's objectives, constraints (with the global shorthands) and SLO, its own over the global ones."""
    objectives = parse_objectives(ctx.value("objectives"), f"{ctx.where}.objectives")
    constraints = merge_shorthands(parse_constraints(ctx.value("constraints"), f"{ctx.where}.constraints"),
                                   ctx.settings)
    return objectives, constraints, parse_slo(ctx.value("slo"), ctx.key("slo"))


def build_model(ctx: ModelContext) -> ModelSpec:
    """One model's spec, every option checked (one ConfigError naming its key)."""
    name, raw, settings, where = ctx.name, ctx.raw, ctx.settings, ctx.where
    check_keys(raw, MODEL_KEYS, where)
    if raw.get("triton_docker_args") is not None:
        raise ConfigError(f"{where}.triton_docker_args", OPTIONS["triton_docker_args"].unsupported)
    loads = _model_loads(ctx)
    objectives, constraints, slo = _gates(ctx)
    stimulus = _perf_flags(ctx, loads)
    concurrency, request_rate, user_concurrency = loads.concurrency, loads.request_rate, loads.user_concurrency
    if stimulus.custom_load:
        concurrency, request_rate, user_concurrency = [], [], False
    base_config = base_config_of(settings, name)
    composing = composing_models(name, base_config, settings, ctx.cpu_default)
    search, variants, fixed = resolve_search(name, raw, settings, where, loads.user_loads, base_config,
                                             bool(composing), ctx.explicit)
    llm = _llm(ctx, stimulus.flags, base_config, composing, search)
    variants = with_composing_defaults(variants, composing)
    if stimulus.custom_load and search in (SearchMode.QUICK, SearchMode.OPTUNA):
        raise ConfigError(f"{ctx.key('perf_analyzer_flags')}.{INTERVALS_FLAG}", "a custom load with "
                          f"run_config_search_mode {settings['run_config_search_mode'].value} is not supported yet "
                          "(use brute)")
    optuna = None
    if search is SearchMode.OPTUNA:
        optuna, fixed = optuna_settings(name, raw.get("model_config_parameters"), settings, ctx.explicit, where,
                                        base_config, loads.user_loads)
    if (search is SearchMode.QUICK or (optuna is not None and optuna.concurrency_formula)) \
            and settings["concurrency_sweep_disable"]:
        concurrency, request_rate = [], []  # each variant at its formula load only, no sweep of the top ones
    return ModelSpec(
        name=name,
        cpu_only=v.parse_bool(raw.get("cpu_only", False), f"{where}.cpu_only") or ctx.cpu_default,
        batch_sizes=tuple(sorted(set(loads.batch_sizes))),
        concurrency=tuple(sorted(set(concurrency or ()))),
        request_rate=tuple(sorted(set(request_rate or ()))),
        variants=tuple(variants),
        perf_analyzer_flags={**effective_flags(stimulus.flags), **(llm_flags(llm) if llm else {})},
        triton_server_flags=resolve_server_paths(parse_server_flags(ctx.value("triton_server_flags"),
                                                                    ctx.key("triton_server_flags")),
                                                 ctx.key("triton_server_flags"), ctx.config_dir),
        triton_server_environment=v.parse_str_dict(ctx.value("triton_server_environment"),
                                                   f"{where}.triton_server_environment"),
        objectives=objectives, constraints=constraints, slo=slo, stimulus=stimulus.custom_load,
        export_requests=bool(slo) or llm is not None or _small_requests(base_config, loads.batch_sizes),
        llm=llm, weighting=v.parse_int(raw.get("weighting", 1), f"{where}.weighting"),
        base_config=base_config, search=search, fixed_parameters=fixed,
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
                             if search in (SearchMode.AUTOMATIC, SearchMode.MANUAL) and not loads.user_loads
                             and constraints and not stimulus.custom_load else 0),
        optuna=optuna,
        composing=composing,
    )


def _llm(ctx: ModelContext, pa_flags: Mapping[str, Any], base_config: Mapping[str, Any],
         composing: tuple[ComposingModel, ...], search: SearchMode) -> LLMSpec | None:
    """An LLM's spec (model_type: LLM): its genai_perf_flags (the model's own over the global ones) read, its
    interface checked, its requests built. A generic model must not be a streaming one fed random inputs; a
    token SLO needs a streaming LLM."""
    name, settings = ctx.name, ctx.settings
    key = ctx.key("genai_perf_flags")
    given = ctx.value("genai_perf_flags")
    llm = None
    if settings["model_type"] is not ModelType.LLM:
        if given is not None:
            raise ConfigError(key, "applies to LLM models only: set model_type: LLM")
        check_generic(name, base_config, pa_flags, settings["client_protocol"])
    else:
        if search in (SearchMode.QUICK, SearchMode.OPTUNA):
            raise ConfigError("run_config_search_mode", f"{search.value} search of LLM models is not supported "
                              "yet: use brute (a load sweep, model_config_parameters, or the automatic search)")
        flags = parse_genai_perf_flags(given, key, ctx.config_dir)
        decoupled = is_decoupled(base_config) or any(is_decoupled(model.base_config) for model in composing)
        llm = llm_spec(name, flags, base_config, key, settings["client_protocol"], decoupled)
    tokens = [quantity for quantity in ctx.value("slo") or {} if quantity in TOKEN_QUANTITIES]
    if tokens and (llm is None or not llm.streaming):
        raise ConfigError(ctx.key("slo"), f"{tokens[0]} is a streaming LLM's (model_type: LLM, its responses "
                          f"streamed): `{name}` has no tokens to time")
    return llm


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
    objectives, constraints = _check_global_options(settings, explicit)
    models_raw = _models_to_profile(raw, cli)
    check_repository(settings, models_raw)
    if settings["bls_composing_models"] and len(models_raw) > 1:
        raise ConfigError("bls_composing_models", f"a BLS search profiles one model, but profile_models lists "
                          f"{len(models_raw)} (as in Model Analyzer)")
    together = settings[CONCURRENT] and len(models_raw) > 1
    if together:
        check_search(settings, explicit)
    # Models profiled together are searched with quick search (Model Analyzer's rule), whatever the default says.
    model_settings = ({**settings, "run_config_search_mode": SearchStrategy.QUICK} if together else settings)
    request_rate_search = settings["request_rate_search_enable"] or bool(
        explicit & {"run_config_search_min_request_rate", "run_config_search_max_request_rate"})
    cpu_default = not gpus_available and settings["triton_launch_mode"] != "remote"
    models = tuple(build_model(ModelContext(name, options, model_settings, cpu_default, frozenset(cli),
                                            request_rate_search, explicit, config_dir))
                   for name, options in models_raw.items())
    _check_models(models, settings)
    if together:
        models = (combine(models),)
    warnings = unsupported_warnings(explicit, settings)
    warnings.extend(f"`{model.name}` has no tokenizer (genai_perf_flags.tokenizer): one streamed response counts as "
                    "one token, and a prompt's words as its tokens" for model in models
                    if model.llm is not None and model.llm.tokenizer is None)
    return ProfileConfig(run=RunSettings.from_options(settings), models=models,
                         search_ranges=SearchRanges.from_options(settings, explicit), source=source,
                         explicit=explicit, warnings=tuple(warnings), objectives=objectives, constraints=constraints)


def _check_global_options(settings: Mapping[str, Any],
                          explicit: frozenset[str]) -> tuple[dict[str, int], dict[str, Bounds]]:
    """The global options that combine with each other, checked once, so that an error names the global key
    rather than every model's; returns the global objectives and constraints."""
    check_modes(settings)
    check_output_parents(settings)
    check_load_exclusive(settings["concurrency"], settings["request_rate"], "concurrency")
    check_load_conflicts(settings, explicit)
    check_quick_search(settings, explicit)
    if settings["num_top_model_configs"] > 0 and not settings["constraints"] and (
            settings["latency_budget"] is None and settings["min_throughput"] is None):
        raise ConfigError("num_top_model_configs", "needs global constraints to rank models against each other")
    objectives = parse_objectives(settings["objectives"], "objectives")
    constraints = merge_shorthands(parse_constraints(settings["constraints"], "constraints"), settings)
    parse_perf_flags(settings["perf_analyzer_flags"], "perf_analyzer_flags")
    parse_slo(settings["slo"], "slo")
    parse_server_flags(settings["triton_server_flags"], "triton_server_flags")
    return objectives, constraints


def _models_to_profile(raw: Mapping[str, Any], cli: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each model to profile with its own options. The command line picks models; per-model options written in
    the YAML still apply to them."""
    if "profile_models" not in cli:
        return normalise_profile_models(raw.get("profile_models"), "profile_models")
    chosen = normalise_profile_models(cli["profile_models"], "profile_models")
    written = (normalise_profile_models(raw["profile_models"], "profile_models")
               if raw.get("profile_models") is not None else {})
    return {name: written.get(name, {}) for name in chosen}


def _check_models(models: tuple[ModelSpec, ...], settings: Mapping[str, Any]) -> None:
    """What holds across the models: cpu_only_composing_models names composing models, one load type."""
    composing = {composing.name for model in models for composing in model.composing}
    for name in settings["cpu_only_composing_models"] or []:
        if name not in composing:
            raise ConfigError("cpu_only_composing_models", f"`{name}` is not a composing model of a profiled "
                              f"model (composing models: {', '.join(sorted(composing)) or 'none'})")
    if len({model.load_kind for model in models}) > 1:
        raise ConfigError("profile_models", "mixes request_rate models with concurrency models: use one load type")
