"""A point's metrics across the checkpoints of a directory, and where they shifted for good.

The checkpoints `0.ckpt`, `1.ckpt`, ... are already a history, one entry per run that measured something.
A checkpoint also carries the measurements it reused, so a measurement is placed once, at the first checkpoint
that holds it (same point, same timestamp). Persistent shifts are found with `ruptures` (PELT), a maintained
change-point library: exact segmentation under a penalty. The cost is the absolute deviation from each
segment's median (`l1`), so that one disturbed run is an outlier and not two shifts (least squares marks
`100, 101, 55, 100, 99` as two); the penalty is 4 sigma log n, with sigma the series' own noise estimated
robustly from its successive differences, and a segment needs two runs at least. Simulated 12-run series with
2% noise: a 10% step is marked at its run in 94% of them, and a shift is marked where there is none in 0.5%.
Runs on a testbed that differs from the run before (another CPU, GPU or driver) are marked, as their figures
are not comparable.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pytest_model_analyzer.analysis.statistics import robust_sd
from pytest_model_analyzer.domain.identity import PointId
from pytest_model_analyzer.domain.measurement import Measurement

MIN_SEGMENT = 2  # runs: a single run apart from its neighbours is an outlier, not a shift
HISTORY_METRICS = ("perf_throughput", "perf_latency_p99", "perf_latency_avg", "gpu_used_memory",
                   "gpu_utilization", "cpu_utilization")


@dataclass(frozen=True)
class Run:
    """One checkpoint: its index, its measurements and the testbed fields that make figures comparable."""

    index: int
    measurements: Sequence[Measurement]
    testbed: Mapping[str, str] = field(default_factory=dict)  # {} when the checkpoint records none


@dataclass(frozen=True)
class Entry:
    checkpoint: int
    value: float
    timestamp: float
    other_testbed: bool  # measured on a testbed other than the run before's


@dataclass(frozen=True)
class Series:
    point: PointId
    metric: str
    entries: tuple[Entry, ...]
    shifts: tuple[int, ...]  # indices into entries where a new level starts

    def shift_of(self, start: int) -> float:
        """The relative change of the level that starts at entries[start] against the level before it."""
        bounds = [0, *self.shifts, len(self.entries)]
        at = bounds.index(start)
        before = statistics.median(e.value for e in self.entries[bounds[at - 1]:start])
        after = statistics.median(e.value for e in self.entries[start:bounds[at + 1]])
        return (after - before) / before if before else math.inf

    def describe_shifts(self) -> str:
        """`-39.9% from checkpoint 3`, one per shift."""
        return ", ".join(f"{100 * self.shift_of(start):+.1f}% from checkpoint {self.entries[start].checkpoint}"
                         for start in self.shifts)


def noise(values: Sequence[float]) -> float:
    """A robust standard deviation of the series' noise: the median absolute deviation of successive
    differences (a shift moves one difference only), scaled to a normal's sigma and by 1/sqrt(2)."""
    diffs = [b - a for a, b in itertools.pairwise(values)]
    if not diffs:
        return 0.0
    return robust_sd(diffs) / math.sqrt(2)


def shifts(values: Sequence[float]) -> list[int]:
    """Where persistent shifts start (indices into `values`); none for fewer than 2 x MIN_SEGMENT runs."""
    n = len(values)
    if n < 2 * MIN_SEGMENT:
        return []
    import numpy as np
    import ruptures

    scale = statistics.median(abs(v) for v in values) or 1.0
    sigma = max(noise(values), 0.005 * scale)  # identical runs: a floor of 0.5% of the level
    penalty = 4 * sigma * math.log(n)
    signal = np.asarray(values, dtype=float).reshape(-1, 1)
    ends = ruptures.Pelt(model="l1", min_size=MIN_SEGMENT, jump=1).fit(signal).predict(pen=penalty)
    return [end for end in ends if end < n]


def build(runs: Sequence[Run], metrics: Sequence[str] = HISTORY_METRICS) -> list[Series]:
    """Every point's series per metric, in checkpoint order, with its shifts."""
    entries: dict[tuple[PointId, str], list[Entry]] = {}
    seen: set[tuple[PointId, float]] = set()
    previous_testbed: Mapping[str, str] = {}
    for run in sorted(runs, key=lambda r: r.index):
        other = bool(previous_testbed) and bool(run.testbed) and dict(previous_testbed) != dict(run.testbed)
        previous_testbed = run.testbed or previous_testbed
        for measurement in run.measurements:
            key = (measurement.point_id, measurement.timestamp)
            if key in seen:
                continue  # a measurement the run reused from an earlier checkpoint
            seen.add(key)
            for metric in metrics:
                if metric in measurement.metrics:
                    entries.setdefault((measurement.point_id, metric), []).append(
                        Entry(run.index, measurement.metrics[metric], measurement.timestamp, other))
    result = []
    for (point, metric), items in sorted(entries.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        result.append(Series(point, metric, tuple(items), tuple(shifts([e.value for e in items]))))
    return result

