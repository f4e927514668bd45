"""Decides, item by item, which collected points a search measures and why it skips the others.

Collection lists every point a search may measure. Brute decides online, as items run in Model Analyzer's
order (variants, then batch sizes, then loads): a point is skipped when an earlier point of its sweep
failed, when its load sweep reached a plateau, or when its max_batch_size sweep stopped raising throughput.
Quick runs its hill climb, and optuna its trials, when the model's first item is reached (each measured point
is later reported by its own item); the load sweep of the top configurations then proceeds like brute's.
Each mode's own part sits behind the `Search` interface (search/modes/); the early exits are here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.domain.identity import PointId, canonical, load_label
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.search.early_exit import batch_size_sweep_stopped, load_sweep_plateau
from pytest_model_analyzer.search.modes import SEARCHES
from pytest_model_analyzer.search.modes.base import AheadOutcome, MeasureAhead


class Evidence(Protocol):
    """What the search decides from: the run's measurements and failures (results/ledger.py owns them)."""

    def setup_measurement(self, point: Point) -> Measurement | None: ...

    def has_failed(self, point: Point) -> bool: ...


class NoEvidence:
    def setup_measurement(self, point: Point) -> Measurement | None:
        return None

    def has_failed(self, point: Point) -> bool:
        return False






@dataclass
class SearchDriver:
    evidence: Evidence = field(default_factory=NoEvidence)
    points: dict[PointId, Point] = field(default_factory=dict)  # every collected point
    # What each model's search measured ahead of its items (the hill climb's, the trials' outcome), by model.
    outcomes: dict[str, AheadOutcome] = field(default_factory=dict)

    def register(self, point: Point) -> None:
        self.points[point.id] = point

    def _at(self, point: Point, variant: str, batch: int, load: int) -> Point | None:
        return self.points.get(PointId(point.model.name, variant, batch, point.load_kind, load))

    def _throughput(self, point: Point) -> float | None:
        measurement = self.evidence.setup_measurement(point)
        return None if measurement is None else measurement.metrics.get("perf_throughput", 0.0)

    def run_ahead(self, model_name: str, measure: MeasureAhead, top_count: int,
                  stop: Callable[[], bool] = lambda: False) -> AheadOutcome | None:
        """What the model's search measures at its first item, once (search/modes/); its outcome."""
        if model_name in self.outcomes:
            return self.outcomes[model_name]
        model = next((point.model for point_id, point in self.points.items() if point_id.model == model_name), None)
        if model is None:
            return None
        return SEARCHES[model.search].measure_ahead(self, model, measure, top_count, stop)

    def skip_reason(self, point: Point) -> str | None:
        """Why the search skips the point (None: measure it): its mode's own reason, else the sweeps' early
        exits."""
        own = SEARCHES[point.model.search].own_reason(self, point)
        if own.decided:
            return own.reason
        return self._load_sweep_reason(point) or (self._batch_sweep_reason(point) if point.model.early_exit_batch
                                                  else None)

    # -- the early exits of brute (and of the load sweep of quick's and optuna's top configurations) ---------

    def _load_sweep_reason(self, point: Point) -> str | None:
        kind = load_label(point.load_kind)
        throughputs: list[float] = []
        sweep = point.model.load_values if point.model.search.measures_ahead else point.model.loads_for(
            point.variant.name)
        for load in (value for value in sweep if value < point.load):
            earlier = self._at(point, point.variant.name, point.batch_size, load)
            if earlier is None:
                continue
            if self.evidence.has_failed(earlier):
                return f"early exit: the measurement at {kind} {load} failed, which stops this sweep"
            throughput = self._throughput(earlier)
            if throughput is not None:
                throughputs.append(throughput)
                reason = load_sweep_plateau(throughputs) if point.model.early_exit_loads else None
                if reason:
                    return reason
        return None

    def _batch_sweep_reason(self, point: Point) -> str | None:
        size = point.variant.parameters.get("max_batch_size")
        if size is None:
            return None
        rest = canonical({k: v for k, v in point.variant.parameters.items() if k != "max_batch_size"})
        group = sorted((v for v in point.model.variants
                        if "max_batch_size" in v.parameters and v.parameters["max_batch_size"] < size
                        and canonical({k: x for k, x in v.parameters.items() if k != "max_batch_size"}) == rest),
                       key=lambda v: v.parameters["max_batch_size"])
        bests: list[float | None] = []
        names: list[str] = []
        for variant in group:
            points = [p for point_id, p in self.points.items()
                      if point_id.model == point.model.name and point_id.variant == variant.name]
            values = [value for value in map(self._throughput, points) if value is not None]
            if values:
                bests.append(max(values))
            elif any(self.evidence.has_failed(p) for p in points):
                bests.append(None)
            else:
                continue  # deselected or not reached: no evidence either way
            names.append(variant.name)
            reason = batch_size_sweep_stopped(bests, names)
            if reason:
                return reason
        return None





