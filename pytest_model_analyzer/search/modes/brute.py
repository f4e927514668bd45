"""Brute search (Model Analyzer's default mode): the listed variants (`model_config_parameters`, MANUAL), the
automatic space of instance counts and max_batch_size (AUTOMATIC), or, with the search disabled, the listed
variants alone with no early exit (LISTED). Brute decides online, item by item: its only reasons to skip a
point are the load and batch sweeps' early exits (search/driver.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.config.variants import Variant, name_variants
from pytest_model_analyzer.search.modes.base import UNDECIDED, AheadOutcome, MeasureAhead, OwnReason
from pytest_model_analyzer.search.space import automatic_parameters

if TYPE_CHECKING:
    from pytest_model_analyzer.search.driver import SearchDriver


def automatic_variants(model: ModelSpec, profile: ProfileConfig) -> list[Variant]:
    """The automatic space of one model (instance count x max_batch_size), named, the default first."""
    return name_variants(model.name, automatic_parameters(model.base_config, profile.search_ranges,
                                                          model.cpu_only, model.fixed_parameters),
                         model.base_config)


@dataclass(frozen=True)
class Brute:
    """run_config_search_mode: brute (the listed or the automatic variants), or the search disabled."""

    automatic: bool  # plans the automatic space; else measures the listed variants
    early_exits: bool = True  # False with the search disabled: every listed point is measured

    def plan(self, model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
        if not self.automatic:
            return model
        return dataclasses.replace(model, variants=tuple(automatic_variants(model, profile)), extra_loads={})

    def measure_ahead(self, driver: SearchDriver, model: ModelSpec, measure: MeasureAhead, top_count: int,
                      stop: Callable[[], bool]) -> AheadOutcome | None:
        return None  # brute decides online, from the items' own measurements

    def own_reason(self, driver: SearchDriver, point: Point) -> OwnReason:
        return UNDECIDED if self.early_exits else OwnReason(decided=True)


LISTED = Brute(automatic=False, early_exits=False)
MANUAL = Brute(automatic=False)
AUTOMATIC = Brute(automatic=True)
