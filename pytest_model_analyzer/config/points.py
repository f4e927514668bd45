"""Measurement points: one per (model, variant, client batch size, concurrency or request rate).

A point is named by its `PointId` (the node id is built from it) and measured under its `Setup`
(see domain/identity.py): the requested config's digest and the effective perf_analyzer flags are data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pytest_model_analyzer.config.model_config import ModelConfigError, requested_config
from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.config.variants import Variant
from pytest_model_analyzer.domain.identity import PointId, Setup, config_digest, item_name, point_label


@dataclass(frozen=True)
class Point:
    model: ModelSpec
    variant: Variant
    batch_size: int
    load: int
    config: dict[str, Any] = field(default_factory=dict, compare=False)  # the variant's full requested config
    config_digest: str = ""
    # An ensemble's or BLS model's composing models, in order: {"model", "variant" (its name), "config" (requested)}.
    composing: list[dict[str, Any]] = field(default_factory=list, compare=False)

    @cached_property  # asked for by collection, the search and the ledger: built once per point
    def id(self) -> PointId:
        return PointId(self.model.name, self.variant.name, self.batch_size, self.load_kind, self.load)

    @cached_property
    def setup(self) -> Setup:
        return Setup.of(self.model.name, self.config_digest, self.batch_size, self.load_kind, self.load,
                        self.perf_analyzer_flags)

    @property
    def perf_analyzer_flags(self) -> Mapping[str, Any]:
        return self.model.perf_analyzer_flags

    @property
    def load_kind(self) -> str:
        return self.model.load_kind

    @property
    def name(self) -> str:
        """The item's name: the point's (`b1-r32`), with its arrivals when they are random (`b1-r32-poisson`)."""
        return item_name(self.id, self.perf_analyzer_flags)

    @property
    def label(self) -> str:
        return point_label(self.id, self.perf_analyzer_flags)


def variant_points(model: ModelSpec, variant: Variant) -> Iterator[Point]:
    """Model Analyzer's order: client batch sizes outer, load values inner, both ascending.
    Raises ModelConfigError when the variant's fields do not fit Triton's ModelConfig."""
    config = requested_config(dict(model.base_config), variant)
    composing = composing_configs(model, variant)
    # The composing models' configs are part of what is measured: editing one makes the point's setup new. Their
    # names are not: the same configs under other names (another search's numbering) measure the same thing.
    setup_digest = config_digest(config, composing)
    for batch_size in model.batch_sizes:
        for load in model.loads_for(variant.name):
            yield Point(model, variant, batch_size, load, config, setup_digest, composing)


def composing_configs(model: ModelSpec, variant: Variant) -> list[dict[str, Any]]:
    """Each composing model's variant name and requested config, in order, for a variant of a model that has them
    (a list, not a mapping: the order is the search's and the reports', and JSON keeps a list's)."""
    bases = {composing.name: composing.base_config for composing in model.composing}
    return [{"model": name, "variant": composing.name, "config": requested_config(dict(bases[name]), composing)}
            for name, composing in variant.composing]


def profile_points(profile: ProfileConfig) -> Iterator[Point]:
    """Every point of the profile, in collection order; a variant whose fields do not fit Triton's ModelConfig
    has none (its collection reports the error)."""
    for model in profile.models:
        for variant in model.variants:
            try:
                yield from list(variant_points(model, variant))
            except ModelConfigError:
                continue


def count_points(profile: ProfileConfig) -> int:
    return sum(len(m.batch_sizes) * len(m.loads_for(v.name)) for m in profile.models for v in m.variants)
