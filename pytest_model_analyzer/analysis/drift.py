"""The config-drift gate: is the configuration the repository ships still (nearly) the best one found?

`--ma-fail-if-not-best=PERCENT` compares each model's `<model>_config_default` with its best configuration,
both represented as in the ranking (each variant's best point within the constraints): the default fails when
it breaks constraints that the best meets, or when the best beats it by more than PERCENT on the model's
objectives (Model Analyzer's weighted relative score, the one that ranks the variants).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pytest_model_analyzer.analysis.ranking import ModelRanking, VariantResult, score
from pytest_model_analyzer.config.variants import default_variant_name


@dataclass(frozen=True)
class Drift:
    model: str
    shipped: VariantResult
    best: VariantResult
    worse_by: float  # the best's score against the shipped config (0.25: 25% better on the objectives)

    def describe(self, allowed_percent: float) -> str:
        shipped = f"{self.model}: the shipped config ({self.shipped.variant})"
        if not self.shipped.passes:
            return f"{shipped} breaks the model's constraints, which {self.best.variant} meets"
        return (f"{shipped} is {100 * self.worse_by:.1f}% worse on the objectives (allowed {allowed_percent:g}%) "
                f"than {self.best.variant}")


def drift(ranking: ModelRanking, objectives: Mapping[str, float], allowed_percent: float,
          default: str | None = None) -> Drift | None:
    """The drift of the model's shipped config, or None when it is within `allowed_percent` of the best (or
    when there is nothing to compare: no default measured, or no config meets the constraints). `default` names
    the shipped config when it is not `<model>_config_default` (models profiled together:
    `add_config_default,sleep_config_default`)."""
    best = ranking.best
    shipped_name = default or default_variant_name(ranking.model)
    shipped = next((result for result in ranking.variants if result.variant == shipped_name), None)
    if best is None or shipped is None or best.variant == shipped.variant:
        return None
    worse_by = score(best.representative.metrics, shipped.representative.metrics, objectives)
    if shipped.passes and worse_by <= allowed_percent / 100.0:
        return None
    return Drift(ranking.model, shipped, best, worse_by)
