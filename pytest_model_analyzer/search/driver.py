"""Decides, item by item, which collected points a search measures and why it skips the others.

Collection lists every point a search may measure. Brute decides online, as items run in Model Analyzer's
order (variants, then batch sizes, then loads): a point is skipped when an earlier point of its sweep
failed, when its load sweep reached a plateau, or when its max_batch_size sweep stopped raising throughput.
Quick runs its hill climb, and optuna its trials, when the model's first item is reached (each measured point
is later reported by its own item); the load sweep of the top configurations then proceeds like brute's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pytest_model_analyzer.analysis.gates import satisfies
from pytest_model_analyzer.analysis.ranking import score
from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.config.search_settings import SearchMode
from pytest_model_analyzer.config.variants import default_variant_name
from pytest_model_analyzer.domain.identity import CONCURRENCY, PointId, canonical, load_label
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.search.early_exit import batch_size_sweep_stopped, load_sweep_plateau
from pytest_model_analyzer.search.optuna_search import NO_MEASUREMENT_SCORE, run_trials, seed_for, trial_budget
from pytest_model_analyzer.search.quick import HillClimb, swept
from pytest_model_analyzer.search.space import climb_coordinate, optuna_coordinate, optuna_dimensions, space_size


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
class QuickOutcome:
    visited: set[str]
    top: set[str]
    failed: set[str] = field(default_factory=set)


@dataclass
class OptunaOutcome:
    trials: int  # how many trials ran
    measured: set[PointId]  # the default config's point and every trial's
    top: set[str]  # variants whose load is swept afterwards (the default among them)
    no_reference: str = ""  # why there were no trials: the default config could not be measured


@dataclass
class SearchDriver:
    evidence: Evidence = field(default_factory=NoEvidence)
    points: dict[PointId, Point] = field(default_factory=dict)  # every collected point
    quick: dict[str, QuickOutcome] = field(default_factory=dict)  # by model
    optuna: dict[str, OptunaOutcome] = field(default_factory=dict)  # by model

    def register(self, point: Point) -> None:
        self.points[point.id] = point

    def _at(self, point: Point, variant: str, batch: int, load: int) -> Point | None:
        return self.points.get(PointId(point.model.name, variant, batch, point.load_kind, load))

    def _throughput(self, point: Point) -> float | None:
        measurement = self.evidence.setup_measurement(point)
        return None if measurement is None else measurement.metrics.get("perf_throughput", 0.0)

    # -- brute (and the load sweep of quick's top configurations) ----------------------------------
    def skip_reason(self, point: Point) -> str | None:
        model = point.model
        if model.search is SearchMode.DISABLED:
            return None
        if model.search is SearchMode.QUICK:
            outcome = self.quick.get(model.name)
            if outcome is not None:
                reason = self._quick_reason(point, outcome)
                if reason is not None or self._is_formula_point(point):
                    return reason
        if model.search is SearchMode.OPTUNA:
            trials = self.optuna.get(model.name)
            if trials is not None:
                reason = self._optuna_reason(point, trials)
                if reason is not None or point.id in trials.measured:
                    return reason
        return self._load_sweep_reason(point) or (self._batch_sweep_reason(point) if model.early_exit_batch
                                                  else None)

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

    # -- quick --------------------------------------------------------------------------------------
    def _is_formula_point(self, point: Point) -> bool:
        return point.load in point.model.extra_loads.get(point.variant.name, ())

    def _quick_reason(self, point: Point, outcome: QuickOutcome) -> str | None:
        if point.variant.name not in outcome.visited:
            return "quick search: the hill climb did not visit this configuration"
        if self._is_formula_point(point):
            return None
        if point.variant.name not in outcome.top:
            return (f"quick search: not among the top {point.model.top_configs} configurations whose load is swept "
                    "(num_configs_per_model)")
        return None

    def run_quick(self, model_name: str, measure: Callable[[Point], Measurement | None], top_count: int,
                  stop: Callable[[], bool] = lambda: False) -> QuickOutcome:
        """The hill climb of one model, once; `measure` returns None for a failed or unmeasured point."""
        if model_name in self.quick:
            return self.quick[model_name]
        formula = {point_id.variant: point for point_id, point in self.points.items()
                   if point_id.model == model_name and self._is_formula_point(point)
                   and point_id.batch_size == point.model.batch_sizes[0]}
        outcome = QuickOutcome(visited=set(), top=set())
        self.quick[model_name] = outcome
        if not formula:
            return outcome
        model = next(iter(formula.values())).model
        results: dict[str, Measurement | None] = {}

        def take(name: str) -> Measurement | None:
            if name not in results:
                results[name] = None if stop() else measure(formula[name])
                outcome.visited.add(name)
                if results[name] is None:
                    outcome.failed.add(name)
            return results[name]

        default = next((name for name, point in formula.items() if point.variant.is_default), None)
        reference = take(default) if default else None
        by_coordinate = {climb_coordinate(model, point.variant): name for name, point in formula.items()
                         if name != default}

        def as_score(name: str) -> float | None:
            m = take(name)
            if m is None:
                return None
            return score(m.metrics, reference.metrics, model.objectives) if reference else m.metrics.get(
                "perf_throughput", 0.0)

        def passes(name: str) -> bool:
            m = results.get(name)
            return m is not None and satisfies(m.metrics, model.constraints)

        climb = HillClimb(set(by_coordinate), measure=lambda c: as_score(by_coordinate[c]),
                          passes=lambda c: passes(by_coordinate[c]))
        climb.run()
        scores = {by_coordinate[c]: value for c, value in climb.scores.items()}
        if default and reference is not None:
            scores[default] = 0.0 if reference else None
        if model.quick_sweep:
            outcome.top = swept(scores, passes, top_count, default)
        return outcome

    # -- optuna -------------------------------------------------------------------------------------
    def _optuna_reason(self, point: Point, outcome: OptunaOutcome) -> str | None:
        if point.id in outcome.measured:
            return None
        if outcome.no_reference:
            return outcome.no_reference
        if point.variant.name in outcome.top and point.load in point.model.load_values:
            return None  # the sweep of a top configuration: its plateau rule decides
        if any(measured.variant == point.variant.name for measured in outcome.measured):
            return (f"optuna search: no trial chose this load, and the configuration is not among the top "
                    f"{point.model.top_configs} whose load is swept (num_configs_per_model)")
        return f"optuna search: none of its {outcome.trials} trials chose this configuration"

    def run_optuna(self, model_name: str, measure: Callable[[Point], Measurement | None], top_count: int,
                   stop: Callable[[], bool] = lambda: False) -> OptunaOutcome:
        """The trials of one model, once (search/optuna_search.py); `measure` returns None for a failed or
        unmeasured point."""
        if model_name in self.optuna:
            return self.optuna[model_name]
        own = {point_id: point for point_id, point in self.points.items() if point_id.model == model_name}
        outcome = OptunaOutcome(trials=0, measured=set(), top=set())
        self.optuna[model_name] = outcome
        if not own:
            return outcome
        model = next(iter(own.values())).model
        default_name = default_variant_name(model_name)
        reference_load = (model.extra_loads.get(default_name) or model.load_values)[0]
        reference_point = own.get(PointId(model_name, default_name, model.batch_sizes[0], model.load_kind,
                                          reference_load))
        results: dict[PointId, Measurement | None] = {}

        def take(point: Point) -> Measurement | None:
            if point.id not in results:
                results[point.id] = measure(point)
                outcome.measured.add(point.id)
            return results[point.id]

        reference = take(reference_point) if reference_point is not None and not stop() else None
        if reference is None:
            outcome.no_reference = ("optuna search: the default configuration could not be measured, and every "
                                    "trial is scored against it")
            return outcome
        by_coordinate = {optuna_coordinate(variant.parameters): variant.name for variant in model.variants
                         if not variant.is_default}
        best: dict[str, tuple[bool, float]] = {default_name: (satisfies(reference.metrics, model.constraints), 0.0)}

        def evaluate(values: dict[str, int]) -> float:
            count = values["instance_group"]
            variant = by_coordinate[(count, values.get("max_batch_size"), values.get("max_queue_delay_microseconds"))]
            load = values.get(model.load_kind) or model.extra_loads[variant][0]
            point = own.get(PointId(model_name, variant, values.get("batch_sizes", model.batch_sizes[0]),
                                    model.load_kind, load))
            measurement = take(point) if point is not None else None  # None: its config failed to collect
            if measurement is None:
                return NO_MEASUREMENT_SCORE
            passes = satisfies(measurement.metrics, model.constraints)
            rank = (passes, score(measurement.metrics, reference.metrics, model.objectives))
            best[variant] = max(best.get(variant, rank), rank)
            return rank[1] if passes else NO_MEASUREMENT_SCORE

        dimensions = optuna_dimensions(model)
        assert model.optuna is not None  # the builder sets it for run_config_search_mode: optuna
        trials = run_trials(dimensions, trial_budget(model.optuna, space_size(dimensions)),
                            seed_for(model_name), evaluate, stop)
        outcome.trials = len(trials)
        if model.quick_sweep and model.load_kind == CONCURRENCY:
            outcome.top = swept({name: rank[1] for name, rank in best.items()}, lambda name: best[name][0],
                                top_count, default_name)
        return outcome
