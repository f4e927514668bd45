"""Model Analyzer's binary search of the load at a constraint boundary, after brute's load sweep.

Model Analyzer (BrutePlusBinaryParameterSearchRunConfigGenerator, result/parameter_search.py): when the
loads are its own (no `concurrency`/`request_rate` given), after the brute search it takes each model's top
`num_configs_per_model` configurations and the default; where a configuration's load sweep went from
satisfying the constraints to violating them, it bisects between the last passing and the first failing load
for up to `run_config_search_max_binary_search_steps` steps, each step moving the failing or the passing end
to the load just measured. The loads it finds are ordinary points (`b1-c24`), measured and saved as any other.

Differences, on purpose: a boundary between the sweep's first two loads is searched too (Model Analyzer's
scan stops one short of it), and the search stops, instead of measuring load 0 or a load it already has, when
a step fails to measure or the bounds meet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pytest_model_analyzer.analysis.ranking import rank
from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.config.profile import ModelSpec
from pytest_model_analyzer.config.variants import default_variant_name
from pytest_model_analyzer.domain.identity import load_label
from pytest_model_analyzer.domain.measurement import Measurement

Outcome = bool | None  # the point satisfies its constraints; None: it could not be measured


def boundary(sweep: Sequence[tuple[int, Outcome]]) -> tuple[int, int] | None:
    """(last passing load, first failing load) at the sweep's last step from passing to failing, in load
    order; (0, first load) when the first load already fails; None when no constraint is crossed."""
    for index in range(len(sweep) - 1, 0, -1):
        (low, low_passes), (high, high_passes) = sweep[index - 1], sweep[index]
        if low_passes is True and high_passes is False:
            return low, high
    if sweep and sweep[0][1] is False:
        return 0, sweep[0][0]
    return None


def step_loads(bounds: tuple[int, int], outcomes: Mapping[int, Outcome], steps: int) -> list[int]:
    """The loads of the binary steps, in order, as far as the known outcomes lead: the last one returned is
    the next to measure when its outcome is not known yet. Stops at `steps`, when the bounds meet, and after
    a step that could not be measured."""
    passing, failing = bounds
    last, last_passes = failing, False
    loads: list[int] = []
    for _ in range(steps):
        if last_passes:
            passing = last
            load = (failing + last) // 2
        else:
            failing = last
            load = (passing + last) // 2
        if load < 1 or load in (last, passing, failing) or load in loads:
            break
        loads.append(load)
        if load not in outcomes or outcomes[load] is None:
            break
        last, last_passes = load, bool(outcomes[load])
    return loads


@dataclass(frozen=True)
class BinaryStep:
    """One collected step of the binary search: its load is decided when it runs."""

    model: ModelSpec
    variant: str
    batch_size: int
    step: int  # 1-based

    @property
    def name(self) -> str:
        return f"{self.variant}-b{self.batch_size}-s{self.step}"


def decide(step: BinaryStep, sweep_points: Sequence[Point], rows: Sequence[Measurement],
           measured: Callable[[Point], Outcome | str]) -> Point | str:
    """The point this step measures, or why it measures nothing.

    `sweep_points`: the variant's collected points at the step's batch size; `rows`: the run's measurements
    (for the ranking); `measured(point)`: the point's outcome, or "" when it has not been measured."""
    model = step.model
    ranking = rank(model.name, rows, model.objectives, model.constraints)
    top = {result.variant for result in ranking.variants[:model.top_configs]}
    top.add(default_variant_name(model.name))
    if step.variant not in top:
        return (f"binary search: {step.variant} is not among the top {model.top_configs} configurations "
                "(num_configs_per_model) or the default")
    ordered = sorted(sweep_points, key=lambda point: point.load)
    sweep = [(point.load, outcome) for point in ordered
             if not isinstance(outcome := measured(point), str)]
    bounds = boundary(sweep)
    kind = load_label(model.load_kind)
    if bounds is None:
        return f"binary search: no {kind} of the sweep crosses the constraints"
    template = ordered[0]
    outcomes: dict[int, Outcome] = {}
    while True:
        loads = step_loads(bounds, outcomes, model.binary_search_steps)
        if len(loads) >= step.step:  # every earlier step's outcome is known: this step's load follows
            return dataclasses.replace(template, load=loads[step.step - 1])
        if loads and loads[-1] in outcomes and outcomes[loads[-1]] is None:
            return f"binary search: step {len(loads)} ({kind} {loads[-1]}) failed to measure, which stops it"
        if not loads or loads[-1] in outcomes:
            return (f"binary search: converged between {kind} {bounds[0]} and {bounds[1]} in "
                    f"{len(loads)} step(s)")
        outcome = measured(dataclasses.replace(template, load=loads[-1]))
        if isinstance(outcome, str):
            return f"binary search: step {len(loads)} ({kind} {loads[-1]}) was not measured"
        outcomes[loads[-1]] = outcome
