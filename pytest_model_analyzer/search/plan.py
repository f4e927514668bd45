"""Plans the variants of automatically searched models, on top of the validated profile.

The config layer decides each model's search mode and reads its config.pbtxt; here the automatic space
(search/space.py) becomes named variants, and quick search gets its formula load per variant. A model whose
variants are listed in the YAML (or whose search is disabled) is left as it is.
"""

from __future__ import annotations

import dataclasses

from pytest_model_analyzer.config.limits import MAX_POINTS, require_at_most
from pytest_model_analyzer.config.points import count_points
from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig, SearchMode
from pytest_model_analyzer.config.variants import name_variants
from pytest_model_analyzer.search.space import automatic_parameters, quick_concurrency


def plan_model(model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
    if not model.search.is_automatic:
        return model
    settings = profile.settings
    variants = name_variants(model.name, automatic_parameters(model.base_config, settings, model.cpu_only,
                                                              model.fixed_parameters), model.base_config)
    extra_loads: dict[str, tuple[int, ...]] = {}
    if model.search is SearchMode.QUICK:
        extra_loads = {variant.name: (quick_concurrency(variant.parameters or model.fixed_parameters,
                                                        model.base_config, settings, profile.explicit),)
                       for variant in variants}
    return dataclasses.replace(model, variants=tuple(variants), extra_loads=extra_loads)


def plan_profile(profile: ProfileConfig) -> ProfileConfig:
    """The profile with every model's variants planned: what collection turns into items."""
    planned = dataclasses.replace(profile, models=tuple(plan_model(model, profile) for model in profile.models))
    require_at_most("profile_models", count_points(planned), MAX_POINTS, "measurement points")
    return planned
