"""Objectives and ranking, with Model Analyzer's comparison rule.

Score of A against B: sum over objectives of w * improvement / mean(A, B), with the weights normalised to
sum to one; improvement is A - B for a metric where higher is better and B - A where lower is better.
A positive score means A is better. Unlike Model Analyzer, a GPU-metric objective counts (Model Analyzer
looks for it in non-GPU data only, finds nothing and ties every comparison). An objective a measurement
lacks is left out of that comparison.

Models measured together are ranked by their per-model figures (`add/perf_throughput`), each model's
objectives weighted by its `weighting`: Model Analyzer's RunConfigMeasurement weighted score, from the
combination's objectives as config/together.py builds them.

A variant is represented by its best measurement that satisfies the constraints (or its best of all when
none does); variants that satisfy the constraints rank before those that do not.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pytest_model_analyzer.analysis.gates import satisfies
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import metric_of

Metrics = Mapping[str, float]


def score(a: Metrics, b: Metrics, objectives: Mapping[str, float]) -> float:
    total_weight = sum(weight for weight in objectives.values() if weight > 0)
    if total_weight == 0:
        return 0.0
    result = 0.0
    for tag, weight in objectives.items():
        metric = metric_of(tag)
        if weight <= 0 or tag not in a or tag not in b or metric is None:
            continue
        mean = (a[tag] + b[tag]) / 2
        if mean == 0:
            continue
        improvement = a[tag] - b[tag] if metric.higher_is_better else b[tag] - a[tag]
        result += (weight / total_weight) * improvement / mean
    return result


def _order(objectives: Mapping[str, float]) -> Callable[[Measurement, Measurement], int]:
    def compare(a: Measurement, b: Measurement) -> int:
        value = score(a.metrics, b.metrics, objectives)
        return -1 if value > 0 else 1 if value < 0 else 0

    return compare


def sort_best_first(measurements: Sequence[Measurement], objectives: Mapping[str, float]) -> list[Measurement]:
    return sorted(measurements, key=functools.cmp_to_key(_order(objectives)))


@dataclass(frozen=True)
class VariantResult:
    variant: str
    measurements: tuple[Measurement, ...]  # best first
    representative: Measurement
    passes: bool  # at least one measurement satisfies the constraints


@dataclass(frozen=True)
class ModelRanking:
    model: str
    variants: tuple[VariantResult, ...]  # best first

    @property
    def best(self) -> VariantResult | None:
        """The best variant that satisfies the constraints; None when no variant does."""
        return self.variants[0] if self.variants and self.variants[0].passes else None


def rank(model: str | None, measurements: Sequence[Measurement], objectives: Mapping[str, float],
         constraints: Mapping[str, Bounds]) -> ModelRanking:
    """The variants of `model`, best first; of every model with `model=None` (Model Analyzer's ranking across
    models for num_top_model_configs, by the global objectives and constraints)."""
    by_variant: dict[str, list[Measurement]] = {}
    for measurement in measurements:
        if model is None or measurement.model == model:
            by_variant.setdefault(measurement.variant, []).append(measurement)
    results = []
    for variant, items in by_variant.items():
        ordered = sort_best_first(items, objectives)
        passing = [m for m in ordered if satisfies(m.metrics, constraints)]
        results.append(VariantResult(variant, tuple(ordered), (passing or ordered)[0], bool(passing)))
    compare = _order(objectives)

    def variant_order(a: VariantResult, b: VariantResult) -> int:
        if a.passes != b.passes:
            return -1 if a.passes else 1
        return compare(a.representative, b.representative)

    return ModelRanking(model or "", tuple(sorted(results, key=functools.cmp_to_key(variant_order))))
