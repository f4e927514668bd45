"""CONTRIBUTING's three extension recipes, each carried out here: a new metric, a new search mode and a new gate
kind, each added in the places the recipe names (here: put in place at run time with monkeypatch), and then
seen at work through the code that must not change for it (parsers, statistics, the driver, the resolver,
the item's verdict)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_model_analyzer.analysis.gates import ConstraintGate, Gate
from pytest_model_analyzer.analysis.item_verdict import item_verdict
from pytest_model_analyzer.analysis.regression import parse_checks
from pytest_model_analyzer.analysis.statistics import required_requests
from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.model_parsers import parse_constraints
from pytest_model_analyzer.config.points import Point, variant_points
from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.config.reference import metrics_markdown
from pytest_model_analyzer.config.search_settings import SearchMode
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import METRICS, Combine, Metric, combined_metrics
from pytest_model_analyzer.results.ledger import Ledger
from pytest_model_analyzer.results.resolver import PointResolver
from pytest_model_analyzer.search import modes
from pytest_model_analyzer.search.driver import SearchDriver
from pytest_model_analyzer.search.modes.base import UNDECIDED, AheadOutcome, MeasureAhead, OwnReason
from pytest_model_analyzer.search.plan import plan_profile
from tests.support import MODELS


def test_recipe_add_a_metric(monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 1 of 2: its Metric (domain/metrics.py). Step 2, the code that measures it, is the measurement
    itself here. Every consumer below reads the Metric and is left as it is."""
    p75 = Metric("perf_latency_p75", "ms", False, "p75 Latency (ms)", Combine.MAX, "perf_analyzer's CSV",
                 quantile=0.75)
    monkeypatch.setitem(METRICS, p75.tag, p75)
    assert parse_constraints({"perf_latency_p75": {"max": 5}}, "constraints") == {"perf_latency_p75": Bounds(max=5)}
    assert parse_checks("perf_latency_p75:5%")[0].metric == "perf_latency_p75"
    assert required_requests("perf_latency_p75") == 40  # a p75 needs 10 requests beyond it
    assert combined_metrics({"a": {"perf_latency_p75": 2.0}, "b": {"perf_latency_p75": 3.0}})[
        "perf_latency_p75"] == 3.0  # models measured together: the worst model's
    assert ConstraintGate({"perf_latency_p75": Bounds(max=5)}).failures(measured(perf_latency_p75=6.0)) == [
        "perf_latency_p75 = 6 ms > max 5 ms"]
    assert "| `perf_latency_p75` | ms | lower |" in metrics_markdown()


@dataclass(frozen=True)
class EverySecondVariant:
    """A new search mode: the listed variants, measuring every second one (a toy rule, in a module of its own
    under search/modes/ in the recipe)."""

    def plan(self, model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
        return model

    def measure_ahead(self, driver: SearchDriver, model: ModelSpec, measure: MeasureAhead, top_count: int,
                      stop: Callable[[], bool]) -> AheadOutcome | None:
        return None

    def own_reason(self, driver: SearchDriver, point: Point) -> OwnReason:
        index = [variant.name for variant in point.model.variants].index(point.variant.name)
        return OwnReason(True, "every second variant: not this one") if index % 2 else UNDECIDED


def test_recipe_add_a_search_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps 1 and 2, the SearchMode member and resolve_search's rule (config/search_settings.py), are stood in
    for by an existing mode; step 3 is the Search class above, step 4 its entry in search/modes/SEARCHES. The
    planner, the driver and the resolver then follow it."""
    monkeypatch.setitem(modes.SEARCHES, SearchMode.MANUAL, EverySecondVariant())
    raw = {"model_repository": str(MODELS), "concurrency": [1],
           "profile_models": {"add": {"model_config_parameters": {"max_batch_size": [1, 2, 3, 4]}}}}
    model = plan_profile(build_profile(raw, cwd=Path.cwd())).models[0]
    assert model.search is SearchMode.MANUAL and len(model.variants) == 5
    resolver = PointResolver(Ledger())
    every = [point for variant in model.variants for point in variant_points(model, variant)]
    for point in every:
        resolver.search.register(point)
    taken: list[str] = []

    def measure(point: Point) -> Measurement:
        taken.append(point.variant.name)  # throughput rising with max_batch_size: no early exit
        return measured(perf_throughput=100.0 * point.variant.parameters.get("max_batch_size", 1))

    outcomes = [resolver.resolve(point, measure) for point in every]
    assert taken == [variant.name for variant in model.variants[::2]]
    assert {o.skipped for o in outcomes[1::2]} == {"every second variant: not this one"}


@dataclass(frozen=True)
class WindowAdjustGate:
    """A new gate kind: perf_analyzer had to lengthen its window more than `most` times (the measurement did
    not settle). In the recipe: this class in analysis/gates.py, returned by `gates_of` for a model whose
    option (config/options.py, read into ModelSpec by config/builder.py) sets `most`."""

    most: int

    def failures(self, measurement: Measurement) -> list[str]:
        adjusts = measurement.window_adjusts / measurement.trial_count
        return [f"window_adjusts = {adjusts:g} > max {self.most}"] if adjusts > self.most else []

    def agree(self, measurement: Measurement) -> bool:
        return True


def test_recipe_add_a_gate_kind() -> None:
    """The item's verdict lists a new gate's failures beside the constraints' and confirms them with another
    trial, as it does a constraint's; the terminal, junit and the job summary show the failure's words."""
    gates: list[Gate] = [ConstraintGate({"perf_throughput": Bounds(min=50.0)}), WindowAdjustGate(most=2)]
    trials = iter([measured(perf_throughput=90.0, adjusts=5)])
    verdict = item_verdict(measured(perf_throughput=100.0, adjusts=4), gates, another_trial=lambda: next(trials))
    assert verdict.measurement.trial_count == 2  # confirmed before it is reported
    assert verdict.failures == ["window_adjusts = 4.5 > max 2"]  # the throughput (median 95) passes
    settled = item_verdict(measured(perf_throughput=100.0, adjusts=1), gates, another_trial=lambda: next(trials))
    assert settled.failures == [] and settled.measurement.trial_count == 1  # a pass takes no further trial


def measured(adjusts: int = 0, **metrics: float) -> Measurement:
    return Measurement("add", "add_config_default", 1, "concurrency", 1, dict(metrics), window_adjusts=adjusts)
