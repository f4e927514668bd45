"""The ledger of a run's points: every measurement, where it came from, and the one path that decides it.

A point's measurement comes from exactly one of these places, tried in this order by `Ledger.resolve`:

1. the quick search's hill climb or optuna's trials, which measure some points ahead of their items (on the
   model's first item);
2. no measurement at all: the search skips the point (early exit, not visited), with the reason;
3. an earlier failure of the same setup: the point errors with that failure's message;
4. a stored measurement of the same setup (the latest checkpoint, or an imported Model Analyzer one);
5. a measurement of the same setup taken earlier in this run under another variant (identical configs);
6. a measurement taken ahead of the item by the quick or optuna search;
7. a new measurement, taken now.

The ledger holds no pytest and no process: `measure` is a callable, so all of this is unit-tested with a
fake. On an xdist controller, which measures nothing, `observe` takes the workers' measurements from their
reports instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pytest_model_analyzer.analysis.gates import satisfies
from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.config.search_settings import SearchMode
from pytest_model_analyzer.domain.errors import MeasurementError, PointSkipped
from pytest_model_analyzer.domain.identity import PointId, Setup
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.search.binary import BinaryStep, decide
from pytest_model_analyzer.search.driver import SearchDriver

Measure = Callable[[Point], Measurement]  # raises MeasurementError, or PointSkipped in a mode that cannot
SAME_CONFIG = "same config as "  # the origin of a measurement shared by variants with identical configs


@dataclass(frozen=True)
class Resolution:
    """What an item gets: a measurement (and where it came from), or the reason it is skipped."""

    measurement: Measurement | None = None
    origin: str = ""  # where a measurement taken before this item came from; "" when measured for this run
    skipped: str = ""


class Ledger:
    """Owns every measurement of a run, by point and by setup."""

    def __init__(self, stored: Iterable[Measurement] = (), stored_from: str = "checkpoint",
                 imported: Iterable[Measurement] = (), first_trials_ahead: bool = False,
                 ahead_by_variant: bool = False) -> None:
        self.stored_from = stored_from  # the checkpoint's file name, for "from 0.ckpt"
        # Comparing with a baseline: at a model's first item, measure the first trial of all its selected
        # points, so that the noise estimate pools the whole model before the first verdict, and every later
        # trial of a point is interleaved with the others.
        self.first_trials_ahead = first_trials_ahead
        # Under xdist a worker runs only some of a model's variants (loadscope): it measures ahead per variant.
        self.ahead_by_variant = ahead_by_variant
        self.selected: set[PointId] | None = None  # the points that will run (after -k, deselection); None: all
        # Told of every measurement this run adds (the checkpoint keeper journals it at once).
        self.on_new: Callable[[Measurement], None] = lambda measurement: None
        self._primed: set[tuple[str, str]] = set()  # (model, variant or "") whose first trials were taken ahead
        self.search = SearchDriver(evidence=self)
        self._stored: dict[Setup, Measurement] = {m.setup: m for m in stored}  # reusable, never measured again
        self._known: dict[Setup, Measurement] = {}  # the first measurement of each setup in this run
        self._rows: dict[PointId, Measurement] = {}  # what each point reports: the rows of the tables
        self._origins: dict[PointId, str] = {}
        self._ahead: dict[PointId, Measurement] = {}  # measured by the search before their item ran
        self._failures: dict[Setup, str] = {}  # why a setup could not be measured
        self._skips: dict[Setup, str] = {}  # why a setup cannot be measured in this mode
        self._new: set[Setup] = set()  # what the next checkpoint adds
        self._reused: set[Setup] = set()  # stored measurements that points took instead of measuring
        self._resolved: set[PointId] = set()  # points whose item got its measurement
        for measurement in imported:
            self._stored[measurement.setup] = measurement
            self._keep(measurement)
            self._rows[measurement.point_id] = measurement

    # -- the one path -----------------------------------------------------------------------------
    def resolve(self, point: Point, measure: Measure, stop: Callable[[], bool] = lambda: False) -> Resolution:
        """The measurement of `point` for its item; raises MeasurementError when it cannot be measured."""
        if point.model.search is SearchMode.QUICK:
            self.search.run_quick(point.model.name, lambda p: self.measure_ahead(p, measure),
                                  point.model.top_configs, stop=stop)
        elif point.model.search is SearchMode.OPTUNA:
            self.search.run_optuna(point.model.name, lambda p: self.measure_ahead(p, measure),
                                   point.model.top_configs, stop=stop)
        elif self.first_trials_ahead and not point.model.decides_online:
            self._measure_model_ahead(point, measure, stop)
        if point.id in self._resolved:  # asked again: the same answer, never a second measurement
            return Resolution(self._rows[point.id], self._origins.get(point.id, ""))
        reason = self.search.skip_reason(point)
        if reason is not None:
            return Resolution(skipped=reason)
        setup = point.setup
        if setup in self._skips:
            return Resolution(skipped=self._skips[setup])
        if setup in self._failures:
            raise MeasurementError(self._failures[setup])
        stored = self._stored.get(setup)
        if stored is not None:
            self._reused.add(setup)
            origin = stored.source if stored.source != "measured" else self.stored_from
            return self._record(point, stored, origin)
        earlier = self._known.get(setup)
        if earlier is not None and earlier.variant != point.variant.name:
            return self._record(point, earlier, f"{SAME_CONFIG}{earlier.variant}")
        ahead = self._ahead.pop(point.id, None)
        if ahead is not None:
            return self._record(point, ahead)
        try:
            measurement = self._take(point, measure)
        except PointSkipped as exc:
            return Resolution(skipped=str(exc))
        return self._record(point, measurement)

    def measure_ahead(self, point: Point, measure: Measure) -> Measurement | None:
        """A point the search needs before its item runs (the item reports it later); None if it failed."""
        stored = self._stored.get(point.setup)
        if stored is not None:
            return stored
        try:
            measurement = self._take(point, measure)
        except (PointSkipped, MeasurementError):
            return None  # remembered: the point's item reports it
        self._ahead[point.id] = measurement
        return measurement

    def _take(self, point: Point, measure: Measure) -> Measurement:
        """A new measurement of the point: kept and handed on at once; a skip or a failure is remembered for
        every point of the same setup, and raised."""
        try:
            measurement = measure(point)
        except PointSkipped as exc:
            self._skips[point.setup] = str(exc)
            raise
        except MeasurementError as exc:
            self._failures[point.setup] = str(exc)
            raise
        self._keep(measurement)
        self.on_new(measurement)
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
            if in_scope and other.id not in self._ahead and (
                    self.selected is None or other.id in self.selected) and self.measurement_for(other) is None:
                self.measure_ahead(other, measure)

    def revise(self, measurement: Measurement) -> Measurement:
        """A point measured again (more trials): the new measurement replaces the old everywhere."""
        self._rows[measurement.point_id] = measurement
        if measurement.setup in self._known:
            self._known[measurement.setup] = measurement
        self._new.add(measurement.setup)
        self.on_new(measurement)
        return measurement

    def measurement_of(self, point_id: PointId) -> Measurement | None:
        return self._rows.get(point_id)

    def _record(self, point: Point, measurement: Measurement, origin: str = "") -> Resolution:
        if measurement.variant != point.variant.name:
            # The same setup under another variant name: an identical config, or Model Analyzer's naming.
            measurement = dataclasses.replace(measurement, variant=point.variant.name)
        self._known.setdefault(point.setup, measurement)
        self._rows[point.id] = measurement
        self._resolved.add(point.id)
        if origin:
            self._origins[point.id] = origin
        return Resolution(measurement, origin)

    def _keep(self, measurement: Measurement) -> None:
        self._known.setdefault(measurement.setup, measurement)
        self._new.add(measurement.setup)

    # -- an xdist controller ----------------------------------------------------------------------
    def observe(self, measurement: Measurement, origin: str = "") -> bool:
        """A measurement a worker reported for one of its items (again, with more trials, after its gate
        check); True when it adds to the checkpoint."""
        self._rows[measurement.point_id] = measurement
        setup = measurement.setup
        known = self._known.get(setup)
        if origin:
            self._origins[measurement.point_id] = origin
            if setup in self._stored:
                self._reused.add(setup)
            self._known.setdefault(setup, measurement)
            return False
        if known is not None and setup in self._new and known.trial_count >= measurement.trial_count:
            return False
        if known is None or known.trial_count < measurement.trial_count:
            self._known[setup] = measurement
        self._new.add(setup)
        self.on_new(measurement)
        return True

    # -- what the search asks ---------------------------------------------------------------------
    def measurement_for(self, point: Point) -> Measurement | None:
        """The measurement of the point's setup known to this run, if any."""
        return self._known.get(point.setup)

    def is_stored(self, setup: Setup) -> bool:
        """Whether a checkpoint or an import already holds this setup's measurement (it is not measured)."""
        return setup in self._stored

    def has_failed(self, point: Point) -> bool:
        return point.setup in self._failures

    def binary_step(self, step: BinaryStep) -> Point | str:
        """The point a step of the binary search measures, or why it measures nothing (search/binary.py)."""
        sweep = [point for point_id, point in self.search.points.items()
                 if (point_id.model, point_id.variant, point_id.batch_size)
                 == (step.model.name, step.variant, step.batch_size)]

        def outcome(point: Point) -> bool | str | None:
            if self.has_failed(point):
                return None
            measurement = self.measurement_for(point)
            return "" if measurement is None else satisfies(measurement.metrics, point.model.constraints)

        return decide(step, sweep, self.rows(), outcome)

    # -- what the run shows and saves -------------------------------------------------------------
    def rows(self) -> list[Measurement]:
        """Every row of the tables: each point that has a measurement once (also those measured ahead of
        items that did not run, e.g. after Ctrl-C), plus imported measurements no item asked for."""
        ahead = [m for point_id, m in self._ahead.items() if point_id not in self._rows]
        return [*self._rows.values(), *ahead]

    def origin(self, point_id: PointId) -> str:
        return self._origins.get(point_id, "")

    def to_save(self) -> list[Measurement]:
        """What this run knows, one measurement per setup (the store adds what it loaded)."""
        return list(self._known.values())

    def new_measurements(self) -> list[Measurement]:
        """What this run measured that no checkpoint it loaded held: what a lost checkpoint would lose."""
        return [self._known[setup] for setup in self._new if setup in self._known]

    @property
    def new_count(self) -> int:
        return len(self._new)

    @property
    def reused_count(self) -> int:
        return len(self._reused)
