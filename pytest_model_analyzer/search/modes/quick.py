"""Quick search (Model Analyzer's QuickRunConfigGenerator): a hill climb over the automatic space, each
configuration at its formula load, measured at the model's first item; then the load sweep of the top
configurations (num_configs_per_model). Ensembles, BLS models and models profiled together are searched so,
over the product of their composing models' spaces."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_model_analyzer.analysis.gates import satisfies
from pytest_model_analyzer.analysis.ranking import score
from pytest_model_analyzer.config.limits import MAX_VARIANTS, require_at_most
from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.config.profile import ComposingModel, ModelSpec, ProfileConfig
from pytest_model_analyzer.config.variants import Variant, name_variants
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.search.modes.base import MeasureAhead, OwnReason, reason_from_outcome
from pytest_model_analyzer.search.modes.brute import automatic_variants
from pytest_model_analyzer.search.quick import HillClimb, swept
from pytest_model_analyzer.search.space import (
    automatic_parameters,
    climb_coordinate,
    formula_concurrency,
    supports_batching,
)

if TYPE_CHECKING:
    from pytest_model_analyzer.search.driver import SearchDriver


@dataclass
class QuickOutcome:
    """What the hill climb measured: the configurations it visited (and those that failed), and the top ones
    whose load is swept afterwards. Filled while the climb runs; its points ask it meanwhile."""

    visited: set[str]
    top: set[str]
    failed: set[str] = field(default_factory=set)

    def own_reason(self, point: Point) -> OwnReason:
        reason = self._reason(point)
        return OwnReason(decided=reason is not None or is_formula_point(point), reason=reason)

    def _reason(self, point: Point) -> str | None:
        if point.variant.name not in self.visited:
            return "quick search: the hill climb did not visit this configuration"
        if is_formula_point(point):
            return None
        if point.variant.name not in self.top:
            return (f"quick search: not among the top {point.model.top_configs} configurations whose load is swept "
                    "(num_configs_per_model)")
        return None


def is_formula_point(point: Point) -> bool:
    """The point of a configuration at its formula load (what the climb measures)."""
    return point.load in point.model.extra_loads.get(point.variant.name, ())


@dataclass(frozen=True)
class Quick:
    """run_config_search_mode: quick (and every model with composing models, as Model Analyzer searches them)."""

    def plan(self, model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
        if model.composing:
            return plan_composing(model, profile)
        variants = automatic_variants(model, profile)
        bounds = profile.search_ranges.quick_concurrency_bounds
        extra_loads = {variant.name: (formula_concurrency(variant.parameters or model.fixed_parameters,
                                                          model.base_config, *bounds),)
                       for variant in variants}
        return dataclasses.replace(model, variants=tuple(variants), extra_loads=extra_loads)

    def measure_ahead(self, driver: SearchDriver, model: ModelSpec, measure: MeasureAhead, top_count: int,
                      stop: Callable[[], bool]) -> QuickOutcome:
        """The hill climb of one model; `measure` returns None for a failed or unmeasured point."""
        formula = {point_id.variant: point for point_id, point in driver.points.items()
                   if point_id.model == model.name and is_formula_point(point)
                   and point_id.batch_size == point.model.batch_sizes[0]}
        outcome = QuickOutcome(visited=set(), top=set())
        driver.outcomes[model.name] = outcome  # read while the climb runs
        if not formula:
            return outcome
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

    def own_reason(self, driver: SearchDriver, point: Point) -> OwnReason:
        return reason_from_outcome(driver, point)


QUICK = Quick()


def plan_composing(model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
    """Quick search of an ensemble, a BLS model, or models profiled together (Model Analyzer's
    QuickRunConfigGenerator with composing models, or with several models):
    one variant per combination of the searched models' automatic variants, the model itself (a BLS model, not
    an ensemble) first, then each composing model. Each composing model's variants are named as its own
    (`add_config_3`); the combination is `<model>_config_<n>`, in the order of the product. An ensemble's own
    max_batch_size is the smallest of its composing models'; the formula load comes from the first searched
    model's max_batch_size and instances, as Model Analyzer computes it."""
    ranges = profile.search_ranges
    itself = ComposingModel(model.name, model.base_config, model.cpu_only, model.fixed_parameters)
    searched = [itself, *model.composing] if model.searches_itself else list(model.composing)
    spaces = [name_variants(s.name, automatic_parameters(s.base_config, ranges, s.cpu_only, s.fixed_parameters),
                            s.base_config)[1:] for s in searched]
    require_at_most("run_config_search_max_instance_count", math.prod(len(space) for space in spaces), MAX_VARIANTS,
                    f"combinations of the variants of {', '.join(s.name for s in searched)}")
    bounds = ranges.quick_concurrency_bounds
    default = model.variants[0]
    variants = [default]
    # The default's formula load: the model's own config, or for models profiled together the first one's.
    first = searched[0] if model.members else itself
    extra_loads = {default.name: (formula_concurrency(first.fixed_parameters, first.base_config, *bounds),)}
    names = [composing.name for composing in model.composing]
    for index, combination in enumerate(itertools.product(*spaces)):
        own = (_ensemble_parameters(model, combination) if model.is_ensemble
               else {} if model.members else dict(combination[0].parameters))
        # Models profiled together: Model Analyzer's name of the run config, its models' variants joined.
        name = (",".join(variant.name for variant in combination) if model.members
                else f"{model.name}_config_{index}")
        variant = Variant(name, own,
                          composing=tuple(zip(names, combination[len(combination) - len(names):], strict=True)))
        variants.append(variant)
        extra_loads[variant.name] = (formula_concurrency(combination[0].parameters, searched[0].base_config,
                                                         *bounds),)
    return dataclasses.replace(model, variants=tuple(variants), extra_loads=extra_loads)


def _ensemble_parameters(model: ModelSpec, combination: Sequence[Variant]) -> dict[str, Any]:
    """An ensemble takes batches no larger than its smallest composing model does (Model Analyzer sets its
    max_batch_size so); one that does not batch keeps its config."""
    parameters = dict(model.fixed_parameters)
    if supports_batching(model.base_config):
        parameters["max_batch_size"] = min(int(variant.parameters.get("max_batch_size", 1)) for variant in combination)
    return parameters
