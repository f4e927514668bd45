"""The ledger of a run: every measurement it knows, by point and by setup, where each came from, and what
could not be measured. It keeps; it decides nothing. `resolver.py` walks the one path that decides where a
point's measurement comes from, and the search (search/driver.py) reads the ledger as its evidence.

The ledger holds no pytest and no process. On an xdist controller, which measures nothing, `observe` takes the
workers' measurements from their reports.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.domain.identity import PointId, Setup
from pytest_model_analyzer.domain.measurement import Measurement

Measure = Callable[[Point], Measurement]  # raises MeasurementError, or PointSkipped in a mode that cannot


class OriginKind(enum.Enum):
    MEASURED = "measured"  # for this item, in this run
    STORED = "stored"  # a checkpoint's (this plugin's), reused
    IMPORTED = "imported"  # another tool's checkpoint (Model Analyzer's), reused
    SAME_CONFIG = "same config"  # another variant's with an identical config, taken in this run


@dataclass(frozen=True)
class Origin:
    """Where an item's measurement came from: `detail` names the checkpoint, the import or the variant."""

    kind: OriginKind = OriginKind.MEASURED
    detail: str = ""

    @property
    def this_run(self) -> bool:
        """Taken in this run: more trials of it are this run's to take (a stored one is judged as it is)."""
        return self.kind in (OriginKind.MEASURED, OriginKind.SAME_CONFIG)

    @property
    def words(self) -> str:
        """As junit's `ma_from` and the terminal show it: '' when measured for the item."""
        if self.kind is OriginKind.SAME_CONFIG:
            return f"same config as {self.detail}"
        return self.detail


MEASURED_HERE = Origin()


@dataclass(frozen=True)
class Resolution:
    """What an item gets: a measurement (and where it came from), or the reason it is skipped."""

    measurement: Measurement | None = None
    origin: Origin = MEASURED_HERE
    skipped: str = ""


class Ledger:
    """Owns every measurement of a run, by point and by setup."""

    def __init__(self, stored: Iterable[Measurement] = (), stored_from: str = "checkpoint",
                 imported: Iterable[Measurement] = (),
                 on_new: Callable[[Measurement], None] = lambda measurement: None) -> None:
        self.stored_from = stored_from  # the checkpoint's file name, for "from 0.ckpt"
        # Told of every measurement this run adds (results/saving.py's JournalKeeper journals it at once).
        self.on_new = on_new
        self._stored: dict[Setup, Measurement] = {m.setup: m for m in stored}  # reusable, never measured again
        self._known: dict[Setup, Measurement] = {}  # the first measurement of each setup in this run
        self._rows: dict[PointId, Measurement] = {}  # what each point reports: the rows of the tables
        self._origins: dict[PointId, Origin] = {}
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

    # -- what the resolver asks and records ----------------------------------------------------------
    def resolved(self, point_id: PointId) -> Resolution | None:
        """The answer a point's item already got (asked again, it gets the same one)."""
        if point_id not in self._resolved:
            return None
        return Resolution(self._rows[point_id], self._origins.get(point_id, MEASURED_HERE))

    def skip_of(self, setup: Setup) -> str | None:
        """Why this setup cannot be measured in this mode, once a measurement said so."""
        return self._skips.get(setup)

    def failure_of(self, setup: Setup) -> str | None:
        """Why this setup could not be measured, once it failed."""
        return self._failures.get(setup)

    def stored_of(self, setup: Setup) -> Measurement | None:
        """A checkpoint's or an import's measurement of this setup: reused, never measured again."""
        return self._stored.get(setup)

    def reuse_stored(self, point: Point, stored: Measurement) -> Resolution:
        self._reused.add(point.setup)
        origin = (Origin(OriginKind.IMPORTED, stored.source) if stored.imported
                  else Origin(OriginKind.STORED, self.stored_from))
        return self.record(point, stored, origin)

    def share(self, point: Point, earlier: Measurement) -> Resolution:
        """The point takes the measurement of another variant with an identical config, taken in this run."""
        return self.record(point, earlier, Origin(OriginKind.SAME_CONFIG, earlier.variant))

    def take_ahead(self, point_id: PointId) -> Measurement | None:
        """The measurement the search took for this point before its item ran, handed over once."""
        return self._ahead.pop(point_id, None)

    def hold_ahead(self, point_id: PointId, measurement: Measurement) -> None:
        self._ahead[point_id] = measurement

    def is_held_ahead(self, point_id: PointId) -> bool:
        return point_id in self._ahead

    def add(self, measurement: Measurement) -> None:
        """A new measurement of this run: kept, and handed to `on_new` at once (the journal)."""
        self._keep(measurement)
        self.on_new(measurement)

    def remember_skip(self, setup: Setup, reason: str) -> None:
        self._skips[setup] = reason

    def remember_failure(self, setup: Setup, reason: str) -> None:
        self._failures[setup] = reason

    def revise(self, measurement: Measurement) -> Measurement:
        """A point measured again (more trials): the new measurement replaces the old everywhere."""
        self._rows[measurement.point_id] = measurement
        if measurement.setup in self._known:
            self._known[measurement.setup] = measurement
        self._new.add(measurement.setup)
        self.on_new(measurement)
        return measurement

    def row(self, point_id: PointId) -> Measurement | None:
        """What the point reports (its row of the tables): after more trials, the revised measurement."""
        return self._rows.get(point_id)

    def record(self, point: Point, measurement: Measurement, origin: Origin = MEASURED_HERE) -> Resolution:
        """The point's item gets this measurement (renamed to its variant when an identical config's)."""
        if measurement.variant != point.variant.name:
            # The same setup under another variant name: an identical config, or Model Analyzer's naming.
            measurement = dataclasses.replace(measurement, variant=point.variant.name)
        self._known.setdefault(point.setup, measurement)
        self._rows[point.id] = measurement
        self._resolved.add(point.id)
        if origin.kind is not OriginKind.MEASURED:  # by kind, not by object: an equal Origin is the same fact
            self._origins[point.id] = origin
        return Resolution(measurement, origin)

    def _keep(self, measurement: Measurement) -> None:
        self._known.setdefault(measurement.setup, measurement)
        self._new.add(measurement.setup)

    # -- an xdist controller ----------------------------------------------------------------------
    def observe(self, measurement: Measurement, reused: bool = False) -> bool:
        """A measurement a worker reported for one of its items (again, with more trials, after its gate
        check); `reused`: the item took it from elsewhere (its report's `ma_from`). True when it adds to the
        checkpoint."""
        self._rows[measurement.point_id] = measurement
        setup = measurement.setup
        known = self._known.get(setup)
        if reused:
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
    def setup_measurement(self, point: Point) -> Measurement | None:
        """The measurement of the point's setup known to this run, if any."""
        return self._known.get(point.setup)

    def is_stored(self, setup: Setup) -> bool:
        """Whether a checkpoint or an import already holds this setup's measurement (it is not measured)."""
        return setup in self._stored

    def has_failed(self, point: Point) -> bool:
        return point.setup in self._failures

    # -- what the run shows and saves -------------------------------------------------------------
    def rows(self) -> list[Measurement]:
        """Every row of the tables: each point that has a measurement once (also those measured ahead of
        items that did not run, e.g. after Ctrl-C), plus imported measurements no item asked for."""
        ahead = [m for point_id, m in self._ahead.items() if point_id not in self._rows]
        return [*self._rows.values(), *ahead]

    def origin(self, point_id: PointId) -> Origin:
        return self._origins.get(point_id, MEASURED_HERE)

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
