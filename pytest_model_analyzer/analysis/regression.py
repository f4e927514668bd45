"""Regression gates against a baseline checkpoint: `--ma-compare-fail=perf_throughput:5%,perf_latency_p99:0.5`.

`perf_throughput:5%` allows a point's throughput to be up to 5% worse than the baseline's; `perf_latency_p99:0.5`
allows its p99 to be up to 0.5 ms worse. Worse follows the metric's direction.

A point is compared with the baseline's point of the same identity (model, variant, batch, load), even when
its config changed since: a changed config.pbtxt is the commonest cause of a serving regression, and the
failure names what changed. Each check is decided with statistics (analysis/statistics.py): a point fails
only when it is worse than allowed and significantly so; when the noise is too large to tell, it is
inconclusive, never silently passed and never failed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pytest_model_analyzer.analysis.statistics import (
    MAX_TRIALS,
    Allowance,
    Judgement,
    Noise,
    Verdict,
    estimate_noise,
    judge,
    required_requests,
)
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.identity import PointId
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import METRICS, resolve_alias


@dataclass(frozen=True)
class RegressionCheck:
    metric: str
    threshold: float
    percent: bool

    def describe(self) -> str:
        return f"{self.threshold:g}%" if self.percent else f"{self.threshold:g} {METRICS[self.metric].unit}"

    def allowed(self, baseline: float) -> float:
        """The allowed worsening, relative to the baseline's value (an absolute amount is divided by it)."""
        if self.percent:
            return self.threshold / 100.0
        return self.threshold / baseline if baseline else float("inf")


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


def config_changes(before: Any, after: Any, path: str = "") -> list[str]:
    """`parameters.sleep_ms.string_value 20 -> 40` for each field that differs between two configs."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in before:
                found.append(f"{where} added: {after[key]!r}"[:200])
            elif key not in after:
                found.append(f"{where} removed (was {before[key]!r})"[:200])
            else:
                found += config_changes(before[key], after[key], where)
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [change for index, (b, a) in enumerate(zip(before, after, strict=True))
                for change in config_changes(b, a, f"{path}[{index}]")]
    return [] if before == after else [f"{path} {before} -> {after}"[:200]]


def too_few_requests(metric: str, *requests: float) -> Judgement | None:
    """INCONCLUSIVE when a percentile rests on fewer requests than it needs, on either side of the comparison
    (0: unknown, not counted); None when the check can be judged."""
    needed = required_requests(metric)
    fewest = min((r for r in requests if r), default=0.0)
    if needed and fewest and fewest < needed:
        return Judgement(Verdict.INCONCLUSIVE, reason=(
            f"cannot judge: it rests on about {fewest:.0f} requests, and a percentile this high needs "
            f"{needed} (lengthen measurement-interval, or measurement-request-count)"))
    return None


def config_changed(before: Measurement, after: Measurement) -> tuple[str, ...]:
    """What changed in the point's config between the baseline's measurement and this one."""
    if before.config_digest == after.config_digest or not before.config or not after.config:
        return ()
    return tuple(config_changes(before.config, after.config))


def _percent(value: float) -> str:
    return f"{100 * value:+.1f}%"


@dataclass(frozen=True)
class CheckResult:
    check: RegressionCheck
    judgement: Judgement
    trials: int  # this run's trials, or, `paired`, the pairs measured on both sides
    paired: bool = False  # the baseline was measured beside the point in this run (analysis/ab.py)

    @property
    def verdict(self) -> Verdict:
        return self.judgement.verdict

    def describe(self, baseline_name: str) -> str:
        """`perf_throughput -12.4% (95% CI -15.1% to -9.6%) vs 3.ckpt, allowed 5%, 3 trials`, or, paired,
        `perf_throughput -9.4% (95% CI -12.0% to -6.8%) vs baseline origin/main (same run, 4 pairs), allowed 5%`."""
        j, metric = self.judgement, self.check.metric
        if j.reason:
            return f"{metric}: {j.reason}"
        interval = (f" (95% CI {_percent(j.low)} to {_percent(j.high)})" if j.resolution is not None
                    else " (noise not known yet)")
        if self.paired:
            text = (f"{metric} {_percent(j.change)}{interval} vs baseline {baseline_name} (same run, {self.trials} "
                    f"pair{'s' if self.trials > 1 else ''}), allowed {self.check.describe()}")
        else:
            text = (f"{metric} {_percent(j.change)}{interval} vs {baseline_name}, allowed {self.check.describe()}, "
                    f"{self.trials} trial{'s' if self.trials > 1 else ''}")
        if j.verdict is Verdict.INCONCLUSIVE or j.verdict is Verdict.UNDECIDED:
            resolution = f"about {100 * j.resolution:.1f}%" if j.resolution is not None else "not known yet"
            text += f": too noisy to judge here (the smallest change this point resolves: {resolution})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON data: it travels with the item's report (xdist, the job summary), so that every
        place shows the interval the item was judged by."""
        j = self.judgement
        return {"metric": self.check.metric, "threshold": self.check.threshold, "percent": self.check.percent,
                "verdict": j.verdict.value, "change": j.change, "low": _finite(j.low), "high": _finite(j.high),
                "resolution": j.resolution, "reason": j.reason, "trials": self.trials, "paired": self.paired}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        judgement = Judgement(Verdict(data["verdict"]), data["change"],
                              -math.inf if data["low"] is None else data["low"],
                              math.inf if data["high"] is None else data["high"], data["resolution"], data["reason"])
        return cls(RegressionCheck(data["metric"], data["threshold"], data["percent"]), judgement, data["trials"],
                   data["paired"])


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Comparison:
    """One point against the baseline: a result per check, and what changed in its config."""

    results: tuple[CheckResult, ...] = ()
    config_changed: tuple[str, ...] = ()
    new: bool = False  # no baseline point of the same identity

    def having(self, verdict: Verdict) -> list[CheckResult]:
        return [result for result in self.results if result.verdict is verdict]

    @property
    def undecided(self) -> bool:
        return bool(self.having(Verdict.UNDECIDED))

    def to_dict(self) -> dict[str, Any]:
        return {"results": [result.to_dict() for result in self.results], "config_changed": list(self.config_changed),
                "new": self.new}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        return cls(tuple(CheckResult.from_dict(result) for result in data["results"]), tuple(data["config_changed"]),
                   data["new"])


def compare_checks(measurement: Measurement, before: Measurement, checks: Sequence[RegressionCheck],
                   evidence: Callable[[str], int], judge_check: Callable[[str, Allowance], Judgement],
                   paired: bool = False) -> Comparison:
    """The comparison of every reference (the template): each check whose metric both sides measured is judged
    by `judge_check` at the check's allowance, unless a percentile rests on too few requests. `evidence(metric)`:
    the trials (or pairs) the check rests on, 0 when a side lacks the metric."""
    results = []
    for check in checks:
        count = evidence(check.metric)
        if not count:
            continue
        allowance = Allowance(check.allowed(statistics.median(before.samples(check.metric))),
                              METRICS[check.metric].higher_is_better)
        judgement = (too_few_requests(check.metric, measurement.requests, before.requests)
                     or judge_check(check.metric, allowance))
        results.append(CheckResult(check, judgement, count, paired))
    return Comparison(tuple(results), config_changed(before, measurement))


class Reference(Protocol):
    """What a run compares its points with: a checkpoint's measurements (`Baseline`), or the baseline version
    measured beside each point in this run (analysis/ab.py's `PairedBaseline`). The gate treats them alike."""

    @property
    def name(self) -> str:
        """How messages name it: `0.ckpt`, `origin/main`, a repository's path."""

    @property
    def same_run(self) -> bool:
        """Measured beside the candidate in this run (an A/B run): more pairs of a stored pair may be added."""

    @property
    def trial_budget(self) -> int:
        """The most trials (or pairs) a point near its allowance is measured with."""

    def compare(self, measurement: Measurement, run: Sequence[Measurement], final: bool) -> Comparison:
        """The point's checks; `run`: every measurement so far (the noise pools the model's points); with
        `final`, an undecided check is reported as inconclusive."""

    def missing(self, model_names: Sequence[str], compared: Collection[PointId]) -> list[PointId]:
        """The reference's points of the profiled models that this run did not compare (`compared`)."""

    def reusable(self, measurement: Measurement) -> bool:
        """Whether a stored measurement of this run's checkpoints may stand in for measuring its point again."""


@dataclass(frozen=True)
class Baseline:
    """What `--ma-compare` compares with: one checkpoint's measurements, by point identity, and the checks."""

    name: str
    measurements: Mapping[PointId, Measurement]
    checks: Sequence[RegressionCheck]

    @property
    def same_run(self) -> bool:
        return False

    @property
    def trial_budget(self) -> int:
        return MAX_TRIALS

    def noise(self, metric: str, model: str, run: Sequence[Measurement]) -> Noise:
        pairs = [(m.samples(metric), before.samples(metric)) for m in run
                 if m.model == model and (before := self.measurements.get(m.point_id)) is not None]
        return estimate_noise(pairs)

    def compare(self, measurement: Measurement, run: Sequence[Measurement], final: bool) -> Comparison:
        """`run`: every measurement of this run so far (the noise estimate pools the model's points).
        With `final`, an undecided check is reported as inconclusive (no more trials will come)."""
        before = self.measurements.get(measurement.point_id)
        if before is None:
            return Comparison(new=True)

        def evidence(metric: str) -> int:
            return measurement.trial_count if measurement.samples(metric) and before.samples(metric) else 0

        def judge_check(metric: str, allowance: Allowance) -> Judgement:
            return judge(measurement.samples(metric), before.samples(metric), allowance,
                         self.noise(metric, measurement.model, run), final)

        return compare_checks(measurement, before, self.checks, evidence, judge_check)

    def missing(self, model_names: Sequence[str], compared: Collection[PointId]) -> list[PointId]:
        """Baseline points of the profiled models that this run did not compare."""
        return sorted(point_id for point_id in self.measurements
                      if point_id.model in model_names and point_id not in compared)

    def reusable(self, measurement: Measurement) -> bool:
        """None: a comparison with a checkpoint measures every point again (reusing a stored point would
        compare the baseline with itself)."""
        return False
