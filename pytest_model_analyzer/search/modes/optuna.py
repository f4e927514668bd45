"""Optuna search (Model Analyzer's OptunaRunConfigGenerator): TPE trials over the model-config dimensions
(and the load), each scored against the default configuration, run at the model's first item; then the load
sweep of the top configurations."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_model_analyzer.analysis.gates import satisfies
from pytest_model_analyzer.analysis.ranking import score
from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.config.variants import default_variant_name, name_variants
from pytest_model_analyzer.domain.identity import CONCURRENCY, PointId
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.search.modes.base import MeasureAhead, OwnReason, reason_from_outcome
from pytest_model_analyzer.search.optuna_search import NO_MEASUREMENT_SCORE, run_trials, seed_for, trial_budget
from pytest_model_analyzer.search.quick import swept
from pytest_model_analyzer.search.space import (
    formula_concurrency,
    optuna_coordinate,
    optuna_dimensions,
    optuna_parameters,
    space_size,
)

if TYPE_CHECKING:
    from pytest_model_analyzer.search.driver import SearchDriver


@dataclass
class OptunaOutcome:
    """What the trials measured, and the top configurations whose load is swept afterwards."""

    trials: int  # how many trials ran
    measured: set[PointId]  # the default config's point and every trial's
    top: set[str]  # variants whose load is swept afterwards (the default among them)
    no_reference: str = ""  # why there were no trials: the default config could not be measured

    def own_reason(self, point: Point) -> OwnReason:
        reason = self._reason(point)
        return OwnReason(decided=reason is not None or point.id in self.measured, reason=reason)

    def _reason(self, point: Point) -> str | None:
        if point.id in self.measured:
            return None
        if self.no_reference:
            return self.no_reference
        if point.variant.name in self.top and point.load in point.model.load_values:
            return None  # the sweep of a top configuration: its plateau rule decides
        if any(measured.variant == point.variant.name for measured in self.measured):
            return (f"optuna search: no trial chose this load, and the configuration is not among the top "
                    f"{point.model.top_configs} whose load is swept (num_configs_per_model)")
        return f"optuna search: none of its {self.trials} trials chose this configuration"


@dataclass(frozen=True)
class Optuna:
    """run_config_search_mode: optuna."""

    def plan(self, model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
        assert model.optuna is not None
        variants = name_variants(model.name, optuna_parameters(model, optuna_dimensions(model)), model.base_config)
        extra_loads: dict[str, tuple[int, ...]] = {}
        if model.load_kind == CONCURRENCY:
            # Model Analyzer measures the default config at 2 x its max_batch_size x its instances, unclamped.
            default = variants[0]
            extra_loads[default.name] = (formula_concurrency({}, model.base_config),)
            if model.optuna.concurrency_formula:
                for variant in variants[1:]:
                    extra_loads[variant.name] = (formula_concurrency(variant.parameters, model.base_config,
                                                                     *model.optuna.concurrency_range),)
        return dataclasses.replace(model, variants=tuple(variants), extra_loads=extra_loads)

    def measure_ahead(self, driver: SearchDriver, model: ModelSpec, measure: MeasureAhead, top_count: int,
                      stop: Callable[[], bool]) -> OptunaOutcome:
        """The trials of one model (search/optuna_search.py); `measure` returns None for a failed or unmeasured
        point."""
        model_name = model.name
        own = {point_id: point for point_id, point in driver.points.items() if point_id.model == model_name}
        outcome = OptunaOutcome(trials=0, measured=set(), top=set())
        driver.outcomes[model_name] = outcome  # read while the trials run
        if not own:
            return outcome
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

    def own_reason(self, driver: SearchDriver, point: Point) -> OwnReason:
        return reason_from_outcome(driver, point)


OPTUNA = Optuna()
