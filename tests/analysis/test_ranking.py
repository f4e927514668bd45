"""Objectives and ranking: Model Analyzer's weighted comparison, with GPU objectives that count."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_model_analyzer.analysis.ranking import rank, score
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.measurement import Measurement

positive = st.floats(min_value=0.1, max_value=1e5, allow_nan=False)
metric_sets = st.fixed_dictionaries({"perf_throughput": positive, "perf_latency_p99": positive,
                                     "gpu_used_memory": positive})
objectives = st.dictionaries(st.sampled_from(["perf_throughput", "perf_latency_p99", "gpu_used_memory"]),
                             st.integers(1, 10), min_size=1)


def m(variant: str, load: int = 1, **metrics: float) -> Measurement:
    return Measurement("model", variant, 1, "concurrency", load, dict(metrics), config_digest=variant)


def test_model_analyzers_probe() -> None:
    # Throughput 100 -> 200 and p99 10 -> 30 with equal weights: the latency loss dominates (-0.167).
    a, b = {"perf_throughput": 200, "perf_latency_p99": 30}, {"perf_throughput": 100, "perf_latency_p99": 10}
    assert score(a, b, {"perf_throughput": 1, "perf_latency_p99": 1}) == pytest.approx(-1 / 6)


def test_gpu_objectives_count() -> None:
    # Model Analyzer ties every comparison that has a GPU objective; here less memory wins.
    a, b = {"perf_throughput": 100, "gpu_used_memory": 500}, {"perf_throughput": 100, "gpu_used_memory": 1000}
    assert score(a, b, {"gpu_used_memory": 1, "perf_throughput": 1}) > 0


@given(metric_sets, metric_sets, objectives)
def test_score_is_antisymmetric(a: dict, b: dict, weights: dict) -> None:
    assert score(a, b, weights) == pytest.approx(-score(b, a, weights), abs=1e-12)


@given(metric_sets, objectives, st.floats(1.01, 10))
def test_a_point_better_in_every_objective_ranks_first(base: dict, weights: dict, factor: float) -> None:
    better = {"perf_throughput": base["perf_throughput"] * factor,
              "perf_latency_p99": base["perf_latency_p99"] / factor,
              "gpu_used_memory": base["gpu_used_memory"] / factor}
    ranking = rank("model", [m("worse", **base), m("better", **better)], weights, {})
    assert [v.variant for v in ranking.variants] == ["better", "worse"]


def test_passing_variants_rank_first_and_represent_themselves_by_a_passing_point() -> None:
    measurements = [
        m("fast", 1, perf_throughput=500, perf_latency_p99=50), m("fast", 2, perf_throughput=300, perf_latency_p99=8),
        m("slow", 1, perf_throughput=100, perf_latency_p99=5),
    ]
    ranking = rank("model", measurements, {"perf_throughput": 10}, {"perf_latency_p99": Bounds(max=10)})
    assert [v.variant for v in ranking.variants] == ["fast", "slow"]
    assert ranking.best is not None and ranking.best.representative.load == 2  # the best *passing* point
    none_pass = rank("model", measurements, {"perf_throughput": 10}, {"perf_latency_p99": Bounds(max=1)})
    assert none_pass.best is None
    assert none_pass.variants[0].variant == "fast"  # still ordered, for the report


def test_a_capacity_planner_ranks_by_goodput_within_the_slo_not_by_throughput() -> None:
    """`objectives: {perf_goodput: 10}` with `constraints: {perf_slo_attainment: {min: 0.99}}`: the config that
    serves the most requests within the SLO wins, not the one that serves the most requests."""
    measurements = [
        m("batching", 1, perf_throughput=900, perf_goodput=400, perf_slo_attainment=0.44),  # fast, mostly late
        m("batching", 2, perf_throughput=700, perf_goodput=693, perf_slo_attainment=0.99),
        m("instances", 1, perf_throughput=800, perf_goodput=792, perf_slo_attainment=0.99),
    ]
    ranking = rank("model", measurements, {"perf_goodput": 10}, {"perf_slo_attainment": Bounds(min=0.99)})
    assert ranking.best is not None and ranking.best.variant == "instances"
    assert [v.variant for v in ranking.variants] == ["instances", "batching"]
    by_throughput = rank("model", measurements, {"perf_throughput": 10}, {})
    assert by_throughput.variants[0].variant == "batching"
