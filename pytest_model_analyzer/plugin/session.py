"""The run state of one pytest session, as one dataclass without hooks (as syrupy keeps its session).

Each piece of state has one owner: the ledger owns the measurements, the checkpoint keeper the file, the
facts what the fixtures learned about the server and GPUs. Hooks live in lifecycle.py, terminal.py,
interrupts.py and distributed.py, and reach this object through `config.stash[SESSION_KEY]`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from pytest_model_analyzer.analysis.gates import violations
from pytest_model_analyzer.analysis.ranking import ModelRanking
from pytest_model_analyzer.analysis.regression import Baseline
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.errors import GateFailure
from pytest_model_analyzer.domain.identity import PointId
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra.interrupt import InterruptHandler
from pytest_model_analyzer.reports.columns import Column
from pytest_model_analyzer.results.facts import RunFacts
from pytest_model_analyzer.results.ledger import Ledger
from pytest_model_analyzer.results.saving import CheckpointKeeper

if TYPE_CHECKING:
    from pathlib import Path

PROPERTY = "ma_measurement"  # an item's measurement, as JSON, in its user_properties (and junit XML)
ORIGIN = "ma_from"  # where a reused measurement came from
SESSION_KEY = pytest.StashKey["ModelAnalyzerSession"]()


def measurement_of(report: pytest.TestReport) -> Measurement | None:
    for name, value in getattr(report, "user_properties", ()):
        if name == PROPERTY:
            return Measurement.from_dict(json.loads(value))
    return None


def origin_of(report: pytest.TestReport) -> str:
    return str(dict(getattr(report, "user_properties", ())).get(ORIGIN, ""))


@dataclass
class ModelAnalyzerSession:
    config: pytest.Config
    profile: ProfileConfig
    ledger: Ledger
    keeper: CheckpointKeeper
    interrupt: InterruptHandler
    baseline: Baseline | None = None
    facts: RunFacts = field(default_factory=RunFacts)
    outcomes: dict[PointId, str] = field(default_factory=dict)  # each point's call outcome: passed, failed
    rankings: list[ModelRanking] = field(default_factory=list)  # computed once, at the end of the run
    columns: list[Column] = field(default_factory=list)  # the users' report columns (pytest_ma_report_columns)
    exported: list[Path] = field(default_factory=list)

    def check(self, measurement: Measurement) -> None:
        """Fail the item when its measurement violates a constraint, a user's gate, or regressed."""
        model = self.profile.model(measurement.model)
        found = violations(measurement.metrics, model.constraints)
        for extra in self.config.hook.pytest_ma_gates(measurement=measurement, model=model, config=self.config):
            found += list(extra)
        if self.baseline is not None:
            found += self.baseline.regressions(measurement)
        if found:
            raise GateFailure("; ".join(found) + f" [{measurement.point_id.label}]")
