"""`run_config_profile_models_concurrently_enable`: the profiled models as one combination, measured together.

Model Analyzer measures every model of a run config at once (one perf_analyzer per model, started together), names
the run config by its models (`add,sleep`) and their variants (`add_config_3,sleep_config_1`), checks each model's
constraints on its own figures, and ranks run configs by each model's score against its own objectives, weighted
by its `weighting` (RunConfigMeasurement's weighted score). Here the combination is one ModelSpec of that name
whose `members` are the models as the profile gives them; its variants combine theirs (planned like an
ensemble's composing models, search/plan.py); its figures are each model's, tagged `add/perf_throughput`
(domain/metrics.py), so that its constraints and objectives are the members' own, tagged alike, with the
objectives' weights scaled so that the ranking's score is Model Analyzer's weighted sum.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from pytest_model_analyzer.config.profile import ComposingModel, ModelSpec
from pytest_model_analyzer.config.search_settings import SearchStrategy
from pytest_model_analyzer.config.variants import Variant
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.metrics import member_tag

KEY = "run_config_profile_models_concurrently_enable"


def combine(models: Sequence[ModelSpec]) -> ModelSpec:
    """The one spec that measures `models` together (at least two, checked by the caller)."""
    first = models[0]
    shared: list[tuple[str, Callable[[ModelSpec], Any]]] = [
        ("client batch sizes (parameters.batch_sizes)", lambda m: m.batch_sizes),
        ("load (concurrency or request_rate)", lambda m: (m.load_kind, m.load_values)),
        ("triton_server_flags", lambda m: dict(m.triton_server_flags)),
        ("perf_analyzer_flags", lambda m: dict(m.perf_analyzer_flags)),
        ("triton_server_environment", lambda m: dict(m.triton_server_environment)),
    ]
    for model in models[1:]:
        if model.search is not first.search:
            raise ConfigError(f"profile_models.{model.name}", f"models profiled together are searched together: its "
                              f"search ({model.search.value}) must be {first.name}'s ({first.search.value})")
        for what, of in shared:
            if of(model) != of(first):
                raise ConfigError(f"profile_models.{model.name}", f"models profiled together share one server, one "
                                  f"load and one set of perf_analyzer flags: its {what} must be the same as "
                                  f"{first.name}'s")
    for model in models:
        if model.composing:
            raise ConfigError(KEY, f"`{model.name}` has composing models: profiling an ensemble or BLS model "
                              "together with others is not supported (a BLS model not in Model Analyzer either)")
        if model.weighting <= 0:
            raise ConfigError(f"profile_models.{model.name}.weighting", "must be a positive whole number when "
                              "models are profiled together (it weighs the model's score in their ranking)")
    total = sum(model.weighting for model in models)
    objectives: dict[str, float] = {}
    for model in models:
        weights = {tag: weight for tag, weight in model.objectives.items() if weight > 0}
        for tag, weight in weights.items():
            objectives[member_tag(model.name, tag)] = model.weighting / total * weight / sum(weights.values())
    names = [model.name for model in models]
    variants = [Variant(",".join(variant.name for variant in combination), {},
                        default=all(variant.is_default for variant in combination),
                        composing=tuple(zip(names, combination, strict=True)))
                for combination in itertools.product(*(model.variants for model in models))]
    return ModelSpec(
        name=",".join(names),
        cpu_only=all(model.cpu_only for model in models),
        batch_sizes=first.batch_sizes,
        concurrency=first.concurrency,
        request_rate=first.request_rate,
        variants=tuple(variants),
        perf_analyzer_flags=first.perf_analyzer_flags,
        triton_server_flags=first.triton_server_flags,
        triton_server_environment=first.triton_server_environment,
        objectives=objectives,  # weights are fractions here
        constraints={member_tag(model.name, tag): bounds for model in models
                     for tag, bounds in model.constraints.items()},
        search=first.search,
        early_exit_loads=first.early_exit_loads,
        quick_sweep=first.quick_sweep,
        top_configs=first.top_configs,
        composing=tuple(ComposingModel(model.name, model.base_config, model.cpu_only, model.fixed_parameters)
                        for model in models),
        members=tuple(models),
    )


def check_search(settings: Any, explicit: frozenset[str]) -> None:
    """Model Analyzer profiles models together with quick search only (brute is refused); unset, the mode is quick
    here. Optuna over several models is not supported yet."""
    mode = settings["run_config_search_mode"]
    if mode is SearchStrategy.BRUTE and "run_config_search_mode" in explicit:
        raise ConfigError("run_config_search_mode", "models profiled together are searched with quick search, as "
                          "in Model Analyzer: use quick, or leave the mode unset")
    if mode is SearchStrategy.OPTUNA:
        raise ConfigError("run_config_search_mode", "optuna search of models profiled together is not supported "
                          "yet: use quick")
    if settings["triton_launch_mode"] == "c_api":
        raise ConfigError("triton_launch_mode", "models profiled together need one server for all: use local or "
                          "remote, not c_api")

