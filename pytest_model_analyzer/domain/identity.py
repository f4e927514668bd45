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
# A custom load: perf_analyzer sends at the intervals of a file (`request-intervals`, Model Analyzer 1.50's
# custom load), one point per config and batch size, load 0; the flags name the file.
REQUEST_INTERVALS = "request_intervals"
INTERVALS_FLAG = "request-intervals"
# Kept beside the file's path among a custom load's flags, never passed to perf_analyzer: the file's content is
# part of what a point is measured under (its Setup), so an edited stimulus is measured again, not reused.
INTERVALS_DIGEST = "request-intervals-digest"
# Likewise an LLM's requests (config/llm.py): the digest of the prompts and lengths every point sends, and the
# content of perf_analyzer's input data (a file or directory of the user's, config/flags.py).
LLM_INPUTS_DIGEST = "llm-inputs-digest"
INPUT_DATA_FLAG = "input-data"
INPUT_DATA_DIGEST = "input-data-digest"
PLUGIN_RECORDS = frozenset({INTERVALS_DIGEST, LLM_INPUTS_DIGEST, INPUT_DATA_DIGEST})  # among the flags, never passed
LOAD_KINDS = (CONCURRENCY, REQUEST_RATE, REQUEST_INTERVALS)


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


def load_label(load_kind: str, arrival: str = "") -> str:
    """The load in words, for messages and table headers: `concurrency`, `request rate`, or a request rate
    with its arrivals named (`request rate (poisson)`)."""
    if load_kind == REQUEST_INTERVALS:
        return "custom load"
    if load_kind != REQUEST_RATE:
        return "concurrency"
    return f"request rate ({arrival})" if arrival else "request rate"


def arrivals(flags: Mapping[str, Any]) -> str:
    """How a request rate's requests arrive, from perf_analyzer's `request-distribution`: "" for its default
    (constant intervals), else the distribution (`poisson`), which names and reports show."""
    value = str(flags.get("request-distribution") or "constant").strip().lower()
    return "" if value == "constant" else value


def stimulus(flags: Mapping[str, Any]) -> str:
    """A custom load's file name (`burst.txt`): which stimulus a point ran; "" for a concurrency or rate."""
    path = str(flags.get(INTERVALS_FLAG) or "")
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def load_value(load_kind: str, load: int, flags: Mapping[str, Any]) -> str:
    """The load's value in words, after its label: `16`, or a custom load's file (`burst.txt`), whose load
    number (0) says nothing."""
    return stimulus(flags) if load_kind == REQUEST_INTERVALS else str(load)


def item_name(point_id: PointId, flags: Mapping[str, Any]) -> str:
    """The node id's last part: `b1-r32`, `b1-r32-poisson` when the requests arrive at random, or
    `b1-intervals-burst.txt` for a custom load."""
    if point_id.load_kind == REQUEST_INTERVALS:
        return f"{point_id.name}-{stimulus(flags)}"
    arrival = arrivals(flags) if point_id.load_kind == REQUEST_RATE else ""
    return f"{point_id.name}-{arrival}" if arrival else point_id.name


def point_label(point_id: PointId, flags: Mapping[str, Any]) -> str:
    """How messages name a point: its `PointId.label`, with random arrivals said
    (`add / add_config_0 (batch 1, request rate 50, poisson arrivals)`)."""
    arrival = arrivals(flags) if point_id.load_kind == REQUEST_RATE else ""
    return f"{point_id.label[:-1]}, {arrival} arrivals)" if arrival else point_id.label


@dataclass(frozen=True, order=True)
class PointId:
    model: str
    variant: str
    batch_size: int
    load_kind: str
    load: int

    @property
    def name(self) -> str:
        """The item name: `b8-c16` (batch 8, concurrency 16), `b1-r32` (request rate 32) or `b1-intervals` (a
        custom load, whose file item_name adds)."""
        if self.load_kind == REQUEST_INTERVALS:
            return f"b{self.batch_size}-intervals"
        letter = "r" if self.load_kind == REQUEST_RATE else "c"
        return f"b{self.batch_size}-{letter}{self.load}"

    @property
    def label(self) -> str:
        """`add / add_config_1 (batch 8, concurrency 16)`: how messages name the point."""
        load = load_label(self.load_kind)
        if self.load_kind != REQUEST_INTERVALS:  # a custom load's file, not a number, says what it ran
            load = f"{load} {self.load}"
        return f"{self.model} / {self.variant} (batch {self.batch_size}, {load})"


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
