"""The collection tree: profile file -> model -> model-config variant -> one item per measurement point.

Node ids read `profile.yaml::add::add_config_1::b8-c16`, so `-k`, `--collect-only`, `--lf`, node-id
selection and xdist's `--dist loadscope` (one variant per worker) work as for any test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.config.variants import Variant
from pytest_model_analyzer.points import Point, variant_points


def _repository_config_digest(profile: ProfileConfig, model: str) -> str:
    """Ties stored measurements to the repository's config: editing config.pbtxt makes them new points."""
    repo = profile.settings["model_repository"]
    if repo is None:
        return ""
    path = Path(repo) / model / "config.pbtxt"
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


class ProfileFile(pytest.File):
    """The `--ma-config` YAML file; its profile was parsed and validated at configure time."""

    profile: ProfileConfig
    # Every item calls the same function with the same conftest visibility: one closure serves them all,
    # as pytest's own parametrize shares one per function (computing it per item doubled collection time).
    fixtureinfo: Any = None

    def collect(self) -> Iterator[pytest.Collector]:
        for model in self.profile.models:
            yield ModelCollector.from_parent(self, name=model.name, model=model)


class ModelCollector(pytest.Collector):
    def __init__(self, *, model: ModelSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model

    def collect(self) -> Iterator[pytest.Collector]:
        for variant in self.model.variants:
            yield VariantCollector.from_parent(self, name=variant.name, variant=variant)


class VariantCollector(pytest.Collector):
    def __init__(self, *, variant: Variant, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.variant = variant

    def collect(self) -> Iterator[pytest.Item]:
        model: ModelSpec = self.parent.model  # type: ignore[union-attr]
        profile_file: ProfileFile = self.parent.parent  # type: ignore[assignment]
        profile = profile_file.profile
        requested = {"repository_config": _repository_config_digest(profile, model.name),
                     "parameters": self.variant.parameters}
        for point in variant_points(model, self.variant):
            item = MeasurementItem.from_parent(self, name=point.name, callobj=check_point,
                                               fixtureinfo=profile_file.fixtureinfo)
            profile_file.fixtureinfo = item._fixtureinfo
            item.ma_point = point
            item.ma_requested_config = requested
            yield item


def check_point(ma_measurement: Any, ma_session: Any) -> None:
    """The item's call phase: the measurement (taken in setup) against the model's gates."""
    ma_session.check(ma_measurement)


class MeasurementItem(pytest.Function):
    """An item whose setup measures the point (failure to measure = ERROR) and whose call checks gates."""

    ma_point: Point
    ma_requested_config: dict[str, Any]

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"ma: {self.ma_point.label}"
