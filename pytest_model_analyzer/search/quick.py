"""Quick search: a hill climb over (log2 max_batch_size, instance count), as Model Analyzer's quick mode; an
ensemble or BLS model climbs over those of each model it sets at once (4 or 6 dimensions, search/space.py).

From the smallest coordinate: measure the home and its axis neighbours (one step up or down in any
dimension), move to the best of them, stop when the home is the best or a home comes round again.
Measurements that fail or violate constraints rank below every passing one. Model Analyzer instead
measures a radius-3 neighbourhood and steps along a weighted gradient; this steepest ascent measures at
most the few axis neighbours per step and cannot stall with unmeasured better neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

Coordinate = tuple[int, ...]
T = TypeVar("T")


@dataclass
class HillClimb:
    coordinates: set[Coordinate]
    measure: Callable[[Coordinate], float | None]  # a score (higher is better); None when it failed
    passes: Callable[[Coordinate], bool] = lambda coordinate: True
    scores: dict[Coordinate, float | None] = field(default_factory=dict)
    visited_homes: list[Coordinate] = field(default_factory=list)

    def _score(self, coordinate: Coordinate) -> float | None:
        if coordinate not in self.scores:
            self.scores[coordinate] = self.measure(coordinate)
        return self.scores[coordinate]

    def _rank(self, coordinate: Coordinate) -> tuple[int, float]:
        value = self.scores.get(coordinate)
        if value is None:
            return (0, -math.inf)
        return (2 if self.passes(coordinate) else 1, value)

    def _neighbours(self, home: Coordinate) -> list[Coordinate]:
        """One step up, then one step down, along each dimension in turn (in 2-D: up in max_batch_size, up in
        instances, down in max_batch_size, down in instances)."""
        steps = [axis_step(len(home), axis, sign) for sign in (1, -1) for axis in range(len(home))]
        candidates = (tuple(value + delta for value, delta in zip(home, step, strict=True)) for step in steps)
        return [c for c in candidates if c in self.coordinates]

    def run(self, start: Coordinate | None = None) -> list[Coordinate]:
        """Climb; returns every coordinate measured, in order."""
        if not self.coordinates:
            return []
        home = start if start is not None else min(self.coordinates)
        while home not in self.visited_homes:
            self.visited_homes.append(home)
            self._score(home)
            neighbours = self._neighbours(home)
            for neighbour in neighbours:
                self._score(neighbour)
            best = max([home, *neighbours], key=self._rank)
            if best == home:
                break
            home = best
        return list(self.scores)


def axis_step(dimensions: int, axis: int, sign: int) -> Coordinate:
    return tuple(sign if index == axis else 0 for index in range(dimensions))


def top(scores: Mapping[T, float | None], passes: Callable[[T], bool], count: int) -> list[T]:
    measured = {c: value for c, value in scores.items() if value is not None}
    return sorted(measured, key=lambda c: (passes(c), measured[c]), reverse=True)[:count]


def swept(scores: Mapping[str, float | None], passes: Callable[[str], bool], count: int,
          default: str | None) -> set[str]:
    """The configurations whose load is swept after quick or optuna search, as Model Analyzer's
    ConcurrencySweeper takes them: the `count` best (passing ones first) and the default config."""
    return set(top(scores, passes, count)) | ({default} if default else set())
