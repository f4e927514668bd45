"""A point's one identity, and the one key that says whether two measurements measured the same thing.

* `PointId` (model, variant, client batch size, load kind, load) names a measurement point. The pytest
  node id, the tables' rows, gate outcomes, baselines and the search all refer to a point by it.
* `Setup` (model, config digest, batch size, load, perf_analyzer flags) is what a measurement was taken
  under (an ensemble's or BLS model's config digest covers its composing models' configs too). It is data of
  the point, not its identity: two variants with an identical config share a setup, and a checkpoint's
  measurement is reused only for a point of the same setup (editing config.pbtxt makes the point's setup new,
  while its identity, and so its baseline, stays).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CONCURRENCY = "concurrency"
REQUEST_RATE = "request_rate"
LOAD_KINDS = (CONCURRENCY, REQUEST_RATE)


def canonical(value: Any) -> str:
    """A stable text form: two equal values give the same text whatever their key order."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def digest(value: Any) -> str:
    """A short content digest of a JSON value (a model config): 16 hex digits of its SHA-256."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()[:16]


def config_digest(config: Any, composing: Sequence[Mapping[str, Any]] = ()) -> str:
    """What a point's setup records of its configs: the requested config's digest, and for an ensemble or BLS
    model its composing models' configs too (by model, not by variant name: the same configs under another
    search's numbering measure the same thing)."""
    if not composing:
        return digest(config)
    return digest({"config": config, "composing": [[c["model"], c["config"]] for c in composing]})


def load_label(load_kind: str) -> str:
    """The load in words, for messages and table headers: `concurrency` or `request rate`."""
    return "request rate" if load_kind == REQUEST_RATE else "concurrency"


@dataclass(frozen=True, order=True)
class PointId:
    model: str
    variant: str
    batch_size: int
    load_kind: str
    load: int

    @property
    def name(self) -> str:
        """The item name: `b8-c16` (batch 8, concurrency 16) or `b1-r32` (request rate 32)."""
        letter = "r" if self.load_kind == REQUEST_RATE else "c"
        return f"b{self.batch_size}-{letter}{self.load}"

    @property
    def label(self) -> str:
        """`add / add_config_1 (batch 8, concurrency 16)`: how messages name the point."""
        return f"{self.model} / {self.variant} (batch {self.batch_size}, {load_label(self.load_kind)} {self.load})"


@dataclass(frozen=True)
class Setup:
    """What a measurement was taken under; equal setups measure the same thing."""

    model: str
    config_digest: str
    batch_size: int
    load_kind: str
    load: int
    flags: str  # the canonical text of the effective perf_analyzer flags

    @classmethod
    def of(cls, model: str, config_digest: str, batch_size: int, load_kind: str, load: int,
           flags: Mapping[str, Any]) -> Setup:
        return cls(model, config_digest, batch_size, load_kind, load, canonical(dict(flags)))
