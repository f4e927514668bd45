"""The resolver decides where each point's measurement comes from, the ledger keeps it; a fake measurer, no server."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.points import Point, variant_points
from pytest_model_analyzer.config.profile import ModelSpec
from pytest_model_analyzer.domain.errors import MeasurementError, PointSkipped
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.results.ledger import Ledger
from pytest_model_analyzer.results.resolver import PointResolver
from pytest_model_analyzer.search.plan import plan_profile
from tests.support import MODELS


def model(extra: dict | None = None, name: str = "add") -> ModelSpec:
    extra = dict(extra or {})
    per_model = {"model_config_parameters": extra.pop("model_config_parameters")} if (
        "model_config_parameters" in extra) else {}
    raw = {"model_repository": str(MODELS), "profile_models": {name: per_model}, **extra}
    return plan_profile(build_profile(raw, cwd=Path.cwd())).models[0]


def points(spec: ModelSpec, resolver: PointResolver | None = None) -> list[Point]:
    found = [point for variant in spec.variants for point in variant_points(spec, variant)]
    if resolver is not None:
        for point in found:
            resolver.search.register(point)
    return found


class FakeMeasurer:
    """Throughput from a table (or 100 per instance), and a record of every point measured."""

    def __init__(self, throughput=None) -> None:
        self.throughput = throughput or (lambda point: 100.0 * point.load)
        self.measured: list[Point] = []

    def __call__(self, point: Point) -> Measurement:
        self.measured.append(point)
        return Measurement(point.model.name, point.variant.name, point.batch_size, point.load_kind, point.load,
                           {"perf_throughput": self.throughput(point)}, config_digest=point.config_digest,
                           config=point.config, perf_analyzer_flags=dict(point.perf_analyzer_flags))


MANUAL = {"run_config_search_disable": True, "concurrency": [1, 2],
          "model_config_parameters": {"instance_group": [[{"kind": "KIND_CPU", "count": 2}]],
                                      "dynamic_batching": [None, {}]}}


def test_a_new_point_is_measured_once_and_counts_as_new() -> None:
    resolver, measure = PointResolver(Ledger()), FakeMeasurer()
    first = points(model(MANUAL), resolver)[0]
    resolution = resolver.resolve(first, measure)
    assert resolution.measurement is not None and resolution.origin.words == "" and resolution.skipped == ""
    assert measure.measured == [first]
    assert resolver.ledger.new_count == 1 and resolver.ledger.rows() == [resolution.measurement]
    assert resolver.ledger.to_save() == [resolution.measurement]


def test_a_stored_measurement_of_the_same_setup_is_reused_not_measured() -> None:
    spec = model(MANUAL)
    point = points(spec)[0]
    stored = FakeMeasurer()(point)
    resolver, measure = PointResolver(Ledger([stored], stored_from="3.ckpt")), FakeMeasurer()
    resolution = resolver.resolve(point, measure)
    assert measure.measured == [] and resolution.origin.words == "3.ckpt"
    assert resolution.measurement.metrics == stored.metrics
    assert resolver.ledger.reused_count == 1 and resolver.ledger.new_count == 0


def test_a_changed_config_is_measured_again_under_the_same_point_id() -> None:
    spec = model(MANUAL)
    point = points(spec)[0]
    stored = replace(FakeMeasurer()(point), config_digest="an-older-config")
    resolver, measure = PointResolver(Ledger([stored])), FakeMeasurer()
    resolution = resolver.resolve(point, measure)
    assert measure.measured == [point] and resolution.origin.words == ""
    assert resolution.measurement.point_id == stored.point_id  # same identity: a baseline still finds it


def test_identical_configs_share_one_measurement_and_keep_their_own_rows() -> None:
    spec = model({"run_config_search_disable": True, "concurrency": [1],
                  "model_config_parameters": {"max_batch_size": [8, 8, 4]}})
    # max_batch_size 8 is the repository's own value: config_0 requests the default config again.
    default, same = points(spec)[:2]
    resolver, measure = PointResolver(Ledger()), FakeMeasurer()
    resolver.resolve(default, measure)
    again = resolver.resolve(same, measure)
    assert len(measure.measured) == 1
    assert again.origin.words == f"same config as {default.variant.name}"
    assert again.measurement.variant == same.variant.name
    assert {m.variant for m in resolver.ledger.rows()} == {default.variant.name, same.variant.name}
    assert len(resolver.ledger.to_save()) == 1  # one measurement per setup in the checkpoint


def test_a_failure_errors_every_point_of_its_setup_without_measuring_again() -> None:
    spec = model({"run_config_search_disable": True, "concurrency": [1],
                  "model_config_parameters": {"max_batch_size": [8]}})
    default, same = points(spec)

    def broken(point: Point) -> Measurement:
        raise MeasurementError("perf_analyzer exited with status 99")

    resolver = PointResolver(Ledger())
    with pytest.raises(MeasurementError, match="status 99"):
        resolver.resolve(default, broken)
    with pytest.raises(MeasurementError, match="status 99"):
        resolver.resolve(same, FakeMeasurer())
    assert resolver.ledger.has_failed(default) and resolver.ledger.new_count == 0


def test_a_point_that_cannot_be_measured_in_this_mode_is_skipped_with_the_reason() -> None:
    def refuse(point: Point) -> Measurement:
        raise PointSkipped("reload_model_disable is set")

    resolver = PointResolver(Ledger())
    resolution = resolver.resolve(points(model(MANUAL))[0], refuse)
    assert resolution.measurement is None and resolution.skipped == "reload_model_disable is set"


def test_the_search_skips_a_plateau_without_measuring() -> None:
    spec = model({"run_config_search_max_instance_count": 1, "run_config_search_max_model_batch_size": 1,
                  "run_config_search_max_concurrency": 64}, name="sleep")
    resolver, measure = PointResolver(Ledger()), FakeMeasurer(lambda point: 100.0)  # flat throughput: a plateau
    sweep = [p for p in points(spec, resolver) if p.variant.name == "sleep_config_0"]
    outcomes = [resolver.resolve(point, measure) for point in sweep]
    assert [o.skipped == "" for o in outcomes] == [True] * 4 + [False] * (len(sweep) - 4)
    assert "early exit" in outcomes[4].skipped and len(measure.measured) == 4


def test_quick_search_measures_ahead_and_each_item_reports_its_point_once() -> None:
    spec = model({"run_config_search_mode": "quick", "run_config_search_max_instance_count": 2,
                  "run_config_search_max_model_batch_size": 4, "num_configs_per_model": 1}, name="sleep")
    resolver = PointResolver(Ledger())
    measure = FakeMeasurer(lambda p: 10.0 * p.variant.parameters.get("max_batch_size", 1)
                           * p.variant.parameters.get("instance_group", [{"count": 1}])[0]["count"])
    every = points(spec, resolver)
    first = resolver.resolve(every[0], measure)
    ahead = len(measure.measured)
    assert ahead > 1  # the hill climb ran on the model's first item
    assert first.measurement is not None or "quick search" in first.skipped
    assert len(resolver.ledger.rows()) == ahead  # measured ahead: shown even before their items run
    outcomes = [resolver.resolve(point, measure) for point in every[1:]]
    taken = [o for o in outcomes if o.measurement is not None]
    assert all(o.origin.words == "" for o in taken)
    assert len({p.setup for p in measure.measured}) == len(measure.measured)  # nothing measured twice
    assert any("quick search" in o.skipped for o in outcomes)


def test_imported_measurements_are_rows_and_reusable() -> None:
    point = points(model(MANUAL))[0]
    imported = replace(FakeMeasurer()(point), source="model-analyzer:0.ckpt")
    resolver, measure = PointResolver(Ledger(imported=[imported])), FakeMeasurer()
    assert resolver.ledger.rows() == [imported]
    assert resolver.ledger.new_count == 1  # saved into this plugin's checkpoint
    assert resolver.resolve(point, measure).origin.words == "model-analyzer:0.ckpt" and measure.measured == []


@settings(max_examples=60, deadline=None)
@given(order=st.permutations(range(6)), failing=st.sets(st.integers(0, 5), max_size=2))
def test_whatever_the_order_each_setup_is_measured_at_most_once(order: list[int], failing: set[int]) -> None:
    spec = model({"run_config_search_disable": True, "concurrency": [1, 2, 4],
                  "model_config_parameters": {"max_batch_size": [8, 4]}})
    every = points(spec)  # default, config_0 (same config as the default), config_1
    measure = FakeMeasurer()

    def sometimes_failing(point: Point) -> Measurement:
        if every.index(point) in failing:
            raise MeasurementError("failed")
        return measure(point)

    resolver = PointResolver(Ledger())
    for index in order:
        with contextlib.suppress(MeasurementError):
            resolver.resolve(every[index], sometimes_failing)
    setups = [p.setup for p in measure.measured]
    assert len(setups) == len(set(setups))
    assert resolver.ledger.new_count == len(setups)


def test_every_measurement_the_run_adds_is_handed_on_at_once() -> None:
    handed: list[Measurement] = []
    resolver, measure = PointResolver(Ledger(on_new=handed.append)), FakeMeasurer()
    every = points(model(MANUAL), resolver)
    resolver.resolve(every[0], measure)
    resolver.ledger.revise(resolver.ledger.row(every[0].id).with_trial(measure(every[0])))
    assert [m.trial_count for m in handed] == [1, 2]
    resolver.resolve(every[0], measure)  # already known: nothing new
    assert len(handed) == 2


@pytest.mark.parametrize(("by_variant", "first_item_measures"), [(False, 4), (True, 2)])
def test_a_comparing_run_takes_the_first_trials_of_a_model_or_under_xdist_of_a_variant_ahead(
        by_variant: bool, first_item_measures: int) -> None:
    spec = model({"run_config_search_disable": True, "concurrency": [1, 2],
                  "model_config_parameters": {"max_batch_size": [4]}})
    resolver, measure = PointResolver(Ledger(), first_trials_ahead=True, ahead_by_variant=by_variant), FakeMeasurer()
    every = points(spec, resolver)
    resolver.resolve(every[0], measure)
    assert len(measure.measured) == first_item_measures
    for point in every[1:]:
        resolver.resolve(point, measure)
    assert len(measure.measured) == 4  # each point once, whenever it was taken
