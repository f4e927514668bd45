"""What a model is made of: its config.pbtxt as Triton reads it, and the composing models of an ensemble (its
steps) or a BLS model (`bls_composing_models`), each with its own config, as Model Analyzer reads them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config.model_config import ModelConfigError, read_model_config
from pytest_model_analyzer.config.model_parsers import check_model_name
from pytest_model_analyzer.config.profile import ComposingModel
from pytest_model_analyzer.config.variants import Variant, default_variant_name
from pytest_model_analyzer.domain.errors import ConfigError


def base_config_of(settings: Mapping[str, Any], name: str, key: str = "") -> dict[str, Any]:
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


def composing_models(name: str, base_config: Mapping[str, Any], settings: Mapping[str, Any],
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
        config = base_config_of(settings, composing, key)
        if config.get("platform") == "ensemble":
            raise ConfigError(key, f"`{composing}` is an ensemble: an ensemble cannot be a composing model "
                              "(as in Model Analyzer)")
        result.append(ComposingModel(composing, config, cpu_only=composing in cpu_only or cpu_default))
    return tuple(result)


def with_composing_defaults(variants: list[Variant], composing: tuple[ComposingModel, ...]) -> list[Variant]:
    """Every listed variant of a model with composing models loads them as the repository has them."""
    if not composing:
        return variants
    defaults = tuple((model.name, Variant(default_variant_name(model.name), {}, default=True))
                     for model in composing)
    return [Variant(variant.name, variant.parameters, variant.default, defaults) for variant in variants]
