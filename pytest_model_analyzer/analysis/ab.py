"""Is the candidate worse than the baseline when both are measured in this run? Paired (A/B) statistics.

With `--ma-baseline-repository` or `--ma-baseline-rev` every point is measured on the baseline version and on the
candidate, one after the other on the same server, as a pair, in alternating order (ABBA; infra/versions.py).
A drift of the machine hits both sides of a pair alike and cancels in the pair's ratio.

Each pair gives r = log(candidate / baseline); a point's change is the mean of its n ratios. The noise of one
pair's ratio is pooled over the model's points (`pair_noise`): s_w^2 within points (more pairs average it out)
and, when the points' first pairs scatter more than s_w^2 beyond chance (an F test at POOLING_LEVEL), s_b^2, an
offset between the sides of a point that persists over its pairs. The first pairs' scatter is clipped to CLIP
robust standard deviations, and s_w^2 is at least what a pair's request counts resolve (`count_floor`). A point's
change has the standard error sqrt(s_w^2 / n + s_b^2); the verdict is statistics.py's `settle` with pairs for
trials, up to MAX_PAIRS, and a point whose estimate rests on a pair unlike the model's others (`in_doubt`) gets
more pairs first; where one pair's noise exceeds WILD allowances, a failure needs every one of MAX_PAIRS pairs
worse than allowed. Why each of these is there, with the runs that showed it: docs/gates.md, "Why the paired gate
is built so".
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from pytest_model_analyzer.analysis.regression import Comparison, RegressionCheck, compare_checks
from pytest_model_analyzer.analysis.statistics import (
    MIN_POINTS,
    SE_FLOOR,
    Allowance,
    Judgement,
    StdError,
    Verdict,
    pooled_variance,
    robust_sd,
    settle,
)
from pytest_model_analyzer.domain.identity import PointId
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.outcome import GateOutcome

MAX_PAIRS = 4  # a point near its allowance is measured at most this often on each side (ABBA twice)
# A first pair further than this many robust standard deviations from the median of the model's first pairs is
# taken for a disturbed one: clipped in their scatter; a point whose estimate rests on it gets more pairs
# (in_doubt).
CLIP = 3.0
# The points' scatter counts an offset between the sides only when it exceeds the within-point noise at this
# level of the F distribution: Bancroft's preliminary test for pooling variance components (alpha 0.25).
POOLING_LEVEL = 0.95
# Pairs whose noise (one pair's standard error) exceeds this many allowances are taken for a mixture, not a bell
# curve: a point of such a model fails only with every pair of MAX_PAIRS worse than allowed (`judge_pairs`).
# Seen at 3.1 (sd 0.33 against 10%: burn beside a neighbour, sequential pairs); the simulation's disturbed sides
# (tests/analysis/test_ab.py) stay below 2.
WILD = 2.0
# WILD's rule in words, for the reports that state the paired gate's rule after statistics.py's RULE.
WILD_RULE = (f"Where one pair's noise exceeds {WILD:g} times the allowance, a point fails only with all {MAX_PAIRS} "
             "pairs worse than allowed.")


def pair_ratios(measurement: Measurement, metric: str) -> list[float]:
    """log(candidate / baseline) of each pair of `metric`; [] when it was not measured on both sides."""
    baseline = measurement.baseline_side
    if baseline is None:
        return []
    current, before = measurement.samples(metric), baseline.samples(metric)
    return [math.log(a / b) for a, b in zip(current, before, strict=False) if a > 0 and b > 0]


@dataclass(frozen=True)
class PairNoise:
    """The noise of one metric of one model's pairs, on the log scale: `within`, the variance of one pair's
    ratio around its point's mean (more pairs average it out), over `df` degrees of freedom, and `between`, the
    variance of an offset of each point's sides that persists over its pairs (more pairs do not), known from
    the points' scatter over `between_df`."""

    within: float
    df: int
    between: float = 0.0
    between_df: int = 0
    # Where the model's first pairs lie but for disturbed ones: their median and the distance from it beyond
    # which a first pair is an outlier (CLIP robust standard deviations); None with too few points.
    typical: tuple[float, float] | None = None

    def atypical(self, ratio: float) -> bool:
        return self.typical is not None and abs(ratio - self.typical[0]) > self.typical[1]

    def standard_error(self, pairs: int) -> StdError:
        variance = self.within / pairs + self.between
        if not self.between:
            return StdError(max(math.sqrt(variance), SE_FLOOR), self.df)
        # Satterthwaite: the variance is scatter - within x (1 - 1/n), two estimates with their own df.
        scatter, shrink = self.between + self.within, self.within * (1 - 1 / pairs)
        df = variance ** 2 / (scatter ** 2 / self.between_df + shrink ** 2 / max(self.df, 1))
        return StdError(max(math.sqrt(variance), SE_FLOOR), max(int(df), 1))


def count_floor(requests: float) -> float:
    """The least variance of a pair's log ratio when each side's figure rests on `requests` requests: a count
    is off by up to one request, a relative error of 1/N per side (variance at most 1/(4 N^2)), two sides."""
    return 1 / (2 * requests ** 2) if requests > 0 else 0.0


def pair_noise(ratios: Sequence[Sequence[float]], floor: float = 0.0) -> PairNoise | None:
    """The pooled noise of a model's points, each given as its list of pair ratios (see the module's text);
    `floor`: the least within-point variance the pairs' request counts allow (`count_floor`)."""
    pooled, within_df = pooled_variance(ratios)
    squares = (pooled or 0.0) * within_df
    firsts = [point[0] for point in ratios if point]
    if len(firsts) < MIN_POINTS:
        return PairNoise(squares / within_df, within_df) if within_df >= 2 else None
    center = statistics.median(firsts)
    spread = robust_sd(firsts)
    # Not s_w: a disturbed pair of a point with two would widen the very bound that is to tell it.
    bound = CLIP * max(spread, math.sqrt(floor))
    scatter = max(statistics.variance([min(max(r, center - bound), center + bound) for r in firsts]), spread ** 2)
    across_df = len(firsts) - 1
    threshold = max(squares / within_df, floor) * _f_quantile(POOLING_LEVEL, across_df, within_df) \
        if within_df else math.inf
    if scatter > threshold:
        within = squares / within_df
        return PairNoise(within, within_df, scatter - within, across_df, (center, bound))
    # No evidence of an offset between the sides: the points' scatter is more of the same noise; pool both.
    return PairNoise((squares + scatter * across_df) / (within_df + across_df), within_df + across_df,
                     typical=(center, bound))


def _f_quantile(level: float, df1: int, df2: int) -> float:
    from scipy.special import fdtri  # as analysis/statistics.py: scipy.special, imported on first use

    return float(fdtri(df1, df2, level))


def judge_pairs(ratios: Sequence[float], allowance: Allowance, noise: PairNoise | None, final: bool) -> Judgement:
    """One check of one point from its pairs; `final`: no more pairs will be taken."""
    if not ratios:
        return Judgement(Verdict.INCONCLUSIVE, reason="not measured on both sides")
    d = statistics.fmean(ratios)
    error = best = None
    if noise is not None:
        error = noise.standard_error(len(ratios))
        # What the pair budget could reach: each further pair also adds a degree of freedom within the point.
        reach = noise.standard_error(max(len(ratios), MAX_PAIRS))
        best = StdError(reach.se, reach.df + max(MAX_PAIRS - len(ratios), 0))
    judgement = settle(d, ratios, error, best, allowance, final or len(ratios) >= MAX_PAIRS,
                       in_doubt=in_doubt(ratios, allowance, noise))
    if judgement.verdict is Verdict.FAIL and noise is not None \
            and noise.standard_error(1).se > WILD * allowance.limit:
        # One pair scatters far past the allowance (a CPU-bound model beside a neighbour that takes a core for a
        # second: a side measured then reads half as fast, and the pairs are a mixture of two modes, not a bell
        # curve). Two or three pairs of four in the same bad mode are not rare there, whatever a t interval
        # says: a failure needs every pair of the budget worse than allowed (a sign test's least p, 1/16).
        if len(ratios) < MAX_PAIRS:
            return dataclasses.replace(judgement, verdict=Verdict.INCONCLUSIVE if final else Verdict.UNDECIDED)
        if allowance.worse_count(ratios) < len(ratios):
            return dataclasses.replace(judgement, verdict=Verdict.INCONCLUSIVE)
    return judgement


def in_doubt(ratios: Sequence[float], allowance: Allowance, noise: PairNoise | None) -> bool:
    """Whether a point's estimate rests on a pair that may be a disturbed one: a pair outside the range of the
    model's first pairs, when it is the point's only pair (a disturbed pair as likely as a point that the
    change spared or hit alone) or when the point's pairs disagree about the allowance (the disturbed pair
    may be all that separates them). Such a point gets another pair instead of a verdict, up to MAX_PAIRS.
    Pairs that merely scatter, as a noisy CPU-bound model's do, stop as early as their noise allows."""
    if noise is None or not any(noise.atypical(r) for r in ratios):
        return False
    return len(ratios) == 1 or allowance.split(ratios)


def duet_advice(outcomes: Collection[GateOutcome], sequential: bool, gpus: int) -> str:
    """What to say at the end of an A/B run of sequential pairs on a machine without GPUs that left most of its
    points undecided: there, a neighbour's load that comes and goes within a pair is the usual cause, and a duet
    cancels it (docs/gates.md, "Sequential pairs or a duet"; not offered where GPUs serve, which a duet does not
    suit). '' otherwise."""
    undecided = sum(outcome is GateOutcome.INCONCLUSIVE for outcome in outcomes)
    if not sequential or gpus or 2 * undecided <= len(outcomes):
        return ""
    return (f"{undecided} of {len(outcomes)} points were too noisy to judge; on a CPU machine shared with other "
            "work, --ma-baseline-duet measures both sides of each pair at once, so that the others' load slows both "
            "(docs/gates.md, \"Sequential pairs or a duet\")")


@dataclass(frozen=True)
class PairedBaseline:
    """What `--ma-baseline-*` compares with: the baseline version measured beside each point in this run, a
    `Reference` (analysis/regression.py) as a checkpoint's `Baseline` is, so the gate treats them alike."""

    name: str  # how messages name the baseline: `origin/main`, or the repository's path
    checks: Sequence[RegressionCheck]
    keys: Mapping[str, str] = field(default_factory=dict)  # each profiled model -> digest of both sides' files

    @property
    def same_run(self) -> bool:
        return True

    @property
    def trial_budget(self) -> int:
        return MAX_PAIRS

    def noise(self, metric: str, model: str, run: Sequence[Measurement]) -> PairNoise | None:
        """The model's pair noise from this run's measurements (one per setup: a measurement that two variants
        with the same config share counts once)."""
        seen: dict[object, list[float]] = {}
        counts = []
        for m in run:
            baseline = m.baseline_side if m.model == model else None
            if baseline is not None:
                ratios = pair_ratios(m, metric)
                if len(ratios) >= len(seen.get(m.setup, [])):
                    seen[m.setup] = ratios
                if m.requests and baseline.requests:
                    counts.append(min(m.requests, baseline.requests))
        return pair_noise(list(seen.values()), count_floor(statistics.median(counts)) if counts else 0.0)

    def compare(self, measurement: Measurement, run: Sequence[Measurement], final: bool) -> Comparison:
        """The point's checks from its pairs; `run`: every measurement so far (for the pooled noise)."""
        baseline = measurement.baseline_side
        if baseline is None:
            return Comparison(new=True)  # the baseline has no such model: measured, reported, not gated

        def judge_check(metric: str, allowance: Allowance) -> Judgement:
            return judge_pairs(pair_ratios(measurement, metric), allowance,
                               self.noise(metric, measurement.model, run), final)

        return compare_checks(measurement, baseline, self.checks,
                              lambda metric: len(pair_ratios(measurement, metric)), judge_check, paired=True)

    def missing(self, model_names: Sequence[str], compared: Collection[PointId]) -> list[PointId]:
        """Every point of a same-run comparison has both sides, or is new: nothing is missing."""
        return []

    def reusable(self, measurement: Measurement) -> bool:
        """A stored pair of this baseline and this candidate (a resumed or killed run): neither side's model
        files changed since (`keys`: each profiled model's digest of both sides' files)."""
        return measurement.pair is not None and measurement.pair.key == self.keys.get(measurement.model)
