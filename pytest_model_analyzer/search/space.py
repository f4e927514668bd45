"""The automatic search space: which model-config variants and load values may be measured.

Model Analyzer's automatic brute space (AutomaticModelConfigGenerator): instance count from min to max
(KIND_CPU for cpu_only models, else KIND_GPU) as the outer loop; when the model batches (max_batch_size > 0),
max_batch_size doubling from min to max as the inner loop, with dynamic batching on unless the model is a
sequence model (ModelProfileSpec.supports_dynamic_batching). A model that does not batch gets one variant per
instance count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pytest_model_analyzer.config.limits import MAX_VARIANTS, require_at_most
from pytest_model_analyzer.config.values import doubled


def supports_batching(base_config: Mapping[str, Any]) -> bool:
    """Whether the automatic search sweeps max_batch_size: the model batches."""
    return int(base_config.get("max_batch_size", 0) or 0) > 0


def supports_dynamic_batching(base_config: Mapping[str, Any]) -> bool:
    """Whether the automatic search turns dynamic batching on: the model batches and is not a sequence model
    (Triton allows one scheduler per model)."""
    return supports_batching(base_config) and "sequence_batching" not in base_config


def automatic_parameters(base_config: Mapping[str, Any], settings: Mapping[str, Any], cpu_only: bool,
                         fixed: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Parameter sets in Model Analyzer's order; `fixed` fields (a single combination) apply to all."""
    kind = "KIND_CPU" if cpu_only else "KIND_GPU"
    counts = range(settings["run_config_search_min_instance_count"],
                   settings["run_config_search_max_instance_count"] + 1)
    sizes = doubled(settings["run_config_search_min_model_batch_size"],
                    settings["run_config_search_max_model_batch_size"])
    require_at_most("run_config_search_max_instance_count",
                    len(counts) * (len(sizes) if supports_batching(base_config) else 1), MAX_VARIANTS,
                    "automatic variants")
    result = []
    for count in counts:
        group = {"instance_group": [{"count": count, "kind": kind}]}
        if supports_batching(base_config):
            batching = {"dynamic_batching": {}} if supports_dynamic_batching(base_config) else {}
            for size in sizes:
                result.append({**group, "max_batch_size": size, **batching, **(fixed or {})})
        else:
            result.append({**group, **(fixed or {})})
    return result


def coordinate(parameters: Mapping[str, Any]) -> tuple[int, int]:
    """(log2 max_batch_size, instance count) of an automatic variant: the quick search's coordinates."""
    size = int(parameters.get("max_batch_size", 1) or 1)
    count = sum(int(group.get("count", 1)) for group in parameters.get("instance_group", [{}]))
    return int(math.log2(size)), count


def quick_concurrency(parameters: Mapping[str, Any], base_config: Mapping[str, Any],
                      settings: Mapping[str, Any], explicit: frozenset[str]) -> int:
    """Model Analyzer's quick-mode load: 2 x max_batch_size x instance count, clamped only by user-set limits."""
    size = int(parameters.get("max_batch_size", base_config.get("max_batch_size", 1)) or 1)
    groups = parameters.get("instance_group") or base_config.get("instance_group") or [{}]
    count = sum(int(group.get("count", 1)) for group in groups)
    value = 2 * size * count
    if "run_config_search_min_concurrency" in explicit:
        value = max(value, settings["run_config_search_min_concurrency"])
    if "run_config_search_max_concurrency" in explicit:
        value = min(value, settings["run_config_search_max_concurrency"])
    return value
