"""--ma-compare-fail: parsing and the direction of a regression."""

from __future__ import annotations

import pytest

from pytest_model_analyzer.analysis.regression import RegressionCheck, parse_checks, regressions
from pytest_model_analyzer.config import ConfigError


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


def test_worse_follows_the_metrics_direction() -> None:
    checks = parse_checks("perf_throughput:5%,perf_latency_p99:10%")
    baseline = {"perf_throughput": 100.0, "perf_latency_p99": 10.0}
    assert regressions({"perf_throughput": 96.0, "perf_latency_p99": 10.9}, baseline, checks) == []
    assert regressions({"perf_throughput": 200.0, "perf_latency_p99": 1.0}, baseline, checks) == []  # better
    found = regressions({"perf_throughput": 90.0, "perf_latency_p99": 12.0}, baseline, checks)
    assert found == [
        "perf_throughput regressed by 10.0% (allowed 5%): 90 vs baseline 100 infer/sec",
        "perf_latency_p99 regressed by 20.0% (allowed 10%): 12 vs baseline 10 ms",
    ]
