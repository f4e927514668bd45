"""--ma-compare-fail: parsing, comparison by identity, and verdicts that survive noise."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_model_analyzer.analysis.gates import trials_agree
from pytest_model_analyzer.analysis.regression import Baseline, RegressionCheck, parse_checks
from pytest_model_analyzer.analysis.statistics import Allowance, Noise, Verdict, judge
from pytest_model_analyzer.config import ConfigError
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.measurement import Measurement


def test_parse() -> None:
    assert parse_checks("perf_throughput:5%, perf_latency_p99:0.5") == [
        RegressionCheck("perf_throughput", 5.0, True), RegressionCheck("perf_latency_p99", 0.5, False)]
    assert parse_checks("perf_latency:10%") == [RegressionCheck("perf_latency_p99", 10.0, True)]


@pytest.mark.parametrize(("spec", "message"), [
    ("perf_throughput", "expected METRIC:PERCENT%"), ("speed:5%", "unknown metric `speed`"),
    ("perf_throughput:five%", "`five%` is not a number"), ("perf_throughput:-5%", "cannot be negative"),
    ("", "no checks given"),
])
def test_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_checks(spec)


def m(variant: str, load: int, throughput: list[float], p99: list[float], config: dict | None = None,
      requests: float = 5000.0) -> Measurement:
    measurement = Measurement("add", variant, 1, "concurrency", load, {"perf_throughput": throughput[0],
                              "perf_latency_p99": p99[0]}, config_digest=str(config), config=config or {},
                              requests=requests)
    for t, p in zip(throughput[1:], p99[1:], strict=True):
        measurement = measurement.with_trial(dataclasses.replace(measurement, metrics={
            "perf_throughput": t, "perf_latency_p99": p}))
    return measurement


def baseline_of(*measurements: Measurement, spec: str = "perf_throughput:10%,perf_latency_p99:10%") -> Baseline:
    return Baseline("0.ckpt", {x.point_id: x for x in measurements}, parse_checks(spec))


# Eight points whose throughput scatters by about 2% between runs: the noise the verdicts are judged against.
BASE = [m("v", load, [100.0 * load], [10.0]) for load in range(1, 9)]
JITTER = [1.01, 0.99, 1.02, 0.98, 1.0, 1.015, 0.985, 1.005]


def run_scaled(factor: float) -> list[Measurement]:
    return [m("v", b.load, [b.metrics["perf_throughput"] * factor * j], [10.0 / (factor * j)])
            for b, j in zip(BASE, JITTER, strict=True)]


def test_an_unchanged_point_passes_and_a_real_slowdown_fails_with_its_interval() -> None:
    baseline = baseline_of(*BASE)
    same = run_scaled(1.0)
    assert all(r.verdict is Verdict.PASS for x in same for r in baseline.compare(x, same, final=True).results)
    slower = run_scaled(0.75)
    comparison = baseline.compare(slower[0], slower, final=True)
    assert [r.verdict for r in comparison.results] == [Verdict.FAIL, Verdict.FAIL]
    text = comparison.results[0].describe("0.ckpt")
    assert re.fullmatch(r"perf_throughput -2\d\.\d% \(95% CI -\d+\.\d% to -\d+\.\d%\) vs 0.ckpt, allowed 10%, "
                        r"1 trial", text), text


def test_more_trials_are_taken_only_where_they_can_decide() -> None:
    trial_noise = Noise(within=0.04 ** 2, within_df=20, between=0.0, between_df=20)
    # 2% worse, allowed 10%: with one trial the noise is larger than the allowance, with three it is not.
    assert judge([98.0], [100.0], Allowance(0.10, True), trial_noise, final=False).verdict is Verdict.UNDECIDED
    assert judge([98.0, 97.5, 98.5], [100.0], Allowance(0.10, True), trial_noise, final=False).verdict is Verdict.PASS
    assert judge([98.0], [100.0], Allowance(0.10, True), trial_noise, final=True).verdict is Verdict.INCONCLUSIVE
    # Noise between sessions is not reduced by trials: no trial is taken, the point is inconclusive at once.
    session_noise = Noise(within=0.01 ** 2, within_df=20, between=0.08 ** 2, between_df=20)
    assert judge([98.0], [100.0], Allowance(0.10, True), session_noise, final=False).verdict is Verdict.INCONCLUSIVE


def test_a_change_within_the_noise_of_the_allowance_is_inconclusive() -> None:
    noisy = [m("v", b.load, [b.metrics["perf_throughput"] * j], [10.0]) for b, j in
             zip(BASE, [1.3, 0.75, 1.2, 0.8, 1.0, 1.25, 0.85, 1.1], strict=True)]
    baseline = baseline_of(*BASE, spec="perf_throughput:10%")
    point = dataclasses.replace(noisy[1], metrics={"perf_throughput": noisy[1].metrics["perf_throughput"] * 0.95})
    result = baseline.compare(point, noisy, final=False).results[0]
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "too noisy to judge here (the smallest change this point resolves: about" in result.describe("0.ckpt")


def test_a_percentile_from_too_few_requests_is_not_judged() -> None:
    baseline = baseline_of(*[dataclasses.replace(b, requests=30.0) for b in BASE], spec="perf_latency_p99:10%")
    slower = run_scaled(0.5)
    result = baseline.compare(slower[0], slower, final=True).results[0]
    assert result.verdict is Verdict.INCONCLUSIVE and "about 30 requests" in result.describe("0.ckpt")


def test_a_point_is_compared_by_identity_and_its_config_change_is_named() -> None:
    before = m("v", 1, [100.0], [10.0], config={"parameters": {"sleep_ms": {"string_value": "20"}}})
    after = m("v", 1, [50.0], [20.0], config={"parameters": {"sleep_ms": {"string_value": "40"}}})
    comparison = baseline_of(before).compare(after, [after], final=True)
    assert comparison.config_changed == ("parameters.sleep_ms.string_value 20 -> 40",)
    assert baseline_of(before).compare(m("other", 1, [1.0], [1.0]), [], final=True).new


def test_missing_points_are_listed() -> None:
    baseline = baseline_of(*BASE)
    compared = [BASE[0].point_id]
    assert len(baseline.missing(["add"], compared)) == len(BASE) - 1 and baseline.missing(["other"], compared) == []


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(10.0, 1000.0), min_size=5, max_size=10),
       noise=st.lists(st.floats(-0.03, 0.03), min_size=10, max_size=10))
def test_the_same_figures_within_three_percent_never_fail_a_ten_percent_allowance(
        values: list[float], noise: list[float]) -> None:
    base = [m("v", i + 1, [v], [v]) for i, v in enumerate(values)]
    run = [m("v", i + 1, [v * (1 + e)], [v * (1 - e)]) for i, (v, e) in enumerate(zip(values, noise, strict=False))]
    baseline = baseline_of(*base)
    for x in run:
        assert all(r.verdict is not Verdict.FAIL for r in baseline.compare(x, run, final=True).results)


def test_a_failure_is_confirmed_by_a_second_trial_before_it_is_reported() -> None:
    quiet = Noise(within=0.01 ** 2, within_df=20, between=0.01 ** 2, between_df=20)
    # One trial three times slower (a tail spike): not a failure yet, while another trial can be taken.
    assert judge([30.0], [10.0], Allowance(0.10, False), quiet, final=False).verdict is Verdict.UNDECIDED
    # The second trial is fine: the spike does not confirm.
    assert judge([30.0, 10.1], [10.0], Allowance(0.10, False), quiet, final=False).verdict is not Verdict.FAIL
    # Both trials worse than allowed: a regression.
    assert judge([13.0, 13.2], [10.0], Allowance(0.10, False), quiet, final=False).verdict is Verdict.FAIL


def test_constraint_trials_agree_only_on_the_same_side_of_every_bound() -> None:
    bounds = {"perf_latency_p99": Bounds(max=50.0)}
    assert trials_agree(m("v", 1, [1.0, 1.0], [60.0, 55.0]), bounds)
    assert not trials_agree(m("v", 1, [1.0, 1.0], [60.0, 45.0]), bounds)
    assert trials_agree(m("v", 1, [1.0], [45.0]), bounds)


def test_a_point_measurably_worse_but_within_the_allowance_is_measured_again_before_it_passes() -> None:
    quiet = Noise(within=0.02 ** 2, within_df=20, between=0.0, between_df=20)
    # 9% lower with about 6% resolution: within the 10% allowed, but clearly not unchanged.
    assert judge([91.0], [100.0], Allowance(0.10, True), quiet, final=False).verdict is Verdict.UNDECIDED
    assert judge([91.0, 84.0, 83.0], [100.0], Allowance(0.10, True), quiet, final=False).verdict is Verdict.FAIL
    assert judge([91.0, 92.0, 91.5], [100.0], Allowance(0.10, True), quiet, final=True).verdict is Verdict.PASS

