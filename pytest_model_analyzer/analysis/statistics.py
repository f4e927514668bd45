"""Is a point worse than its baseline by more than allowed? An estimate with its uncertainty, and a verdict
that survives noise.

The model, on the log scale (changes are relative): a trial's value = the point's level + an offset of its
session + trial noise. Comparing n trials of this run with m trials of the baseline estimates the change

    d = mean(log current) - mean(log baseline),  var(d) = s_w^2 (1/n + 1/m) + s_b^2

where s_w is the trial-to-trial noise (pooled over the model's points that have repeated trials) and s_b the
extra noise of a point between sessions, which repeated trials in one session cannot see. s_b comes from the
scatter of the model's single-trial comparisons in this run (their variance around their mean, or 1.4826 x
their median absolute deviation if larger; a drift or a change shared by every point does not count as
noise), less its within-session part 2 s_w^2. With fewer than MIN_POINTS comparisons there is no estimate.
To have them before the first verdict, a comparing run measures the first trial of all of a model's points
ahead of the model's first item (results/ledger.py).

Verdicts against an allowance A on the worsening w (its estimate, and its 95% interval [lo, hi]), as asv
decides ("larger than the factor, and significant"):
* fail: w > A and lo > 0 -- worse than allowed, and significantly worse than the baseline -- confirmed by
  a second trial that is on its own worse than allowed, and by a majority of the trials (a careful engineer
  confirms a failure before reporting it: a one-off tail-latency spike is not a regression);
* pass: w <= A, and the interval's half width t x se is at most A (the noise lets this point be judged at
  the allowance); when it is nevertheless significantly worse than the baseline, trials are taken first
  (one trial may have caught the good side of a real regression);
* undecided: anything else. The caller takes another trial (a separate perf_analyzer run) while the budget
  lasts and more trials could decide (or while a disturbed trial puts the estimate in doubt), then reports
  the point as inconclusive, naming the smallest change it can resolve (t x se). A change larger than
  allowed but within the noise is inconclusive, never failed.

Percentiles need requests in their tail: a p-th percentile from fewer than TAIL_REQUESTS / (1 - p) requests
is not judged at all (a p99 of 30 requests is their maximum).
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from pytest_model_analyzer.domain.metrics import metric_of

CONFIDENCE = 0.95
MAD_TO_SD = 1.4826  # a median absolute deviation times this is a normal distribution's standard deviation


def robust_sd(values: Sequence[float]) -> float:
    """The standard deviation that the values' median absolute deviation implies: a few outliers cannot
    inflate it, as they inflate the sample's."""
    center = statistics.median(values)
    return MAD_TO_SD * statistics.median(abs(value - center) for value in values)


def pooled_variance(groups: Sequence[Sequence[float]]) -> tuple[float | None, int]:
    """The variance within groups (each a point's repeated values), pooled over the groups with two or more
    values, and its degrees of freedom, sum(n_i - 1); None without any repeated value."""
    squares, df = 0.0, 0
    for values in groups:
        if len(values) > 1:
            mean = statistics.fmean(values)
            squares += sum((value - mean) ** 2 for value in values)
            df += len(values) - 1
    return (squares / df if df else None), df


MAX_TRIALS = 3  # a point near its allowance is measured at most this often (separate perf_analyzer runs)
MIN_POINTS = 5  # single-trial comparisons needed before their scatter is an estimate
SE_FLOOR = 0.005  # perf_analyzer's own resolution: no figure is known better than about 0.5%
TAIL_REQUESTS = 10


class Verdict(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    UNDECIDED = "undecided"  # more trials may decide
    INCONCLUSIVE = "inconclusive"  # too noisy to judge at the allowance, or too few requests for a percentile


@dataclass(frozen=True)
class Noise:
    """The noise of one metric of one model in this run, on the log scale."""

    within: float | None = None  # s_w^2, from repeated trials
    within_df: int = 0
    between: float | None = None  # s_b^2, from the scatter of single-trial comparisons
    between_df: int = 0

    def standard_error(self, n: int, m: int) -> StdError | None:
        """The standard error of a comparison of n trials with m baseline trials; None if unknown."""
        if self.between is not None:
            within = self.within or 0.0
            variance = within * (1 / n + 1 / m) + self.between
            return StdError(max(math.sqrt(variance), SE_FLOOR), self.between_df)
        if self.within is not None and self.within_df >= 2:
            return StdError(max(math.sqrt(self.within * (1 / n + 1 / m)), SE_FLOOR), self.within_df)
        return None


def _logs(values: Sequence[float]) -> list[float]:
    return [math.log(value) for value in values if value > 0]


def estimate_noise(pairs: Sequence[tuple[Sequence[float], Sequence[float]]]) -> Noise:
    """Noise from the model's points: each pair holds one point's trials in this run and in the baseline."""
    within, df = pooled_variance([values for current, baseline in pairs for values in (_logs(current),
                                                                                     _logs(baseline))])
    firsts = [(logs_c[0] - logs_b[0]) for logs_c, logs_b in ((_logs(c), _logs(b)) for c, b in pairs)
              if logs_c and logs_b]
    if len(firsts) < MIN_POINTS:
        return Noise(within, df)
    # The larger of the sample variance (what the t interval is calibrated for) and its robust counterpart
    # (which a few close values cannot shrink): either spread may be the honest one for a handful of points.
    scatter = max(statistics.variance(firsts), robust_sd(firsts) ** 2)
    between = max(scatter - 2 * within, 0.0) if within is not None else scatter
    if within is None:
        # No repeated trials yet: the whole scatter of single-trial comparisons stands for one comparison.
        return Noise(None, 0, scatter, len(firsts) - 1)
    return Noise(within, df, between, len(firsts) - 1)


@cache
def t_quantile(df: int) -> float:
    # scipy.special's inverse of Student's t CDF, the very function scipy.stats.t.ppf calls: importing it takes
    # about a quarter of scipy.stats' import (0.16 s against 0.6 s here), which every comparing run paid once.
    from scipy.special import stdtrit  # imported on first use: only comparisons need it

    return float(stdtrit(max(df, 1), 0.5 + CONFIDENCE / 2))


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    change: float = 0.0  # relative change of the metric, current against baseline (-0.12: 12% lower)
    low: float = 0.0  # the change's 95% interval
    high: float = 0.0
    resolution: float | None = None  # the smallest relative change this comparison resolves (t x se)
    reason: str = ""  # why a percentile cannot be judged


def required_requests(metric: str) -> int:
    """How many requests a comparison of `metric` needs: a percentile's tail needs TAIL_REQUESTS of them."""
    known = metric_of(metric)
    quantile = known.quantile if known is not None else None
    return 0 if quantile is None else math.ceil(TAIL_REQUESTS / (1 - quantile))


def judge(current: Sequence[float], baseline: Sequence[float], allowance: Allowance, noise: Noise,
          final: bool = True) -> Judgement:
    """Compare trials of one metric against `allowance` (0.10: 10% worse allowed). A failure is
    confirmed first: two trials, each on its own worse than allowed, so that one disturbed run (a tail-latency
    spike) cannot fail. With `final` no more trials will come: the undecided become inconclusive (and a
    failure resting on its one trial stands, when there was no way to take another)."""
    logs_c, logs_b = _logs(current), _logs(baseline)
    if not logs_c or not logs_b:
        return Judgement(Verdict.INCONCLUSIVE, reason="no positive values to compare")
    d = statistics.fmean(logs_c) - statistics.fmean(logs_b)
    base = statistics.fmean(logs_b)
    return settle(d, [value - base for value in logs_c], noise.standard_error(len(logs_c), len(logs_b)),
                  noise.standard_error(max(len(logs_c), MAX_TRIALS), len(logs_b)), allowance,
                  final or len(logs_c) >= MAX_TRIALS)


CONFIRMING = 2  # a failure needs at least this many trials (or pairs) each worse than allowed, and a majority

# The rule `settle` applies, in words, for the reports that state it (reports/markdown.py): one text, kept beside
# the code it describes; tests/analysis/test_statistics.py checks that it names the thresholds the code uses.
RULE = ("a check fails when the change is worse than allowed, its whole interval is worse than no change, and at "
        f"least {CONFIRMING} {{trials}}, more than half of them, are each worse than allowed on their own; it passes "
        "when the change is within the allowance and the interval's half-width is at most the allowance; a point "
        "whose estimate rests on a {trial} unlike the model's others gets more {trials} before any verdict; "
        "anything else is inconclusive.")


@dataclass(frozen=True)
class StdError:
    """The standard error of an estimated log change, and the degrees of freedom it rests on."""

    se: float
    df: int

    @property
    def half_width(self) -> float:
        """Half the width of the change's CONFIDENCE interval."""
        return t_quantile(self.df) * self.se


@dataclass(frozen=True)
class Allowance:
    """How much worse a metric may get: `worsening` is relative (0.10: 10% worse), and worse is lower when
    `higher_is_better` (throughput), higher otherwise (latency). Every test of a change against it is here."""

    worsening: float
    higher_is_better: bool

    @property
    def limit(self) -> float:
        """The allowed worsening on the log scale."""
        if self.higher_is_better:
            return -math.log(1 - min(self.worsening, 0.999))
        return math.log(1 + self.worsening)

    def worse_by(self, change: float) -> float:
        """A log change as a worsening: positive when worse, whichever way the metric improves."""
        return -change if self.higher_is_better else change

    def worse_count(self, changes: Sequence[float]) -> int:
        """How many trials (or pairs) are on their own worse than allowed; `changes` are their log changes."""
        return sum(self.worse_by(change) > self.limit for change in changes)

    def confirmed(self, changes: Sequence[float]) -> bool:
        """At least CONFIRMING trials, and more than half of them, worse than allowed. The majority matters at
        four pairs: two disturbed ones among four must not fail an unchanged point."""
        worse = self.worse_count(changes)
        return worse >= CONFIRMING and worse > len(changes) / 2

    def split(self, changes: Sequence[float]) -> bool:
        """Some trials worse than allowed, some not."""
        return 0 < self.worse_count(changes) < len(changes)

    def verdict(self, d: float, half: float) -> Verdict:
        """d: the log change; half: its interval's half width."""
        worsening = self.worse_by(d)
        if worsening > self.limit and worsening - half > 0:
            return Verdict.FAIL
        if worsening <= self.limit and half <= self.limit:
            return Verdict.PASS
        return Verdict.UNDECIDED

    def significantly_worse(self, d: float, half: float) -> bool:
        return self.worse_by(d) - half > 0


def settle(d: float, changes: Sequence[float], error: StdError | None, best: StdError | None,
           allowance: Allowance, final: bool, in_doubt: bool = False) -> Judgement:
    """The one decision rule (RULE), for a comparison with a checkpoint (`judge`) and for pairs measured in the
    same run (analysis/ab.py). `d`: the estimated log change; `changes`: each trial's (or pair's) own log
    change, for confirming a failure; `error`: the standard error of `d`, None while unknown; `best`: the one
    the trial budget could still reach, for deciding whether another trial is worth taking; `in_doubt`: the
    estimate itself is in doubt (a trial that may be a disturbed one, analysis/ab.py), so no verdict before the
    budget is spent."""
    change = math.exp(d) - 1
    if error is None:  # no noise estimate yet: another trial gives one
        return Judgement(Verdict.INCONCLUSIVE if final else Verdict.UNDECIDED, change, -math.inf, math.inf)
    half = error.half_width
    verdict = allowance.verdict(d, half)
    if verdict is Verdict.PASS and allowance.significantly_worse(d, half) and not final:
        # Within the allowance, but measurably worse than the baseline: one trial may have caught the good
        # side of a real regression. Firm it up before passing it.
        verdict = Verdict.UNDECIDED
    elif verdict is Verdict.FAIL and not allowance.confirmed(changes):
        if not final:
            verdict = Verdict.UNDECIDED  # confirm with another trial before reporting
        elif len(changes) > 1:
            verdict = Verdict.INCONCLUSIVE  # the trials disagree: a noisy difference, not a regression
    elif verdict is Verdict.UNDECIDED and (
            final or best is None or allowance.verdict(d, best.half_width) is Verdict.UNDECIDED):
        # Sequential testing: another trial is worth taking only if the trial budget could decide at this
        # estimate. Noise between sessions is not reduced by trials; when it alone keeps the point
        # undecided, stop now.
        verdict = Verdict.INCONCLUSIVE
    if in_doubt and not final:
        verdict = Verdict.UNDECIDED
    return Judgement(verdict, change, math.exp(d - half) - 1, math.exp(d + half) - 1, math.exp(half) - 1)
