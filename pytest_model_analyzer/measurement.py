"""One measurement: what was measured (the point's defining values) and what came out (metrics).

Plain data with a JSON form, so that it travels in `user_properties`, through xdist, and into checkpoints.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_model_analyzer.config.variants import canonical


@dataclass
class Measurement:
    model: str
    variant: str
    batch_size: int
    load_kind: str  # "concurrency" or "request_rate"
    load: int
    metrics: dict[str, float]
    requested_config: dict[str, Any] = field(default_factory=dict)  # variant parameters applied
    effective_config: dict[str, Any] = field(default_factory=dict)  # read back from the server
    perf_analyzer_flags: dict[str, Any] = field(default_factory=dict)
    gpu_metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # per GPU UUID
    timestamp: float = 0.0
    duration_s: float = 0.0
    window_adjusts: int = 0  # times perf_analyzer's window was doubled to reach a stable measurement
    source: str = "measured"  # or "checkpoint"

    def key(self) -> str:
        """What defines the measurement: model, config, batch, load and perf_analyzer flags."""
        return point_key(self.model, self.requested_config, self.batch_size, self.load_kind, self.load,
                         self.perf_analyzer_flags)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        return cls(**data)


def point_key(model: str, config: dict[str, Any], batch_size: int, load_kind: str, load: int,
              flags: dict[str, Any]) -> str:
    return canonical({"model": model, "config": config, "batch_size": batch_size, load_kind: load,
                      "perf_analyzer_flags": flags})
