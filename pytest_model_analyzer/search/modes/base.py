"""The interface every search mode implements (registered in search/modes/__init__.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.domain.measurement import Measurement

if TYPE_CHECKING:
    from pytest_model_analyzer.search.driver import SearchDriver

MeasureAhead = Callable[[Point], Measurement | None]  # None: the point failed or was not measured


@dataclass(frozen=True)
class OwnReason:
    """A mode's word on a point: `decided` when its reason (None: measure it) is final, else the sweeps'
    early exits decide."""

    decided: bool
    reason: str | None = None


UNDECIDED = OwnReason(decided=False)


class AheadOutcome(Protocol):
    """What a mode measured ahead of a model's items (the hill climb, the trials), kept by the driver."""

    def own_reason(self, point: Point) -> OwnReason:
        """The mode's word on a point, from what it measured."""


def reason_from_outcome(driver: SearchDriver, point: Point) -> OwnReason:
    """A mode that measures ahead decides from its outcome; until it ran, the sweeps decide."""
    outcome = driver.outcomes.get(point.model.name)
    return outcome.own_reason(point) if outcome is not None else UNDECIDED


class Search(Protocol):
    def plan(self, model: ModelSpec, profile: ProfileConfig) -> ModelSpec:
        """The model with the variants (and the extra loads of each) that this mode may measure."""

    def measure_ahead(self, driver: SearchDriver, model: ModelSpec, measure: MeasureAhead, top_count: int,
                      stop: Callable[[], bool]) -> AheadOutcome | None:
        """What the mode measures at the model's first item (the hill climb, the trials), once; its outcome,
        kept by the driver for `own_reason`. None: nothing ahead (brute decides online)."""

    def own_reason(self, driver: SearchDriver, point: Point) -> OwnReason:
        """The mode's own reason to skip the point, from its outcome."""
