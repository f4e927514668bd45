"""Plans the variants of automatically searched models, on top of the validated profile.

The config layer decides each model's search mode and reads its config.pbtxt; here the automatic space
(search/space.py) becomes named variants, and quick search gets its formula load per variant. Optuna's variants
are every combination of its model-config dimensions; its default config is measured at the formula load, and
so is every variant with use_concurrency_formula. A model whose variants are listed in the YAML (or whose
search is disabled) is left as it is.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import Any

from pytest_model_analyzer.config.limits import MAX_POINTS, MAX_VARIANTS, require_at_most
from pytest_model_analyzer.config.points import count_points
from pytest_model_analyzer.config.profile import ComposingModel, ModelSpec, ProfileConfig
from pytest_model_analyzer.config.search_settings import SearchMode
from pytest_model_analyzer.config.variants import Variant, name_variants
from pytest_model_analyzer.domain.identity import CONCURRENCY
from pytest_model_analyzer.search.space import (
    automatic_parameters,
    formula_concurrency,
    optuna_dimensions,
    optuna_parameters,
    supports_batching,
)


def plan_model(model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
    if not model.search.is_automatic:
        return model
    ranges = profile.search_ranges
    if model.search is SearchMode.OPTUNA:
        return _plan_optuna(model)
    if model.composing:
        return _plan_composing(model, profile)
    variants = name_variants(model.name, automatic_parameters(model.base_config, ranges, model.cpu_only,
                                                              model.fixed_parameters), model.base_config)
    extra_loads: dict[str, tuple[int, ...]] = {}
    if model.search is SearchMode.QUICK:
        bounds = ranges.quick_concurrency_bounds
        extra_loads = {variant.name: (formula_concurrency(variant.parameters or model.fixed_parameters,
                                                          model.base_config, *bounds),)
                       for variant in variants}
    return dataclasses.replace(model, variants=tuple(variants), extra_loads=extra_loads)


def _plan_optuna(model: ModelSpec) -> ModelSpec:
    assert model.optuna is not None
    variants = name_variants(model.name, optuna_parameters(model, optuna_dimensions(model)), model.base_config)
    extra_loads: dict[str, tuple[int, ...]] = {}
    if model.load_kind == CONCURRENCY:
        # Model Analyzer measures the default config at 2 x its max_batch_size x its instances, unclamped.
        default = variants[0]
        extra_loads[default.name] = (formula_concurrency({}, model.base_config),)
        if model.optuna.concurrency_formula:
            for variant in variants[1:]:
                extra_loads[variant.name] = (formula_concurrency(variant.parameters, model.base_config,
                                                                 *model.optuna.concurrency_range),)
    return dataclasses.replace(model, variants=tuple(variants), extra_loads=extra_loads)


def _plan_composing(model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
    """Quick search of an ensemble, a BLS model, or models profiled together (Model Analyzer's
    QuickRunConfigGenerator with composing models, or with several models):
    one variant per combination of the searched models' automatic variants, the model itself (a BLS model, not
    an ensemble) first, then each composing model. Each composing model's variants are named as its own
    (`add_config_3`); the combination is `<model>_config_<n>`, in the order of the product. An ensemble's own
    max_batch_size is the smallest of its composing models'; the formula load comes from the first searched
    model's max_batch_size and instances, as Model Analyzer computes it."""
    ranges = profile.search_ranges
    itself = ComposingModel(model.name, model.base_config, model.cpu_only, model.fixed_parameters)
    searched = [itself, *model.composing] if model.searches_itself else list(model.composing)
    spaces = [name_variants(s.name, automatic_parameters(s.base_config, ranges, s.cpu_only, s.fixed_parameters),
                            s.base_config)[1:] for s in searched]
    require_at_most("run_config_search_max_instance_count", math.prod(len(space) for space in spaces), MAX_VARIANTS,
                    f"combinations of the variants of {', '.join(s.name for s in searched)}")
    bounds = ranges.quick_concurrency_bounds
    default = model.variants[0]
    variants = [default]
    # The default's formula load: the model's own config, or for models profiled together the first one's.
    first = searched[0] if model.members else itself
    extra_loads = {default.name: (formula_concurrency(first.fixed_parameters, first.base_config, *bounds),)}
    names = [composing.name for composing in model.composing]
    for index, combination in enumerate(itertools.product(*spaces)):
        own = (_ensemble_parameters(model, combination) if model.is_ensemble
               else {} if model.members else dict(combination[0].parameters))
        # Models profiled together: Model Analyzer's name of the run config, its models' variants joined.
        name = (",".join(variant.name for variant in combination) if model.members
                else f"{model.name}_config_{index}")
        variant = Variant(name, own,
                          composing=tuple(zip(names, combination[len(combination) - len(names):], strict=True)))
        variants.append(variant)
        extra_loads[variant.name] = (formula_concurrency(combination[0].parameters, searched[0].base_config,
                                                         *bounds),)
    return dataclasses.replace(model, variants=tuple(variants), extra_loads=extra_loads)


def _ensemble_parameters(model: ModelSpec, combination: Sequence[Variant]) -> dict[str, Any]:
    """An ensemble takes batches no larger than its smallest composing model does (Model Analyzer sets its
    max_batch_size so); one that does not batch keeps its config."""
    parameters = dict(model.fixed_parameters)
    if supports_batching(model.base_config):
        parameters["max_batch_size"] = min(int(variant.parameters.get("max_batch_size", 1)) for variant in combination)
    return parameters


def plan_profile(profile: ProfileConfig) -> ProfileConfig:
    """The profile with every model's variants planned: what collection turns into items."""
    planned = dataclasses.replace(profile, models=tuple(plan_model(model, profile) for model in profile.models))
    require_at_most("profile_models", count_points(planned), MAX_POINTS, "measurement points")
    return planned
