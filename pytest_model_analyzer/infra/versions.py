"""Which versions of the profiled models a run serves and measures: the candidate alone (`CandidateOnly`), or,
in an A/B run, the baseline staged beside it (infra/baseline.py's `Pairing`) and measured in pairs
(`PairedMeasurer`), in one of three `PairMode`s. The server and the measurer ask this object what to serve and how
to measure; nothing asks whether the run is an A/B one.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pytest_model_analyzer.config.model_config import requested_config
from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.domain.identity import PointId, config_digest
from pytest_model_analyzer.domain.measurement import Measurement

if TYPE_CHECKING:  # for typing only: importing the measurer imports Triton's client, which a run may not need
    from pytest_model_analyzer.infra.baseline import Pairing
    from pytest_model_analyzer.infra.measurer import Measurer


@dataclass(frozen=True)
class Served:
    """One version's side of a measurement: the names its models are served under (an A/B run's baseline has
    names of its own; empty: their own) and the models that stay loaded beside it (the pair's other side)."""

    names: Mapping[str, str] = field(default_factory=dict)
    beside: tuple[str, ...] = ()


class PairMode(enum.Enum):
    """How an A/B run takes a pair (docs/gates.md, "Sequential pairs or a duet")."""

    SIDE_BY_SIDE = "side by side"  # both versions held, measured one after the other (the default)
    SWAP = "swap"  # one version held at a time, measured one after the other (--ma-baseline-swap)
    # Both versions held and measured at the same time by two perf_analyzers (--ma-baseline-duet): whatever
    # disturbs the machine during the pair disturbs both sides (Bulej et al., "Duet benchmarking", ICPE 2020).
    DUET = "duet"

    @property
    def one_side_at_a_time(self) -> bool:
        return self is PairMode.SWAP

    @property
    def sequential(self) -> bool:
        """One side measured after the other (a neighbour's load can fall on one side only)."""
        return self is not PairMode.DUET

    def order(self, baseline_first: bool) -> str:
        """How a pair's checkpoint record names its order: which side ran first ("AB": the candidate, "BA"),
        or, in a duet, whose perf_analyzer started first ("A|B", "B|A")."""
        first, second = ("B", "A") if baseline_first else ("A", "B")
        return f"{first}{'' if self.sequential else '|'}{second}"


# A duet's two perf_analyzers measure the same fixed windows: each takes its first three windows as they come
# (perf_analyzer's stability test never fails at 1000%), so that neither runs on alone, uncontended, while the
# other still seeks stability. Their noise is the gate's business: the pairs' scatter (analysis/ab.py).
DUET_FLAGS: dict[str, str] = {"stability-percentage": "1000"}


class PointMeasurer(Protocol):
    """What takes a new measurement of a point (the ledger's `measure`)."""

    def measure(self, point: Point) -> Measurement: ...


@dataclass(frozen=True)
class CpuPlacement:
    """Which CPUs a run's processes may use: the local server's process tree (its backend stubs inherit it) and
    perf_analyzer; None: wherever the OS puts them."""

    server: frozenset[int] | None = None
    client: frozenset[int] | None = None


UNPLACED = CpuPlacement()


def one_core_for_the_server(allowed: Collection[int], slot: int | None) -> CpuPlacement:
    """A duet's placement: the server's whole process tree on one core, so that both sides' model instances
    share one run queue and the scheduler gives them equal time whatever else runs on the machine (on
    separate cores, a neighbour that crowds one core slows whichever side's instances sit there: measured in
    benchmarks/ab_interference.py); perf_analyzer on the other cores. Under xdist each worker's server (`slot`)
    takes a core of its own, from the last one down."""
    cpus = sorted(allowed)
    core = cpus[-1 - (slot or 0) % len(cpus)]
    rest = frozenset(cpus) - {core}
    return CpuPlacement(server=frozenset({core}), client=rest or frozenset({core}))


class Versions(Protocol):
    @property
    def mode(self) -> PairMode | None:
        """How a point's versions are measured in pairs; None: the candidate alone."""

    @property
    def repositories(self) -> Sequence[Path]:
        """Model repositories the local server serves beside the profile's."""

    @property
    def one_side_at_a_time(self) -> bool:
        """Only one version of a model is loaded at a time: an unload is waited for before the next load."""

    def measurer(self, measurer: Measurer) -> PointMeasurer:
        """What measures a point with `measurer`: itself, or pairs of both versions."""

    def placement(self, slot: int | None) -> CpuPlacement:
        """Which CPUs the server of worker `slot` (None: no xdist) and its perf_analyzers may use."""

    def close(self) -> None:
        """Remove what was staged."""


@dataclass(frozen=True)
class CandidateOnly:
    """A run of the profile's models alone."""

    repositories: tuple[Path, ...] = ()
    one_side_at_a_time: bool = False
    mode: PairMode | None = None

    def measurer(self, measurer: Measurer) -> PointMeasurer:
        return measurer

    def placement(self, slot: int | None) -> CpuPlacement:
        return UNPLACED

    def close(self) -> None:
        """Nothing was staged."""


CANDIDATE_ONLY = CandidateOnly()


@dataclass
class PairedMeasurer:
    """An A/B run's measurer (analysis/ab.py): each measurement of a point is a pair, the baseline version's and
    the candidate's taken on the same server one after the other, or at the same time in a duet (`PairMode`). A
    point's pairs alternate their order (AB, BA, ...), and so do the first pairs of successive points, so that
    neither side always runs (or, in a duet, starts) first. A model the baseline lacks is measured alone
    (reported as new, not gated)."""

    measurer: Measurer
    pairing: Pairing
    _pairs: dict[PointId, int] = field(default_factory=dict)  # pairs taken per point, offset by its first order
    _points: int = 0

    def measure(self, point: Point) -> Measurement:
        model = point.model.name
        if model in self.pairing.missing:
            return self.measurer.measure(point)
        taken = self._pairs.get(point.id)
        if taken is None:
            taken = self._points % 2
            self._points += 1
        self._pairs[point.id] = taken + 1
        baseline_first = taken % 2 == 1
        loaded = tuple(point.model.loaded_models)
        served = {name: self.pairing.served_as[name] for name in loaded}
        mode = self.pairing.mode
        apart = mode.one_side_at_a_time
        if not apart:  # both sides' models load at once (they are held side by side anyway)
            self.measurer.load_sides(point, [{}, served])
        # Each side keeps the other's models loaded beside it, unless only one side is held at a time.
        candidate = Served(beside=() if apart else tuple(served.values()))
        baseline = Served(served, () if apart else loaded)
        sides = [baseline, candidate] if baseline_first else [candidate, baseline]
        if mode.sequential:
            first, second = (self.measurer.measure_at_once(point, [side])[0] for side in sides)
        else:
            first, second = self.measurer.measure_at_once(point, sides, DUET_FLAGS)
        after, before = (second, first) if baseline_first else (first, second)
        return after.paired(self._as_requested(point, before), self.pairing.source, self.pairing.keys[model],
                            mode.order(baseline_first))

    def _as_requested(self, point: Point, measured: Measurement) -> Measurement:
        """The baseline side with the config it asked for: the variant laid over the baseline's own config.pbtxt
        (the point's config is the candidate's)."""
        bases = self.pairing.base_configs
        composing = [{**entry, "config": requested_config(dict(bases[entry["model"]]), variant)}
                     for entry, (_, variant) in zip(measured.composing, point.variant.composing, strict=True)]
        config = requested_config(dict(bases[point.model.name]), point.variant) if measured.config else {}
        return dataclasses.replace(measured, config=config, config_digest=config_digest(config, composing),
                                   composing=composing)
