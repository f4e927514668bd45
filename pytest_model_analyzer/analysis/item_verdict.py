"""An item's verdict: the model's constraints, the users' gates and the comparison with a baseline, each taking
another trial where one more can decide. A plain function: the pytest layer (plugin/session.py) hands it the
measurement and the ways to take a trial, and raises or reports what it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pytest_model_analyzer.analysis.gates import Gate
from pytest_model_analyzer.analysis.regression import Comparison, Reference
from pytest_model_analyzer.analysis.statistics import MAX_TRIALS, Verdict
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.outcome import GateOutcome

# How many changed config fields a failure lists before "and N more".
CHANGES_SHOWN = 5


@dataclass(frozen=True)
class ItemVerdict:
    measurement: Measurement  # with the trials taken to decide
    failures: list[str]  # why the item fails, in words; empty when it passes
    inconclusive: list[str]  # the comparison's checks that could not decide, in words
    comparison: Comparison | None  # against the baseline, when there is one
    new: bool  # compared, but the baseline has no such point


@dataclass(frozen=True)
class GateRecord:
    """One point's gate as its item reported it (on an xdist controller, from a worker's report): the one
    record the terminal summary, the job summary and junit's properties read, so that each says the same."""

    outcome: GateOutcome
    comparison: Comparison | None = None  # against the baseline, as the item judged it
    failure: str = ""  # the failed item's message


def item_verdict(measurement: Measurement, gates: Sequence[Gate], *,
          baseline: Reference | None = None,
          rows: Callable[[], Sequence[Measurement]] = tuple,
          carried: Comparison | None = None,
          another_trial: Callable[[], Measurement] | None = None,
          revise: Callable[[Measurement], Measurement] = lambda measurement: measurement,
          trial_budget: int = MAX_TRIALS,
          same_run: bool = False,
          extra_gates: Callable[[Measurement], list[str]] = lambda measurement: []) -> ItemVerdict:
    """Fail when the measurement fails one of `gates` (analysis/gates.py: the constraints) or a user's gate, or
    is worse than the baseline by more than allowed.

    - `carried`: the comparison of another variant with the same config, which this point shares.
    - `another_trial` takes one more trial (a pair, against a baseline measured in this run), which `revise`
      records. A comparison takes trials while it is undecided, up to `trial_budget`; a gate's failure
      is confirmed by a second trial, and trials that disagree get a third, which decides (the figures are
      then each metric's median of three). None: a stored measurement, judged as it is.
    - `rows`: every measurement of the run so far (the comparison pools its noise over the model's points).
    - `same_run`: the baseline was measured in this run (A/B), which the message says.
    """
    failures: list[str] = []
    inconclusive: list[str] = []
    comparison = None
    if baseline is not None:
        comparison = carried
        if comparison is None:
            comparison = baseline.compare(measurement, rows(), another_trial is None
                                          or measurement.trial_count >= trial_budget)
            while comparison.undecided and another_trial is not None:
                measurement = revise(measurement.with_trial(another_trial()))
                comparison = baseline.compare(measurement, rows(), measurement.trial_count >= trial_budget)
        failed = comparison.having(Verdict.FAIL)
        failures += [result.describe(baseline.name) for result in failed]
        if failed and comparison.config_changed:
            shown = "; ".join(comparison.config_changed[:CHANGES_SHOWN])
            more = len(comparison.config_changed) - CHANGES_SHOWN
            against = f"the baseline {baseline.name}" if same_run else baseline.name
            failures.append(f"config changed since {against}: {shown}" + (f" (and {more} more)" if more > 0 else ""))
        inconclusive += [result.describe(baseline.name) for result in comparison.having(Verdict.INCONCLUSIVE)]
    while (another_trial is not None and measurement.trial_count < MAX_TRIALS
           and any(gate.failures(measurement) for gate in gates)
           and (measurement.trial_count < 2 or not all(gate.agree(measurement) for gate in gates))):
        measurement = revise(measurement.with_trial(another_trial()))
    failures = [failure for gate in gates for failure in gate.failures(measurement)] + failures \
        + extra_gates(measurement)
    return ItemVerdict(measurement, failures, inconclusive, comparison, bool(comparison and comparison.new))
