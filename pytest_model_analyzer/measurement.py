"""One measurement: what defines the point, and what came out (metrics).

Plain data with a JSON form, so that it travels in `user_properties`, through xdist, and into checkpoints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_model_analyzer.config.variants import canonical

# Model Analyzer's measurement flags when the user gives none (config_defaults.DEFAULT_MEASUREMENT_MODE).
DEFAULT_PERF_FLAGS: dict[str, Any] = {"measurement-mode": "count_windows"}


def effective_flags(flags: Mapping[str, Any]) -> dict[str, Any]:
    """The perf_analyzer flags a point is really measured with: the user's as given, or Model Analyzer's
    default when none are given. (Model Analyzer itself lays `measurement-mode: count_windows` under any
    flags, so a lone `measurement-interval` silently still measures count windows there; here the flags
    mean what perf_analyzer makes of them. Write `measurement-mode` to get the same command in both.)"""
    return dict(flags) if flags else dict(DEFAULT_PERF_FLAGS)


@dataclass
class Measurement:
    model: str
    variant: str
    batch_size: int
    load_kind: str  # "concurrency" or "request_rate"
    load: int
    metrics: dict[str, float]
    config_digest: str = ""  # digest of `config`, the variant's full requested config
    config: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)  # the variant's model_config_parameters
    effective_config: dict[str, Any] = field(default_factory=dict)  # as the server reported it
    perf_analyzer_flags: dict[str, Any] = field(default_factory=dict)  # effective flags
    gpu_metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # per GPU UUID
    timestamp: float = 0.0
    duration_s: float = 0.0
    window_adjusts: int = 0  # times perf_analyzer's window was doubled to reach a stable measurement
    source: str = "measured"  # "measured", or where it was imported from

    def key(self) -> str:
        """What defines the measurement: model, config, batch, load and perf_analyzer flags."""
        return point_key(self.model, self.config_digest, self.batch_size, self.load_kind, self.load,
                         self.perf_analyzer_flags)

    def to_dict(self) -> dict[str, Any]:
        """Shallow: the configs are shared per variant, and asdict's deep copy of them dominated saving."""
        return dict(self.__dict__)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        return cls(**data)


def point_key(model: str, config_digest: str, batch_size: int, load_kind: str, load: int,
              flags: Mapping[str, Any]) -> str:
    return canonical({"model": model, "config": config_digest, "batch_size": batch_size, load_kind: load,
                      "perf_analyzer_flags": effective_flags(flags)})
