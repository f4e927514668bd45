"""Optuna search: Model Analyzer's space, trial budget and early exit, and trials that replay."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_model_analyzer.config.search_settings import OptunaSettings, SearchMode
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.search.optuna_search import TrialBudget, run_trials, trial_budget
from pytest_model_analyzer.search.space import Dimension, optuna_dimensions, space_size
from tests.search.test_search import driver_with_points, profile

SPACE = ("run_config_search_mode: optuna\nrun_config_search_max_instance_count: 4\n"
         "run_config_search_max_model_batch_size: 8\nrun_config_search_max_concurrency: 64\n")


def test_the_budget_is_a_share_of_the_space_unless_trials_are_set() -> None:
    # Model Analyzer's defaults: 5% to 10% of the space.
    assert trial_budget(OptunaSettings(), 112) == TrialBudget(minimum=5, maximum=11, threshold=10)
    # optuna_min/max_trials alone replace the percentages ...
    assert trial_budget(OptunaSettings(min_trials=3, max_trials=30), 112) == TrialBudget(3, 30, 10)
    # ... and beside a user-set percentage the stricter one wins: fewer at most, more at least.
    both = OptunaSettings(min_trials=3, max_trials=30, min_percentage_set=True, max_percentage_set=True)
    assert trial_budget(both, 112) == TrialBudget(5, 11, 10)
    assert trial_budget(dataclasses.replace(both, max_trials=4, min_trials=9), 112) == TrialBudget(9, 4, 10)


def test_the_space_is_model_analyzers_and_names_every_combination_as_a_variant() -> None:
    model = profile(SPACE).models[0]
    assert model.search is SearchMode.OPTUNA
    dimensions = optuna_dimensions(model)
    assert [(d.name, d.values, d.listed) for d in dimensions] == [
        ("max_batch_size", (1, 2, 4, 8), False), ("instance_group", (1, 2, 3, 4), False),
        ("concurrency", (1, 2, 4, 8, 16, 32, 64), False)]
    assert space_size(dimensions) == 112
    assert len(model.variants) == 1 + 16
    assert model.variants[1].parameters == {"instance_group": [{"count": 1, "kind": "KIND_CPU"}],
                                            "max_batch_size": 1, "dynamic_batching": {}}
    # The default config is measured at Model Analyzer's formula: 2 x max_batch_size 8 x 1 instance.
    assert model.extra_loads == {"sleep_config_default": (16,)}


def test_listed_values_and_the_concurrency_formula_narrow_the_space() -> None:
    model = profile(SPACE + "use_concurrency_formula: true\nprofile_models:\n  sleep:\n    model_config_parameters:\n"
                    "      max_batch_size: [2, 8]\n      instance_group: [{kind: KIND_CPU, count: [1, 3]}]\n"
                    "      dynamic_batching: {max_queue_delay_microseconds: [0, 500], preserve_ordering: true}\n"
                    "      parameters: {sleep_ms: {string_value: '10'}}\n").models[0]
    dimensions = optuna_dimensions(model)
    assert [(d.name, d.values, d.listed) for d in dimensions] == [
        ("max_batch_size", (2, 8), True), ("instance_group", (1, 3), True),
        ("max_queue_delay_microseconds", (0, 500), True)]
    assert len(model.variants) == 1 + 8
    last = model.variants[-1]
    assert last.parameters["dynamic_batching"] == {"preserve_ordering": True, "max_queue_delay_microseconds": 500}
    assert last.parameters["parameters"] == {"sleep_ms": {"string_value": "10"}}
    # With the formula each variant is measured at 2 x max_batch_size x instances (clamped to 64) only.
    assert model.extra_loads[last.name] == (48,)
    assert model.loads_for(last.name) == (1, 2, 4, 8, 16, 32, 48, 64)  # the sweep of the top configurations


def test_the_search_stops_after_threshold_trials_without_a_new_best_once_the_minimum_is_reached() -> None:
    dimensions = [Dimension("instance_group", (1, 2, 3, 4, 5), listed=False)]
    flat = run_trials(dimensions, TrialBudget(minimum=2, maximum=20, threshold=3), seed=1, evaluate=lambda _: -1.0)
    assert len(flat) == 3  # nothing beat the default (trial 0): three trials without a new best
    late = run_trials(dimensions, TrialBudget(minimum=8, maximum=20, threshold=3), seed=1, evaluate=lambda _: -1.0)
    assert len(late) == 8  # not before the minimum
    rising = iter(range(1, 100))
    assert len(run_trials(dimensions, TrialBudget(2, 6, 3), seed=1, evaluate=lambda _: float(next(rising)))) == 6


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=1, max_size=3), listed=st.lists(st.booleans(), min_size=3,
       max_size=3), maximum=st.integers(0, 15), minimum=st.integers(0, 15), threshold=st.integers(1, 5),
       seed=st.integers(0, 9999))
def test_trials_stay_in_the_space_within_the_budget_and_replay(sizes: list[int], listed: list[bool], maximum: int,
                                                               minimum: int, threshold: int, seed: int) -> None:
    dimensions = [Dimension(f"d{i}", tuple(range(10 * i, 10 * i + size)), listed=listed[i])
                  for i, size in enumerate(sizes)]
    budget = TrialBudget(minimum, maximum, threshold)

    def evaluate(values: dict[str, int]) -> float:
        return float(sum(values.values()) % 7) - 3.0

    trials = run_trials(dimensions, budget, seed, evaluate)
    assert len(trials) <= maximum
    for trial in trials:
        assert all(trial.values[d.name] in d.values for d in dimensions)
    if len(trials) < maximum:  # stopped early: the rule held at the last trial
        best = max(range(len(trials) + 1), key=lambda n: (0.0 if n == 0 else trials[n - 1].score, -n))
        assert len(trials) >= minimum and len(trials) - best >= threshold
    assert run_trials(dimensions, budget, seed, evaluate) == trials  # same seed, same scores: same trials


def sleep_like(driver, measured: list) -> object:
    """Measures a point as the sleep model behaves: throughput grows with instances, batching and load."""

    def measure(point) -> Measurement:
        size = point.variant.parameters.get("max_batch_size", 8)
        count = point.variant.parameters.get("instance_group", [{"count": 1}])[0]["count"]
        throughput = 50.0 * min(point.load, size * count)
        measured.append(point.id)
        m = Measurement("sleep", point.variant.name, point.batch_size, "concurrency", point.load,
                        {"perf_throughput": throughput, "perf_latency_p99": 20.0 * point.load / count},
                        config_digest=point.config_digest, perf_analyzer_flags=point.perf_analyzer_flags)
        driver.evidence.measured[point.setup] = m
        return m

    return measure


def test_trials_measure_the_default_first_then_a_share_of_the_space_and_sweep_the_top_configurations() -> None:
    model = profile(SPACE + "num_configs_per_model: 2\n").models[0]
    driver = driver_with_points(model)
    measured: list = []
    outcome = driver.run_ahead("sleep", sleep_like(driver, measured), top_count=2)
    assert measured[0].variant == "sleep_config_default" and measured[0].load == 16
    assert 5 <= outcome.trials <= 11 and len(set(measured)) <= 1 + outcome.trials
    assert outcome.measured == set(measured)
    # The two best (the default competes too) and the default: Model Analyzer's ConcurrencySweeper.
    assert "sleep_config_default" in outcome.top and len(outcome.top) in (2, 3)
    assert len(outcome.top - {"sleep_config_default"}) >= 1
    # Every point is either measured by a trial, swept (a top configuration) or skipped with the reason.
    reasons = {driver.skip_reason(point) for point_id, point in driver.points.items()
               if point_id not in outcome.measured and point.variant.name not in outcome.top}
    assert any(reason and reason.startswith("optuna search: none of its") for reason in reasons)
    assert None not in reasons
    # Asked again (a later item of the model): no new trial.
    assert driver.run_ahead("sleep", sleep_like(driver, measured), top_count=2) is outcome

    # A resumed run (the same scores) runs the same trials.
    again = driver_with_points(model)
    replayed: list = []
    again.run_ahead("sleep", sleep_like(again, replayed), top_count=2)
    assert replayed == measured


def test_constraints_steer_the_score_and_a_failed_default_stops_the_search() -> None:
    model = profile(SPACE + "constraints: {perf_latency_p99: {max: 50}}\n").models[0]
    driver = driver_with_points(model)
    outcome = driver.run_ahead("sleep", sleep_like(driver, []), top_count=3)
    assert outcome.trials >= 5 and not outcome.no_reference

    failing = driver_with_points(model)

    def fail(point) -> None:
        return None

    nothing = failing.run_ahead("sleep", fail, top_count=3)
    assert nothing.trials == 0 and nothing.no_reference
    other = next(point for point_id, point in failing.points.items() if point_id.variant == "sleep_config_3")
    assert failing.skip_reason(other).startswith("optuna search: the default configuration could not be measured")
