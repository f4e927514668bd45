"""Plans the variants of automatically searched models, on top of the validated profile.

The config layer decides each model's search mode and reads its config.pbtxt; here the automatic space
(search/space.py) becomes named variants, and quick search gets its formula load per variant. Optuna's variants
are every combination of its model-config dimensions; its default config is measured at the formula load, and
so is every variant with use_concurrency_formula. A model whose variants are listed in the YAML (or whose
search is disabled) is left as it is.
"""

from __future__ import annotations

import dataclasses

from pytest_model_analyzer.config.limits import MAX_POINTS, require_at_most
from pytest_model_analyzer.config.points import count_points
from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig, SearchMode
from pytest_model_analyzer.config.variants import name_variants
from pytest_model_analyzer.domain.identity import CONCURRENCY
from pytest_model_analyzer.search.space import (
    automatic_parameters,
    formula_concurrency,
    optuna_dimensions,
    optuna_parameters,
    quick_bounds,
)


def plan_model(model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
    if not model.search.is_automatic:
        return model
    settings = profile.settings
    if model.search is SearchMode.OPTUNA:
        return _plan_optuna(model)
    variants = name_variants(model.name, automatic_parameters(model.base_config, settings, model.cpu_only,
                                                              model.fixed_parameters), model.base_config)
    extra_loads: dict[str, tuple[int, ...]] = {}
    if model.search is SearchMode.QUICK:
        bounds = quick_bounds(settings, profile.explicit)
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


def plan_profile(profile: ProfileConfig) -> ProfileConfig:
    """The profile with every model's variants planned: what collection turns into items."""
    planned = dataclasses.replace(profile, models=tuple(plan_model(model, profile) for model in profile.models))
    require_at_most("profile_models", count_points(planned), MAX_POINTS, "measurement points")
    return planned
