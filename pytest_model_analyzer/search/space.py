"""The automatic search space: which model-config variants and load values may be measured.

Model Analyzer's automatic brute space (AutomaticModelConfigGenerator): instance count from min to max
(KIND_CPU for cpu_only models, else KIND_GPU) as the outer loop; when the model batches (max_batch_size > 0),
max_batch_size doubling from min to max as the inner loop, with dynamic batching on unless the model is a
sequence model (ModelProfileSpec.supports_dynamic_batching). A model that does not batch gets one variant per
instance count.

Optuna's space (Model Analyzer's SearchParameters) is a list of dimensions, each a range or the values the
YAML lists: client batch sizes (only when several are listed), max_batch_size (when the model batches),
instance count, the load (unless use_concurrency_formula), and max_queue_delay_microseconds (only when listed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_model_analyzer.config.limits import MAX_VARIANTS, require_at_most
from pytest_model_analyzer.config.profile import ModelSpec
from pytest_model_analyzer.config.search_settings import SearchRanges
from pytest_model_analyzer.config.values import doubled
from pytest_model_analyzer.config.variants import Variant
from pytest_model_analyzer.domain.identity import CONCURRENCY


def supports_batching(base_config: Mapping[str, Any]) -> bool:
    """Whether the automatic search sweeps max_batch_size: the model batches."""
    return int(base_config.get("max_batch_size", 0) or 0) > 0


def supports_dynamic_batching(base_config: Mapping[str, Any]) -> bool:
    """Whether the automatic search turns dynamic batching on: the model batches and is not a sequence model
    (Triton allows one scheduler per model)."""
    return supports_batching(base_config) and "sequence_batching" not in base_config


def automatic_parameters(base_config: Mapping[str, Any], ranges: SearchRanges, cpu_only: bool,
                         fixed: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Parameter sets in Model Analyzer's order; `fixed` fields (a single combination) apply to all."""
    kind = "KIND_CPU" if cpu_only else "KIND_GPU"
    counts = range(ranges.instance_counts[0], ranges.instance_counts[1] + 1)
    sizes = doubled(*ranges.model_batch_sizes)
    require_at_most("run_config_search_max_instance_count",
                    len(counts) * (len(sizes) if supports_batching(base_config) else 1), MAX_VARIANTS,
                    "automatic variants")
    result = []
    for count in counts:
        group = {"instance_group": [{"count": count, "kind": kind}]}
        if supports_batching(base_config):
            batching: dict[str, Any] = {"dynamic_batching": {}} if supports_dynamic_batching(base_config) else {}
            for size in sizes:
                result.append({**group, "max_batch_size": size, **batching, **(fixed or {})})
        else:
            result.append({**group, **(fixed or {})})
    return result


def instance_count(groups: Sequence[Mapping[str, Any]]) -> int:
    """The instances a config's instance groups ask for (a group without a count has one)."""
    return sum(int(group.get("count", 1)) for group in groups)


def coordinate(parameters: Mapping[str, Any]) -> tuple[int, int]:
    """(log2 max_batch_size, instance count) of an automatic variant: the quick search's coordinates."""
    size = int(parameters.get("max_batch_size", 1) or 1)
    return int(math.log2(size)), instance_count(parameters.get("instance_group", [{}]))


def climb_coordinate(model: ModelSpec, variant: Variant) -> tuple[int, ...]:
    """A quick-search variant's place in the hill climb: (log2 max_batch_size, instance count) of each model the
    search sets, one after another. That is the model itself, then its composing models; an ensemble has no
    config of its own to search, only its composing models' (Model Analyzer's SearchDimensions), and models
    profiled together are each a composing model of their combination."""
    parts = [coordinate(variant.parameters)] if model.searches_itself else []
    parts += [coordinate(composing.parameters) for _, composing in variant.composing]
    return tuple(value for part in parts for value in part)


def formula_concurrency(parameters: Mapping[str, Any], base_config: Mapping[str, Any], low: int | None = None,
                        high: int | None = None) -> int:
    """Model Analyzer's concurrency formula, 2 x max_batch_size x instance count, clamped to the bounds given
    (quick search: those the user set; an optuna trial: both; optuna's default config: none)."""
    size = int(parameters.get("max_batch_size", base_config.get("max_batch_size", 1)) or 1)
    groups = parameters.get("instance_group") or base_config.get("instance_group") or [{}]
    value = 2 * size * instance_count(groups)
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


@dataclass(frozen=True)
class Dimension:
    """One parameter that optuna searches, under Model Analyzer's name for it."""

    name: str  # batch_sizes, max_batch_size, instance_group, concurrency, request_rate, max_queue_delay_microseconds
    values: tuple[int, ...]
    listed: bool  # the YAML's own values (a categorical choice), else a range (an ordered integer choice)


def optuna_dimensions(model: ModelSpec) -> list[Dimension]:
    """The dimensions of a model's optuna search, in Model Analyzer's order (optuna_parameter_list), which is
    the order a trial draws them in."""
    space = model.optuna
    assert space is not None
    dimensions = []
    if len(model.batch_sizes) > 1:
        dimensions.append(Dimension("batch_sizes", model.batch_sizes, listed=True))
    if space.max_batch_sizes:
        dimensions.append(Dimension("max_batch_size", space.max_batch_sizes, listed=True))
    elif supports_batching(model.base_config):
        low, high = (int(math.log2(bound)) for bound in space.batch_size_range)
        dimensions.append(Dimension("max_batch_size", tuple(2 ** e for e in range(low, high + 1)), listed=False))
    counts = space.instance_counts or tuple(range(space.instance_count_range[0], space.instance_count_range[1] + 1))
    dimensions.append(Dimension("instance_group", counts, listed=bool(space.instance_counts)))
    searched_load = not (space.concurrency_formula and model.load_kind == CONCURRENCY)
    if searched_load and model.load_values:
        dimensions.append(Dimension(model.load_kind, model.load_values, listed=space.loads_listed))
    if space.max_queue_delays:
        dimensions.append(Dimension("max_queue_delay_microseconds", space.max_queue_delays, listed=True))
    return dimensions


def space_size(dimensions: list[Dimension]) -> int:
    """How many trials the space holds (Model Analyzer's number_of_total_possible_configurations)."""
    return math.prod(len(dimension.values) for dimension in dimensions)


def optuna_parameters(model: ModelSpec, dimensions: list[Dimension]) -> list[dict[str, Any]]:
    """One parameter set per combination of the model-config dimensions (instance count outer, then
    max_batch_size, then the queue delay), as Model Analyzer's _create_non_ensemble_parameter_combo makes it;
    the fields the YAML fixes apply to all."""
    space = model.optuna
    assert space is not None
    by_name = {dimension.name: dimension.values for dimension in dimensions}
    kind = space.instance_kind or ("KIND_CPU" if model.cpu_only else "KIND_GPU")
    fixed = dict(model.fixed_parameters)
    fixed_batching = fixed.pop("dynamic_batching", None)
    result = []
    for count in by_name["instance_group"]:
        for size in by_name.get("max_batch_size", (None,)):
            for delay in by_name.get("max_queue_delay_microseconds", (None,)):
                parameters: dict[str, Any] = {"instance_group": [{"count": count, "kind": kind}]}
                if size is not None:
                    parameters["max_batch_size"] = size
                if supports_dynamic_batching(model.base_config) or delay is not None or fixed_batching is not None:
                    batching = dict(fixed_batching or {})
                    if delay is not None:
                        batching["max_queue_delay_microseconds"] = delay
                    parameters["dynamic_batching"] = batching
                result.append({**parameters, **fixed})
    require_at_most("model_config_parameters", len(result), MAX_VARIANTS, "optuna variants")
    return result


def optuna_coordinate(parameters: Mapping[str, Any]) -> tuple[int, int | None, int | None]:
    """(instance count, max_batch_size, queue delay) of an optuna variant: what a trial's values name."""
    size = parameters.get("max_batch_size")
    delay = (parameters.get("dynamic_batching") or {}).get("max_queue_delay_microseconds")
    return (instance_count(parameters.get("instance_group", [{}])), None if size is None else int(size),
            None if delay is None else int(delay))
