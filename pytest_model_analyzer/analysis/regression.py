"""Regression gates against a baseline checkpoint, like pytest-benchmark's --benchmark-compare-fail.

`perf_throughput:5%` fails a point whose throughput is more than 5% worse than the baseline's;
`perf_latency_p99:0.5` fails one whose p99 is more than 0.5 ms worse. Worse follows the metric's direction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.identity import Setup
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import METRICS, resolve_alias


@dataclass(frozen=True)
class RegressionCheck:
    metric: str
    threshold: float
    percent: bool

    def describe(self) -> str:
        return f"{self.threshold:g}%" if self.percent else f"{self.threshold:g} {METRICS[self.metric].unit}"

    def regression(self, current: float, baseline: float) -> str | None:
        """What regressed, when `current` is worse than `baseline` by more than allowed; else None."""
        metric = METRICS[self.metric]
        worse_by = baseline - current if metric.higher_is_better else current - baseline
        if worse_by <= 0:
            return None
        amount = 100.0 * worse_by / baseline if self.percent and baseline else worse_by
        if amount <= self.threshold:
            return None
        change = f"{amount:.1f}%" if self.percent else f"{amount:.4g} {metric.unit}"
        return (f"{self.metric} regressed by {change} (allowed {self.describe()}): "
                f"{current:.4g} vs baseline {baseline:.4g} {metric.unit}")


def parse_checks(text: str, key: str = "--ma-compare-fail") -> list[RegressionCheck]:
    checks = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        metric, sep, amount = part.partition(":")
        if not sep:
            raise ConfigError(key, f"`{part}`: expected METRIC:PERCENT% or METRIC:AMOUNT, e.g. perf_throughput:5%")
        metric = resolve_alias(metric.strip())
        if metric not in METRICS:
            raise ConfigError(key, f"`{part}`: unknown metric `{metric}`")
        amount = amount.strip()
        percent = amount.endswith("%")
        try:
            value = float(amount.rstrip("%"))
        except ValueError:
            raise ConfigError(key, f"`{part}`: `{amount}` is not a number") from None
        if value < 0:
            raise ConfigError(key, f"`{part}`: the allowed regression cannot be negative")
        checks.append(RegressionCheck(metric, value, percent))
    if not checks:
        raise ConfigError(key, "no checks given")
    return checks


def regressions(current: Mapping[str, float], baseline: Mapping[str, float],
                checks: Sequence[RegressionCheck]) -> list[str]:
    found = []
    for check in checks:
        if check.metric in current and check.metric in baseline:
            message = check.regression(current[check.metric], baseline[check.metric])
            if message is not None:
                found.append(message)
    return found


@dataclass(frozen=True)
class Baseline:
    """What `--ma-compare` compares with: one checkpoint's measurements, and what counts as a regression.

    A measurement is compared with the baseline's measurement of the same setup."""

    name: str
    measurements: Mapping[Setup, Measurement]
    checks: Sequence[RegressionCheck]

    def regressions(self, measurement: Measurement) -> list[str]:
        before = self.measurements.get(measurement.setup)
        if before is None:
            return []
        return [f"{text} ({self.name})" for text in regressions(measurement.metrics, before.metrics, self.checks)]
