"""The one path that decides where a point's measurement comes from; the ledger keeps what it decides.

A point's measurement comes from exactly one of these places, tried in this order by `PointResolver.resolve`:

1. the quick search's hill climb or optuna's trials, which measure some points ahead of their items (on the
   model's first item);
2. no measurement at all: the search skips the point (early exit, not visited), with the reason;
3. an earlier failure of the same setup: the point errors with that failure's message;
4. a stored measurement of the same setup (the latest checkpoint, or an imported Model Analyzer one);
5. a measurement of the same setup taken earlier in this run under another variant (identical configs);
6. a measurement taken ahead of the item by the quick or optuna search;
7. a new measurement, taken now.

`measure` is a callable, so all of this is unit-tested with a fake. The search (search/driver.py) decides what
to measure and skip from the ledger's evidence; the resolver hands it the measuring.
"""

from __future__ import annotations

from collections.abc import Callable

from pytest_model_analyzer.analysis.gates import satisfies
from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.domain.errors import MeasurementError, PointSkipped
from pytest_model_analyzer.domain.identity import PointId
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.results.ledger import Ledger, Measure, Resolution
from pytest_model_analyzer.search.binary import BinaryStep, decide
from pytest_model_analyzer.search.driver import SearchDriver


class PointResolver:
    """Gives each item its point's measurement: from the ledger when it has one, else measured now."""

    def __init__(self, ledger: Ledger, first_trials_ahead: bool = False, ahead_by_variant: bool = False) -> None:
        self.ledger = ledger
        self.search = SearchDriver(evidence=ledger)
        # Comparing with a baseline: at a model's first item, measure the first trial of all its selected
        # points, so that the noise estimate pools the whole model before the first verdict, and every later
        # trial of a point is interleaved with the others.
        self.first_trials_ahead = first_trials_ahead
        # Under xdist a worker runs only some of a model's variants (loadscope): it measures ahead per variant.
        self.ahead_by_variant = ahead_by_variant
        self.selected: set[PointId] | None = None  # the points that will run (after -k, deselection); None: all
        self._primed: set[tuple[str, str]] = set()  # (model, variant or "") whose first trials were taken ahead

    def resolve(self, point: Point, measure: Measure, stop: Callable[[], bool] = lambda: False) -> Resolution:
        """The measurement of `point` for its item; raises MeasurementError when it cannot be measured."""
        ledger = self.ledger
        if point.model.search.measures_ahead:
            self.search.run_ahead(point.model.name, lambda p: self.measure_ahead(p, measure),
                                  point.model.top_configs, stop=stop)
        elif self.first_trials_ahead and not point.model.decides_online:
            self._measure_model_ahead(point, measure, stop)
        answered = ledger.resolved(point.id)
        if answered is not None:  # asked again: the same answer, never a second measurement
            return answered
        reason = self.search.skip_reason(point)
        if reason is not None:
            return Resolution(skipped=reason)
        setup = point.setup
        skip = ledger.skip_of(setup)
        if skip is not None:
            return Resolution(skipped=skip)
        failure = ledger.failure_of(setup)
        if failure is not None:
            raise MeasurementError(failure)
        stored = ledger.stored_of(setup)
        if stored is not None:
            return ledger.reuse_stored(point, stored)
        earlier = ledger.setup_measurement(point)
        if earlier is not None and earlier.variant != point.variant.name:
            return ledger.share(point, earlier)
        ahead = ledger.take_ahead(point.id)
        if ahead is not None:
            return ledger.record(point, ahead)
        try:
            measurement = self._take(point, measure)
        except PointSkipped as exc:
            return Resolution(skipped=str(exc))
        return ledger.record(point, measurement)

    def measure_ahead(self, point: Point, measure: Measure) -> Measurement | None:
        """A point the search needs before its item runs (the item reports it later); None if it failed."""
        stored = self.ledger.stored_of(point.setup)
        if stored is not None:
            return stored
        try:
            measurement = self._take(point, measure)
        except (PointSkipped, MeasurementError):
            return None  # remembered: the point's item reports it
        self.ledger.hold_ahead(point.id, measurement)
        return measurement

    def _take(self, point: Point, measure: Measure) -> Measurement:
        """A new measurement of the point: kept and handed on at once; a skip or a failure is remembered for
        every point of the same setup, and raised."""
        try:
            measurement = measure(point)
        except PointSkipped as exc:
            self.ledger.remember_skip(point.setup, str(exc))
            raise
        except MeasurementError as exc:
            self.ledger.remember_failure(point.setup, str(exc))
            raise
        self.ledger.add(measurement)
        return measurement

    def _measure_model_ahead(self, point: Point, measure: Measure, stop: Callable[[], bool]) -> None:
        scope = (point.model.name, point.variant.name if self.ahead_by_variant else "")
        if scope in self._primed:
            return
        self._primed.add(scope)
        for other in self.search.points.values():
            if stop():
                return
            in_scope = other.model.name == scope[0] and scope[1] in ("", other.variant.name)
            selected = self.selected is None or other.id in self.selected
            if in_scope and selected and not self.ledger.is_held_ahead(other.id) and (
                    self.ledger.setup_measurement(other) is None):
                self.measure_ahead(other, measure)

    def binary_step(self, step: BinaryStep) -> Point | str:
        """The point a step of the binary search measures, or why it measures nothing (search/binary.py)."""
        sweep = [point for point_id, point in self.search.points.items()
                 if (point_id.model, point_id.variant, point_id.batch_size)
                 == (step.model.name, step.variant, step.batch_size)]

        def outcome(point: Point) -> bool | str | None:
            if self.ledger.has_failed(point):
                return None
            measurement = self.ledger.setup_measurement(point)
            return "" if measurement is None else satisfies(measurement.metrics, point.model.constraints)

        return decide(step, sweep, self.ledger.rows(), outcome)
