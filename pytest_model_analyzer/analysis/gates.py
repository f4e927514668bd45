"""The built-in gates of a point's own measurement: constraints as pass/fail gates, which bounds a measurement
violates, in words a CI log can show. Every gate is a `Gate`; `gates_of` lists a model's (the comparison with a
baseline is the Reference's, analysis/regression.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pytest_model_analyzer.config.profile import ModelSpec
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import metric_of


def _number(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"


def violations(metrics: Mapping[str, float], constraints: Mapping[str, Bounds]) -> list[str]:
    """`perf_latency_p99 = 12.4 ms > max 10 ms` for each violated bound; a missing metric is a violation."""
    found = []
    for tag, bounds in constraints.items():
        metric = metric_of(tag)
        unit = metric.unit if metric else ""
        suffix = f" {unit}" if unit else ""
        value = metrics.get(tag)
        if value is None:
            found.append(f"{tag} was not measured (constrained to{_describe(bounds, suffix)})")
            continue
        if bounds.min is not None and value < bounds.min:
            found.append(f"{tag} = {_number(value)}{suffix} < min {_number(bounds.min)}{suffix}")
        if bounds.max is not None and value > bounds.max:
            found.append(f"{tag} = {_number(value)}{suffix} > max {_number(bounds.max)}{suffix}")
    return found


def _describe(bounds: Bounds, suffix: str) -> str:
    parts = []
    if bounds.min is not None:
        parts.append(f" min {_number(bounds.min)}{suffix}")
    if bounds.max is not None:
        parts.append(f" max {_number(bounds.max)}{suffix}")
    return ",".join(parts)


def satisfies(metrics: Mapping[str, float], constraints: Mapping[str, Bounds]) -> bool:
    return not violations(metrics, constraints)


def trials_agree(measurement: Measurement, constraints: Mapping[str, Bounds]) -> bool:
    """Whether every trial of the measurement is on the same side of every bound."""
    for tag, bounds in constraints.items():
        sides = {(bounds.min is not None and value < bounds.min) or (bounds.max is not None and value > bounds.max)
                 for value in measurement.samples(tag)}
        if len(sides) > 1:
            return False
    return True


class Gate(Protocol):
    """A pass/fail rule on one point's measurement. A failure is confirmed before it is reported
    (analysis/item_verdict.py): `failures` judges the trials' medians, `agree` says whether every trial alone
    judges alike (trials that disagree get a third, which decides)."""

    def failures(self, measurement: Measurement) -> list[str]:
        """Why the point fails, in words (with its figures); [] when it passes."""

    def agree(self, measurement: Measurement) -> bool:
        """Whether each trial on its own passes or fails this gate alike."""


@dataclass(frozen=True)
class ConstraintGate:
    """`constraints` (and the shorthands latency_budget, min_throughput): each metric within its bounds."""

    constraints: Mapping[str, Bounds]

    def failures(self, measurement: Measurement) -> list[str]:
        return violations(measurement.metrics, self.constraints)

    def agree(self, measurement: Measurement) -> bool:
        return trials_agree(measurement, self.constraints)


def gates_of(model: ModelSpec) -> list[Gate]:
    """A model's built-in gates, in the order their failures are listed."""
    return [ConstraintGate(model.constraints)]
