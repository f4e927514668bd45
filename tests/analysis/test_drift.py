"""The config-drift gate: the shipped config against the best one found, on the model's objectives."""

from __future__ import annotations

from pytest_model_analyzer.analysis.drift import drift
from pytest_model_analyzer.analysis.ranking import rank
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.measurement import Measurement

OBJECTIVES = {"perf_throughput": 10}
P99_UNDER_10 = {"perf_latency_p99": Bounds(None, 10.0)}


def m(variant: str, throughput: float, p99: float = 5.0) -> Measurement:
    return Measurement(model="add", variant=variant, batch_size=1, load_kind="concurrency", load=1,
                       metrics={"perf_throughput": throughput, "perf_latency_p99": p99}, config_digest=variant)


def check(*rows: Measurement, allowed: float = 10.0):
    return drift(rank("add", rows, OBJECTIVES, P99_UNDER_10), OBJECTIVES, allowed)


def test_within_the_allowance_the_shipped_config_passes() -> None:
    assert check(m("add_config_default", 100.0), m("add_config_0", 109.0)) is None
    assert check(m("add_config_default", 120.0), m("add_config_0", 100.0)) is None  # it is the best


def test_clearly_worse_it_fails_naming_the_best() -> None:
    found = check(m("add_config_default", 100.0), m("add_config_0", 200.0), m("add_config_1", 150.0))
    assert found is not None and found.best.variant == "add_config_0"
    assert found.describe(10.0) == ("add: the shipped config (add_config_default) is 66.7% worse on the objectives "
                                    "(allowed 10%) than add_config_0")


def test_breaking_constraints_the_best_meets_fails_at_any_allowance() -> None:
    found = check(m("add_config_default", 300.0, p99=20.0), m("add_config_0", 100.0), allowed=1000.0)
    assert found is not None
    assert found.describe(5) == ("add: the shipped config (add_config_default) breaks the model's constraints, "
                                 "which add_config_0 meets")


def test_nothing_to_compare_is_not_a_failure() -> None:
    assert check(m("add_config_0", 100.0)) is None  # the default was not measured (-k)
    assert check(m("add_config_default", 100.0, p99=20.0), m("add_config_0", 90.0, p99=30.0)) is None  # none passes


def test_models_profiled_together_are_judged_against_their_shipped_combination() -> None:
    shipped, best = "add_config_default,sleep_config_default", "add_config_1,sleep_config_0"
    rows = [Measurement(model="add,sleep", variant=name, batch_size=1, load_kind="concurrency", load=1,
                        metrics={"perf_throughput": value, "perf_latency_p99": 5.0}, config_digest=name)
            for name, value in ((shipped, 100.0), (best, 200.0))]
    ranking = rank("add,sleep", rows, OBJECTIVES, P99_UNDER_10)
    assert drift(ranking, OBJECTIVES, 10.0) is None  # `add,sleep_config_default` names nothing measured
    found = drift(ranking, OBJECTIVES, 10.0, default=shipped)
    assert found is not None and found.shipped.variant == shipped and found.best.variant == best
