"""The run state of one pytest session, as one dataclass without hooks (as syrupy keeps its session).

Each piece of state has one owner: the ledger owns the measurements, the checkpoint keeper the file, the
facts what the fixtures learned about the server and GPUs. Hooks live in lifecycle.py, terminal_summary.py,
interrupts.py and xdist/workers.py, and reach this object through `config.stash[SESSION_KEY]`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from pytest_model_analyzer.analysis.gates import gates_of
from pytest_model_analyzer.analysis.item_verdict import GateRecord, ItemVerdict, item_verdict
from pytest_model_analyzer.analysis.ranking import ModelRanking
from pytest_model_analyzer.analysis.regression import Comparison, Reference
from pytest_model_analyzer.analysis.statistics import MAX_TRIALS
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.identity import PointId, Setup
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.outcome import GateOutcome
from pytest_model_analyzer.infra.interrupt import InterruptHandler
from pytest_model_analyzer.infra.versions import CandidateOnly, Versions
from pytest_model_analyzer.reports.columns import Column
from pytest_model_analyzer.results.facts import RunFacts
from pytest_model_analyzer.results.ledger import Ledger
from pytest_model_analyzer.results.resolver import PointResolver
from pytest_model_analyzer.results.saving import CheckpointKeeper

if TYPE_CHECKING:
    from pathlib import Path

PROPERTY = "ma_measurement"  # an item's measurement, as JSON, in its user_properties (and junit XML)
ORIGIN = "ma_from"  # where a reused measurement came from
INCONCLUSIVE = "ma_inconclusive"  # the gate checks that could not decide, in words
COMPARISON = "ma_comparison"  # the point's comparison with the baseline, as JSON (analysis/regression.py)
BASELINE_PREFIX = "baseline_"  # an A/B run's baseline figures, each a property of its own: baseline_perf_throughput
SESSION_KEY = pytest.StashKey["ModelAnalyzerSession"]()


# Inside a process a measurement and a comparison stay objects: on the item (its stash), and from the item on
# the reports it makes (ReportedObjects). JSON only where they leave the process: the user_properties that go
# to junit XML and, under xdist, to the controller, which reads them back with `reported_measurement`.
MEASUREMENT_KEY = pytest.StashKey[Measurement]()
COMPARISON_KEY = pytest.StashKey[Comparison]()


@dataclass
class ReportedObjects:
    """What an item of this process reported, by (nodeid, phase): taken when its report is made, read by the
    hooks that get only the report."""

    by_report: dict[tuple[str, str], tuple[Measurement | None, Comparison | None]] = field(default_factory=dict)

    def take(self, item: pytest.Item, report: pytest.TestReport) -> None:
        measurement, comparison = item.stash.get(MEASUREMENT_KEY, None), item.stash.get(COMPARISON_KEY, None)
        if measurement is not None or comparison is not None:
            self.by_report[(report.nodeid, report.when)] = (measurement, comparison)

    def of(self, report: pytest.TestReport) -> tuple[Measurement | None, Comparison | None] | None:
        """None when the report came from another process (an xdist worker's, on the controller)."""
        return self.by_report.get((report.nodeid, report.when))


def reported_measurement(report: pytest.TestReport, here: ReportedObjects | None = None) -> Measurement | None:
    """The measurement a report carries: the object itself when this process made the report, else read from
    its `ma_measurement` property (a worker's report on the xdist controller)."""
    objects = here.of(report) if here is not None else None
    if objects is not None:
        return objects[0]
    for name, value in getattr(report, "user_properties", ()):
        if name == PROPERTY:
            return Measurement.from_dict(json.loads(value))
    return None


def property_of(report: pytest.TestReport, name: str) -> str:
    """One of the plugin's user_properties of a report (ORIGIN, INCONCLUSIVE); '' when absent."""
    return str(dict(getattr(report, "user_properties", ())).get(name, ""))


def set_property(item: pytest.Item, name: str, value: str) -> None:
    """One entry per name: a later value (a measurement with more trials) replaces the earlier one."""
    item.user_properties[:] = [(key, old) for key, old in item.user_properties if key != name]
    item.user_properties.append((name, value))


def set_measurement(item: pytest.Item, measurement: Measurement) -> None:
    """The item's measurement as JSON (`ma_measurement`), and each metric as a property of its own
    (`perf_throughput`, `perf_latency_p99`, ...), which junit-reading dashboards chart without parsing JSON."""
    item.stash[MEASUREMENT_KEY] = measurement
    set_property(item, PROPERTY, measurement.to_json())
    for name, value in sorted(measurement.metrics.items()):
        set_property(item, name, f"{value:.6g}")
    baseline = measurement.baseline_side
    for name, value in sorted(baseline.metrics.items() if baseline is not None else ()):
        set_property(item, f"{BASELINE_PREFIX}{name}", f"{value:.6g}")


def set_comparison(item: pytest.Item, comparison: Comparison) -> None:
    item.stash[COMPARISON_KEY] = comparison
    set_property(item, COMPARISON, json.dumps(comparison.to_dict()))


def comparison_of(report: pytest.TestReport, here: ReportedObjects | None = None) -> Comparison | None:
    objects = here.of(report) if here is not None else None
    if objects is not None:
        return objects[1]
    text = property_of(report, COMPARISON)
    return Comparison.from_dict(json.loads(text)) if text else None


@dataclass
class ModelAnalyzerSession:
    config: pytest.Config
    profile: ProfileConfig
    resolver: PointResolver  # gives each item its measurement; its ledger keeps them all
    keeper: CheckpointKeeper
    interrupt: InterruptHandler
    baseline: Reference | None = None  # a checkpoint's, or one measured in this run (A/B)
    versions: Versions = field(default_factory=CandidateOnly)  # the models' versions served and measured
    facts: RunFacts = field(default_factory=RunFacts)
    # Each point's gate as its item reported it (also under xdist): outcome, comparison, failure.
    gates: dict[PointId, GateRecord] = field(default_factory=dict)
    new_points: list[PointId] = field(default_factory=list)  # compared points the baseline does not have
    drift_allowed: float | None = None  # --ma-fail-if-not-best, in percent
    rankings: list[ModelRanking] = field(default_factory=list)  # computed once, at the end of the run
    columns: list[Column] = field(default_factory=list)  # the users' report columns (pytest_ma_report_columns)
    exported: list[Path] = field(default_factory=list)
    compared_setups: dict[Setup, Comparison] = field(default_factory=dict)  # carried by a shared measurement
    reported: ReportedObjects = field(default_factory=ReportedObjects)  # this process's items' objects

    @property
    def ledger(self) -> Ledger:
        return self.resolver.ledger

    @property
    def outcomes(self) -> dict[PointId, GateOutcome]:
        return {point_id: record.outcome for point_id, record in self.gates.items()}

    @property
    def comparisons(self) -> dict[PointId, Comparison]:
        """Each point's comparison with the baseline as its item judged it: an interval reads the same in every
        place."""
        return {point_id: record.comparison for point_id, record in self.gates.items()
                if record.comparison is not None}

    @property
    def failures(self) -> list[tuple[str, str]]:
        """Each failed gate: the point's label and the item's message."""
        return sorted((point_id.label, record.failure) for point_id, record in self.gates.items() if record.failure)

    @property
    def stopping(self) -> bool:
        """Asked between measurements taken ahead of their items: after a Ctrl-C, or once the checkpoint
        directory cannot keep what is measured (the keeper has asked pytest to stop after the current item)."""
        return self.interrupt.count > 0 or bool(self.keeper.cannot_keep)

    def check(self, measurement: Measurement, another_trial: Callable[[], Measurement] | None = None,
              shared: bool = False) -> ItemVerdict:
        """The item's gates (analysis/item_verdict.py), wired to this run: its ledger records the trials taken, its
        users' `pytest_ma_gates` hooks add theirs, and a comparison is kept for the variants that share the
        config. `shared`: the measurement is another variant's with the same config, which carries that
        variant's comparison. The caller reports the verdict (and fails the item by its failures)."""
        model = self.profile.model(measurement.model)

        def users_gates(judged: Measurement) -> list[str]:
            return [found for extra in self.config.hook.pytest_ma_gates(measurement=judged, model=model,
                                                                         config=self.config) for found in extra]

        verdict = item_verdict(
            measurement, gates_of(model), baseline=self.baseline, rows=self.ledger.rows,
            carried=self.compared_setups.get(measurement.setup) if shared else None,
            another_trial=another_trial, revise=self.ledger.revise,
            trial_budget=self.baseline.trial_budget if self.baseline else MAX_TRIALS,
            same_run=self.baseline is not None and self.baseline.same_run,
            extra_gates=users_gates)
        if verdict.comparison is not None:
            self.compared_setups[measurement.setup] = verdict.comparison
        if verdict.new:
            self.new_points.append(measurement.point_id)
        return verdict
