"""Is the candidate worse than the baseline when both are measured in this run? Paired (A/B) statistics.

With `--ma-baseline-repository` or `--ma-baseline-rev` every point is measured on the baseline version and on the
candidate, one after the other on the same server, as a pair; the pairs of a point, and the first pairs of a
model's points, alternate their order (AB, BA, AB, ...: ABBA), so that neither side always runs first. A drift
of the machine (a neighbour, the CPU clock, a warming cache) hits both sides of a pair alike and cancels in the
pair's ratio: that is why this gate resolves changes that a comparison with another run's checkpoint cannot
(duet benchmarking, Bulej et al., ICPE 2020; Chromium's Pinpoint A/B jobs).

The statistics work on each pair's log ratio r = log(candidate / baseline). A point's change is the mean of
its n ratios, d, with standard error s / sqrt(n). The scatter of one pair's ratio, s^2, is pooled over the
model's points (they share the server, the model and the machine's noise):

* within points: the ratios' squared deviations from their point's mean, summed over the points with two or
  more pairs, over sum(n_i - 1) degrees of freedom;
* across points: the scatter of each point's first ratio around the median of them (the larger of their
  variance and the robust (1.4826 x MAD)^2), over (points - 1) degrees of freedom, once MIN_POINTS points have a
  pair. A change that every point shares does not count as noise; one that differs between points does,
  which errs towards "inconclusive", never towards a false failure.

With MIN_WITHIN_DF or more degrees of freedom within points, that estimate is used alone; with fewer, both
are pooled; with neither, there is no estimate yet and the point takes another pair. The verdict is the one
rule of analysis/statistics.py (`settle`), with the pairs standing for trials: fail when the change is
worse than allowed, significantly worse than no change, and confirmed by two pairs each worse than allowed
on its own; pass when within the allowance and resolvable at it; otherwise another pair while MAX_PAIRS
could still decide, then inconclusive.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pytest_model_analyzer.analysis.regression import CheckResult, Comparison, RegressionCheck, config_changes
from pytest_model_analyzer.analysis.statistics import (
    MIN_POINTS,
    SE_FLOOR,
    Judgement,
    Verdict,
    required_requests,
    settle,
)
from pytest_model_analyzer.domain.identity import PointId
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import METRICS

MAX_PAIRS = 4  # a point near its allowance is measured at most this often on each side (ABBA twice)
MIN_WITHIN_DF = 4  # within-point degrees of freedom that make the across-point scatter unnecessary


def pair_ratios(measurement: Measurement, metric: str) -> list[float]:
    """log(candidate / baseline) of each pair of `metric`; [] when it was not measured on both sides."""
    baseline = measurement.baseline_side()
    if baseline is None:
        return []
    current, before = measurement.samples(metric), baseline.samples(metric)
    return [math.log(a / b) for a, b in zip(current, before, strict=False) if a > 0 and b > 0]


@dataclass(frozen=True)
class PairNoise:
    """The scatter of one pair's log ratio for one metric of one model, and its degrees of freedom."""

    variance: float
    df: int

    def standard_error(self, pairs: int) -> tuple[float, int]:
        return max(math.sqrt(self.variance / pairs), SE_FLOOR), self.df


def pair_noise(ratios: Sequence[Sequence[float]]) -> PairNoise | None:
    """The pooled noise of a model's points, each given as its list of pair ratios (see the module's text)."""
    squares, within_df = 0.0, 0
    for point in ratios:
        if len(point) > 1:
            mean = statistics.fmean(point)
            squares += sum((r - mean) ** 2 for r in point)
            within_df += len(point) - 1
    if within_df >= MIN_WITHIN_DF:
        return PairNoise(squares / within_df, within_df)
    firsts = [point[0] for point in ratios if point]
    if len(firsts) < MIN_POINTS:
        return PairNoise(squares / within_df, within_df) if within_df >= 2 else None
    center = statistics.median(firsts)
    scatter = max(statistics.variance(firsts), (1.4826 * statistics.median(abs(r - center) for r in firsts)) ** 2)
    across_df = len(firsts) - 1
    return PairNoise((squares + scatter * across_df) / (within_df + across_df), within_df + across_df)


def judge_pairs(ratios: Sequence[float], allowed: float, higher_is_better: bool, noise: PairNoise | None,
                final: bool) -> Judgement:
    """One check of one point from its pairs; `final`: no more pairs will be taken."""
    if not ratios:
        return Judgement(Verdict.INCONCLUSIVE, reason="not measured on both sides")
    d = statistics.fmean(ratios)
    error = best = None
    if noise is not None:
        error = noise.standard_error(len(ratios))
        # What the pair budget could reach: each further pair also adds a degree of freedom within the point.
        se, df = noise.standard_error(max(len(ratios), MAX_PAIRS))
        best = se, df + max(MAX_PAIRS - len(ratios), 0)
    return settle(d, ratios, error, best, allowed, higher_is_better, final or len(ratios) >= MAX_PAIRS)


@dataclass(frozen=True)
class PairedBaseline:
    """What `--ma-baseline-*` compares with: the baseline version measured beside each point in this run.
    The same interface as a checkpoint's `Baseline` (analysis/regression.py), so the gate treats them alike."""

    name: str  # how messages name the baseline: `origin/main`, or the repository's path
    checks: Sequence[RegressionCheck]
    compared: set[PointId] = field(default_factory=set)

    def noise(self, metric: str, model: str, run: Sequence[Measurement]) -> PairNoise | None:
        """The model's pair noise from this run's measurements (one per setup: a measurement that two variants
        with the same config share counts once)."""
        seen: dict[object, list[float]] = {}
        for m in run:
            if m.model == model and m.baseline:
                ratios = pair_ratios(m, metric)
                if len(ratios) >= len(seen.get(m.setup, [])):
                    seen[m.setup] = ratios
        return pair_noise(list(seen.values()))

    def noise_table(self, run: Sequence[Measurement]) -> dict[tuple[str, str], PairNoise | None]:
        models = {m.model for m in run}
        return {(check.metric, model): self.noise(check.metric, model, run) for check in self.checks
                for model in models}

    def compare(self, measurement: Measurement, run: Sequence[Measurement], final: bool,
                noises: Mapping[tuple[str, str], PairNoise | None] | None = None) -> Comparison:
        """The point's checks from its pairs; `run`: every measurement so far (for the pooled noise)."""
        baseline = measurement.baseline_side()
        if baseline is None:
            return Comparison(new=True)  # the baseline has no such model: measured, reported, not gated
        self.compared.add(measurement.point_id)
        results = []
        for check in self.checks:
            ratios = pair_ratios(measurement, check.metric)
            if not ratios:
                continue
            needed = required_requests(check.metric)
            fewest = min((r for r in (measurement.requests, baseline.requests) if r), default=0.0)
            if needed and fewest and fewest < needed:
                judgement = Judgement(Verdict.INCONCLUSIVE, reason=(
                    f"cannot judge: it rests on about {fewest:.0f} requests, and a percentile this high needs "
                    f"{needed} (lengthen measurement-interval, or measurement-request-count)"))
            else:
                key = (check.metric, measurement.model)
                noise = noises[key] if noises is not None and key in noises else self.noise(
                    check.metric, measurement.model, run)
                allowed = check.allowed(statistics.median(baseline.samples(check.metric)))
                judgement = judge_pairs(ratios, allowed, METRICS[check.metric].higher_is_better, noise, final)
            results.append(CheckResult(check, judgement, len(ratios), paired=True))
        changed = tuple(config_changes(baseline.config, measurement.config)) if (
            baseline.config_digest != measurement.config_digest and baseline.config and measurement.config) else ()
        return Comparison(tuple(results), changed)

    def missing(self, model_names: Sequence[str]) -> list[PointId]:
        """Every point of a same-run comparison has both sides, or is new: nothing is missing."""
        return []
