"""Measurement points: one per (model, variant, client batch size, concurrency or request rate).

A point's identity for storage is its `key` (what defines the measurement), never a pytest node id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.config.variants import Variant
from pytest_model_analyzer.measurement import effective_flags, point_key


@dataclass(frozen=True)
class Point:
    model: ModelSpec
    variant: Variant
    batch_size: int
    load: int
    config: dict[str, Any] = field(default_factory=dict, compare=False)  # the variant's full requested config
    config_digest: str = ""

    def key(self) -> str:
        """The same key as the Measurement of this point: what a checkpoint is looked up by."""
        return point_key(self.model.name, self.config_digest, self.batch_size, self.load_kind, self.load,
                         self.perf_analyzer_flags)

    @property
    def perf_analyzer_flags(self) -> dict[str, Any]:
        return effective_flags(self.model.perf_analyzer_flags)

    @property
    def load_kind(self) -> str:
        return self.model.load_kind

    @property
    def name(self) -> str:
        """The item name: `b8-c16` (batch 8, concurrency 16) or `b1-r32` (request rate 32)."""
        letter = "r" if self.load_kind == "request_rate" else "c"
        return f"b{self.batch_size}-{letter}{self.load}"

    @property
    def label(self) -> str:
        kind = "request rate" if self.load_kind == "request_rate" else "concurrency"
        return f"{self.model.name} / {self.variant.name} (batch {self.batch_size}, {kind} {self.load})"


def variant_points(model: ModelSpec, variant: Variant, config: dict[str, Any] | None = None,
                   config_digest: str = "") -> Iterator[Point]:
    """Model Analyzer's order: client batch sizes outer, load values inner, both ascending."""
    for batch_size in model.batch_sizes:
        for load in model.loads_for(variant.name):
            yield Point(model, variant, batch_size, load, config or {}, config_digest)


def count_points(profile: ProfileConfig) -> int:
    return sum(len(m.batch_sizes) * len(m.loads_for(v.name)) for m in profile.models for v in m.variants)
