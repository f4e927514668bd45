"""A constraint on one metric, as Model Analyzer's `constraints` write it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """The value must be >= min and <= max (either may be absent)."""

    min: float | None = None
    max: float | None = None
