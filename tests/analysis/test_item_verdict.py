"""An item's verdict without pytest: constraints confirmed by more trials, the comparison with a baseline taking
trials while they can decide, a shared config carrying its comparison, and the users' gates."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pytest_model_analyzer.analysis.gates import ConstraintGate
from pytest_model_analyzer.analysis.item_verdict import item_verdict
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.measurement import Measurement
from tests.analysis.test_regression import BASE, baseline_of, m, run_scaled

P99_50 = {"perf_latency_p99": Bounds(max=50.0)}


def trials(*p99s: float) -> tuple[Callable[[], Measurement], list[Measurement]]:
    """`another_trial` giving these p99s in turn, and the list `revise` records into."""
    queue = list(p99s)
    recorded: list[Measurement] = []

    def another() -> Measurement:
        return m("v", 1, [100.0], [queue.pop(0)])

    return another, recorded


def test_a_stored_measurement_is_judged_as_it_is() -> None:
    verdict = item_verdict(m("v", 1, [100.0], [60.0]), [ConstraintGate(P99_50)])
    assert verdict.failures == ["perf_latency_p99 = 60 ms > max 50 ms"] and verdict.measurement.trial_count == 1
    assert verdict.comparison is None and not verdict.new


def test_a_violation_is_confirmed_by_a_second_trial_and_a_disagreement_settled_by_a_third() -> None:
    another, recorded = trials(45.0, 40.0)
    verdict = item_verdict(m("v", 1, [100.0], [60.0]), [ConstraintGate(P99_50)], another_trial=another,
                           revise=lambda measured: recorded.append(measured) or measured)
    # 60 then 45 disagree (their median, 52.5 ms, still violates); the third (40) decides: the median, 45 ms.
    assert [r.trial_count for r in recorded] == [2, 3] and verdict.failures == []
    confirmed, _ = trials(70.0, 99.0)
    verdict = item_verdict(m("v", 1, [100.0], [60.0]), [ConstraintGate(P99_50)], another_trial=confirmed)
    assert verdict.measurement.trial_count == 2 and verdict.failures == ["perf_latency_p99 = 65 ms > max 50 ms"]


def test_a_regression_fails_with_the_config_change_and_an_unchanged_point_passes() -> None:
    def sleeping(ms: str, run: list[Measurement]) -> list[Measurement]:
        config = {"parameters": {"sleep_ms": {"string_value": ms}}}
        return [dataclasses.replace(x, config=config, config_digest=ms) for x in run]

    changed = sleeping("40", run_scaled(0.7))
    verdict = item_verdict(changed[0], [], baseline=baseline_of(*sleeping("20", BASE)), rows=lambda: changed,
                           same_run=True)
    assert verdict.failures[0].startswith("perf_throughput -29.3% (95% CI ") and "allowed 10%" in verdict.failures[0]
    assert verdict.failures[-1] == "config changed since the baseline 0.ckpt: parameters.sleep_ms.string_value 20 -> 40"
    unchanged = run_scaled(1.0)
    verdict = item_verdict(unchanged[3], [], baseline=baseline_of(*BASE), rows=lambda: unchanged)
    assert verdict.failures == [] and verdict.comparison is not None and not verdict.new


def test_a_point_the_baseline_lacks_is_new_and_a_shared_config_carries_its_comparison() -> None:
    run = run_scaled(1.0)
    lone = m("other", 1, [100.0], [10.0])
    verdict = item_verdict(lone, [], baseline=baseline_of(*BASE), rows=lambda: [*run, lone])
    assert verdict.new and verdict.failures == []
    slowed = run_scaled(0.7)
    failed = item_verdict(slowed[0], [], baseline=baseline_of(*BASE), rows=lambda: slowed)

    def not_compared_again() -> list[Measurement]:
        raise AssertionError("a carried comparison is not computed again")

    carried = item_verdict(slowed[0], [], baseline=baseline_of(*BASE), rows=not_compared_again,
                           carried=failed.comparison)
    assert carried.comparison is failed.comparison and carried.failures == failed.failures


def test_the_users_gates_come_after_the_constraints() -> None:
    verdict = item_verdict(m("v", 1, [100.0], [60.0]), [ConstraintGate(P99_50)],
                           extra_gates=lambda measured: [f"throughput {measured.metrics['perf_throughput']:g}"])
    assert verdict.failures == ["perf_latency_p99 = 60 ms > max 50 ms", "throughput 100"]
