"""Measurement points: one per (model, variant, client batch size, concurrency or request rate).

A point's identity for storage is its `key` (what defines the measurement), never a pytest node id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.config.variants import Variant


@dataclass(frozen=True)
class Point:
    model: ModelSpec
    variant: Variant
    batch_size: int
    load: int

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


def variant_points(model: ModelSpec, variant: Variant) -> Iterator[Point]:
    """Model Analyzer's order: client batch sizes outer, load values inner, both ascending."""
    for batch_size in model.batch_sizes:
        for load in model.load_values:
            yield Point(model, variant, batch_size, load)


def all_points(profile: ProfileConfig) -> Iterator[Point]:
    for model in profile.models:
        for variant in model.variants:
            yield from variant_points(model, variant)
