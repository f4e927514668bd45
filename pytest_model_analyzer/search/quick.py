"""Quick search: a hill climb over (log2 max_batch_size, instance count), as Model Analyzer's quick mode.

From the smallest coordinate: measure the home and its axis neighbours (one step up or down in either
dimension), move to the best of them, stop when the home is the best or a home comes round again.
Measurements that fail or violate constraints rank below every passing one. Model Analyzer instead
measures a radius-3 neighbourhood and steps along a weighted gradient; this steepest ascent measures at
most the few axis neighbours per step and cannot stall with unmeasured better neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

Coordinate = tuple[int, int]
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
        steps = [(1, 0), (0, 1), (-1, 0), (0, -1)]
        return [c for c in ((home[0] + di, home[1] + dj) for di, dj in steps) if c in self.coordinates]

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


def top(scores: Mapping[T, float | None], passes: Callable[[T], bool], count: int) -> list[T]:
    measured: Iterable[T] = (c for c, value in scores.items() if value is not None)
    return sorted(measured, key=lambda c: (passes(c), scores[c]), reverse=True)[:count]  # type: ignore[operator]


def swept(scores: Mapping[str, float | None], passes: Callable[[str], bool], count: int,
          default: str | None) -> set[str]:
    """The configurations whose load is swept after quick or optuna search, as Model Analyzer's
    ConcurrencySweeper takes them: the `count` best (passing ones first) and the default config."""
    return set(top(scores, passes, count)) | ({default} if default else set())
