"""The collection tree: profile file -> model -> model-config variant -> one item per measurement point.

Node ids read `profile.yaml::add::add_config_1::b8-c16`, built from each point's `PointId`, so `-k`,
`--collect-only`, `--lf`, node-id selection and xdist's `--dist loadscope` (one variant per worker) work as
for any test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_model_analyzer.config.model_config import ModelConfigError
from pytest_model_analyzer.config.points import Point, variant_points
from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.config.search_settings import SearchMode
from pytest_model_analyzer.config.variants import Variant, apply_variant
from pytest_model_analyzer.domain.errors import GateFailure
from pytest_model_analyzer.domain.identity import canonical
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.plugin.session import (
    INCONCLUSIVE,
    ModelAnalyzerSession,
    set_comparison,
    set_measurement,
    set_property,
)
from pytest_model_analyzer.results.ledger import OriginKind
from pytest_model_analyzer.search.binary import BinaryStep
from pytest_model_analyzer.search.driver import SearchDriver


class ProfileFile(pytest.File):
    """The `--ma-config` YAML file; its profile was parsed, validated and planned at configure time."""

    profile: ProfileConfig
    search: SearchDriver | None = None  # every point is registered with the run's search
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
        variants: Sequence[Variant] = self.model.variants
        if self.model.search in (SearchMode.DISABLED, SearchMode.MANUAL) and not self.model.early_exit_batch:
            variants = reload_order(variants, self.model.base_config)
        for variant in variants:
            yield VariantCollector.from_parent(self, name=variant.name, variant=variant)
        if self.model.binary_search_steps > 0:
            yield BinarySearchCollector.from_parent(self, name="binary_search")


def reload_order(variants: Sequence[Variant], base_config: Mapping[str, Any]) -> list[Variant]:
    """The default first (as Model Analyzer measures it), then, where possible, a variant that differs from the
    last one only in its instance groups: Triton applies such a change in about 0.1 s, while any other change
    reloads the model (1.4 s for the small `add` model). Names do not change, only the order they run in.
    Keeps the given order where the search decides online from earlier variants (see search/driver.py)."""
    if len(variants) < 3:
        return list(variants)

    def rest(variant: Variant) -> str:
        config = apply_variant(base_config, variant)
        config.pop("instance_group", None)
        return canonical(config)

    ordered, remaining = [variants[0]], list(variants[1:])
    while remaining:
        same = next((v for v in remaining if rest(v) == rest(ordered[-1])), remaining[0])
        ordered.append(same)
        remaining.remove(same)
    return ordered


class VariantCollector(pytest.Collector):
    def __init__(self, *, variant: Variant, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.variant = variant

    def collect(self) -> Iterator[pytest.Item]:
        model_node: ModelCollector = self.parent  # type: ignore[assignment]
        profile_file: ProfileFile = model_node.parent  # type: ignore[assignment]
        try:
            points = list(variant_points(model_node.model, self.variant))
        except ModelConfigError as exc:
            raise self.CollectError(f"{self.variant.name}: model_config_parameters do not fit Triton's "
                                    f"ModelConfig: {exc}") from None
        for point in points:
            item = MeasurementItem.from_parent(self, name=point.name, callobj=check_gates,
                                               fixtureinfo=profile_file.fixtureinfo)
            profile_file.fixtureinfo = item._fixtureinfo
            item.ma_point = point
            if profile_file.search is not None:
                profile_file.search.register(point)
            yield item


def check_gates(ma_measurement: Measurement, ma_session: ModelAnalyzerSession, request: pytest.FixtureRequest) -> None:
    """The item's call phase: the measurement (taken in setup) against the model's gates. A comparison that
    cannot decide yet takes another trial of a point measured in this run (not of a stored one)."""
    item = request.node
    origin = ma_session.ledger.origin(item.ma_point.id)
    shared = origin.kind is OriginKind.SAME_CONFIG  # carries the comparison of the variant that measured it
    another_trial = None
    # A pair stored by an earlier A/B run of the same baseline and candidate is still a pair: more may be added.
    if origin.this_run or (ma_session.baseline and ma_session.baseline.same_run):
        def another_trial() -> Measurement:
            return request.getfixturevalue("ma_measurer").measure(item.ma_point)  # type: ignore[no-any-return]
    try:
        verdict = ma_session.check(ma_measurement, another_trial, shared=shared)
    finally:  # also when a further trial could not be taken
        final = ma_session.ledger.row(item.ma_point.id) or ma_measurement
        set_measurement(item, final)  # with the trials the check took
    if verdict.comparison is not None:
        set_comparison(item, verdict.comparison)
    if verdict.inconclusive:
        set_property(item, INCONCLUSIVE, "; ".join(verdict.inconclusive))
    if verdict.failures:
        raise GateFailure("; ".join(verdict.failures) + f" [{verdict.measurement.point_id.label}]")


class MeasurementItem(pytest.Function):
    """An item whose setup measures the point (failure to measure = ERROR) and whose call checks gates."""

    ma_point: Point

    @property
    def ma_model(self) -> ModelSpec:
        return self.ma_point.model

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"ma: {self.ma_point.label}"


class BinarySearchCollector(pytest.Collector):
    """After all of a model's variants: Model Analyzer's binary search of the load at the constraint boundary
    (search/binary.py), `run_config_search_max_binary_search_steps` items per variant and client batch size.
    Each step's load is decided when it runs, from the measurements before it; the point it measures is an
    ordinary one (`b1-c24`), reported, gated and saved as any other."""

    def collect(self) -> Iterator[pytest.Item]:
        parent, profile_file = self.parent, self.parent.parent if self.parent else None
        assert isinstance(parent, ModelCollector) and isinstance(profile_file, ProfileFile)
        model = parent.model
        for variant in model.variants:
            for batch_size in model.batch_sizes:
                for number in range(1, model.binary_search_steps + 1):
                    step = BinaryStep(model, variant.name, batch_size, number)
                    item = BinaryStepItem.from_parent(self, name=step.name, callobj=check_gates,
                                                      fixtureinfo=profile_file.fixtureinfo)
                    profile_file.fixtureinfo = item._fixtureinfo
                    item.ma_binary = step
                    yield item


class BinaryStepItem(MeasurementItem):
    """A step of the binary search: `ma_point` is set in setup, once the step's load is decided."""

    ma_binary: BinaryStep

    @property
    def ma_model(self) -> ModelSpec:
        return self.ma_binary.model

    def reportinfo(self) -> tuple[Path, int, str]:
        step = self.ma_binary
        return self.path, 0, (f"ma: {step.model.name} / {step.variant} (batch {step.batch_size}, binary search "
                              f"step {step.step})")
