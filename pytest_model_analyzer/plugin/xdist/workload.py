"""How a run's points split into units of work for several workers, and what each unit is expected to cost.

A unit is a family of variants: those whose configs differ at most in their instance groups. Triton applies
an instance-group change in about 0.1 s, while any other change reloads the model (1.4 s for the small `add`
model), so a worker that runs a family runs it with one load; and variants with identical configs (the
repository's default and a sweep's copy of it) fall in one family, so one worker measures each setup once
and its ledger hands the measurement to the twin's items, as a single process does. A model whose search
decides online which points it measures (early exits) keeps one unit per variant, in order, and such a unit
is never split; a model whose search measures across its variants ahead of their items (quick, optuna) is one
unit, never split. The cost, in expected seconds, lets the xdist scheduler hand out the
dearest unit first (longest-processing-time first) and decide whether splitting a unit's tail pays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_model_analyzer.config.flags import counts_requests
from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.domain.identity import Setup, canonical

# Seconds, as seen for the example models on the bundled server (docs/scaling.md): a model
# (re)load, and perf_analyzer's own start-up and connection around its measurement windows.
LOAD_S = 1.5
PERF_ANALYZER_START_S = 0.4
# Windows perf_analyzer takes for a stable measurement: three that agree, and usually one or two more.
EXPECTED_WINDOWS = 4
# count_windows ends after a number of requests, so its time depends on the model's speed, unknown before the
# run: assume what the default interval takes.
COUNT_WINDOW_S = 1.0
_DEFAULT_INTERVAL_MS = 5000


def point_seconds(flags: Mapping[str, Any]) -> float:
    """Expected seconds of one perf_analyzer measurement under these flags."""
    if counts_requests(flags):
        window = COUNT_WINDOW_S
    else:
        window = float(flags.get("measurement-interval", _DEFAULT_INTERVAL_MS)) / 1000.0
    return PERF_ANALYZER_START_S + EXPECTED_WINDOWS * window


@dataclass(frozen=True)
class WorkUnit:
    key: str  # the model and its config less the instance groups (or the variant, for a search online)
    cost: float  # expected seconds: one load, and each setup not yet measured
    splittable: bool  # whether its later points may run on another worker (not for a search online)


@dataclass(frozen=True)
class Workload:
    """Each point's unit and its own expected cost, by the node-id tail `model::variant::b1-c8`."""

    units: dict[str, WorkUnit]
    point_cost: dict[str, float]  # 0 for a point whose measurement is reused (a twin's, or a stored one)

    def unit_of(self, nodeid: str) -> WorkUnit | None:
        return self.units.get(tail(nodeid))

    def cost_of(self, nodeid: str) -> float:
        return self.point_cost.get(tail(nodeid), 0.0)


def tail(nodeid: str) -> str:
    """`model::variant::b1-c8` of `path/profile.yaml::model::variant::b1-c8` (the path depends on rootdir)."""
    parts = nodeid.split("::")
    return "::".join(parts[-3:]) if len(parts) >= 4 else ""


def plan_workload(points: Iterable[Point], stored: Callable[[Setup], bool]) -> Workload:
    """Group the points into units and price them. A stored setup (a resumed run) costs nothing: its items
    take the checkpoint's measurement; nor does a setup's second point: it takes the first one's."""
    members: dict[str, list[Point]] = {}
    for point in points:
        members.setdefault(_unit_key(point), []).append(point)
    units: dict[str, WorkUnit] = {}
    point_cost: dict[str, float] = {}
    for key, group in members.items():
        seen: set[Setup] = set()
        for point in group:
            fresh = point.setup not in seen and not stored(point.setup)
            seen.add(point.setup)
            point_cost[_tail_of(point)] = point_seconds(point.perf_analyzer_flags) if fresh else 0.0
        cost = sum(point_cost[_tail_of(point)] for point in group)
        unit = WorkUnit(key=key, cost=cost + LOAD_S if cost else 0.0, splittable=not group[0].model.decides_online)
        for point in group:
            units[_tail_of(point)] = unit
    return Workload(units, point_cost)


def _unit_key(point: Point) -> str:
    if point.model.search.measures_ahead:
        # The hill climb or the trials measure points of every variant at the model's first item: another
        # worker with another of its variants would run the whole search again.
        return point.model.name
    if point.model.decides_online:
        return f"{point.model.name}::{point.variant.name}"
    config = dict(point.config)
    config.pop("instance_group", None)
    return f"{point.model.name}@{canonical(config)}"


def _tail_of(point: Point) -> str:
    return f"{point.model.name}::{point.variant.name}::{point.name}"
