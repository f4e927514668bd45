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
from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.search.modes import SEARCHES


def plan_model(model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
    """The model's variants as its search mode plans them (search/modes/)."""
    return SEARCHES[model.search].plan(model, profile)


def plan_profile(profile: ProfileConfig) -> ProfileConfig:
    """The profile with every model's variants planned: what collection turns into items."""
    planned = dataclasses.replace(profile, models=tuple(plan_model(model, profile) for model in profile.models))
    require_at_most("profile_models", count_points(planned), MAX_POINTS, "measurement points")
    return planned
