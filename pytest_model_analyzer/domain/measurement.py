"""One measurement: which point it belongs to, what it was taken under, and what came out (metrics).

Plain data with a JSON form, so that it travels in `user_properties`, through xdist, and into checkpoints.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from pytest_model_analyzer.domain.identity import PointId, Setup
from pytest_model_analyzer.domain.latency import LatencySketch

MEASURED = "measured"  # a measurement's `source` when this plugin took it (else where it was imported from)

PAIR_FIELD = "baseline"  # a measurement's JSON field that holds its PairedSide (the name stored checkpoints use)


@dataclass(frozen=True)
class PairedSide:
    """The baseline version's measurement of a point, taken on the same server in alternation with the
    candidate's (A/B in one run, analysis/ab.py). Its trials pair with the candidate's by position.

    `source` names the baseline ("origin/main (3f2a1b0)"); `key` is what a stored pair must match to be reused
    (both sides' model files); `orders` says, per pair, which side ran first ("AB": the candidate, "BA"), or, in a
    duet (both sides at once), whose perf_analyzer started first ("A|B": the candidate's, "B|A")."""

    measurement: Measurement
    source: str
    key: str
    orders: tuple[str, ...]

    def with_trial(self, other: PairedSide) -> PairedSide:
        """A further pair: this side gains `other`'s trial and its order."""
        return dataclasses.replace(self, measurement=self.measurement.with_trial(other.measurement),
                                   orders=(*self.orders, *other.orders))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the side's measurement with `from`, `key` and `order` beside its fields."""
        return {**self.measurement.to_dict(), "from": self.source, "key": self.key, "order": list(self.orders)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairedSide:
        fields = dict(data)
        source, key, orders = fields.pop("from"), fields.pop("key"), fields.pop("order", [])
        return cls(Measurement.from_dict(fields), source, key, tuple(orders))


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
    source: str = MEASURED  # MEASURED, or where it was imported from (`model-analyzer:ma.ckpt`)
    # Repeated trials (separate perf_analyzer runs) of the point, per metric, when there was more than one;
    # `metrics` then holds each metric's median. A single trial is `metrics` itself (kept compact).
    trials: dict[str, list[float]] = field(default_factory=dict)
    requests: float = 0.0  # about how many requests the (last) trial's figures rest on; 0 when unknown
    # An ensemble's or BLS model's composing models as loaded, in order: {"model", "variant" (its name), "config"
    # (requested), "effective_config" (as the server reported it)}; the requested configs are in `config_digest`.
    composing: list[dict[str, Any]] = field(default_factory=list)
    # Measured against a baseline in the same run (A/B): the baseline version's side of each pair.
    pair: PairedSide | None = None
    # Every request's latency of the stable windows (all trials), as a LatencySketch's dict (domain/latency.py):
    # empty when perf_analyzer wrote no profile export (an imported measurement, an older perf_analyzer).
    latency: dict[str, Any] = field(default_factory=dict)

    @property
    def imported(self) -> bool:
        """Taken by another tool (Model Analyzer's checkpoint) and imported, not measured by this plugin."""
        return self.source != MEASURED

    @property
    def latency_sketch(self) -> LatencySketch | None:
        return LatencySketch.from_dict(self.latency) if self.latency else None

    @property
    def point_id(self) -> PointId:
        return PointId(self.model, self.variant, self.batch_size, self.load_kind, self.load)

    @property
    def setup(self) -> Setup:
        """What it was taken under: a stored measurement serves any point of the same setup."""
        return Setup.of(self.model, self.config_digest, self.batch_size, self.load_kind, self.load,
                        self.perf_analyzer_flags)

    @property
    def config_in_effect(self) -> dict[str, Any]:
        """The config the server served (the requested one when the server's is unknown, e.g. imported)."""
        return self.effective_config or self.config

    def model_configs(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(variant name, model, requested config) of each model this measurement's configuration sets: its own
        (none for models profiled together, which have no config of their own), then each composing model's."""
        own = [(self.variant, self.model, self.config)] if self.config else []
        return [*own, *((composing["variant"], composing["model"], composing["config"])
                        for composing in self.composing)]

    def samples(self, metric: str) -> list[float]:
        """Every trial's value of `metric` (one value for a single trial; none when it was not measured)."""
        if metric in self.trials:
            return list(self.trials[metric])
        return [self.metrics[metric]] if metric in self.metrics else []

    @property
    def trial_count(self) -> int:
        return max((len(values) for values in self.trials.values()), default=1)

    def with_trial(self, other: Measurement) -> Measurement:
        """This measurement with `other` (a later trial of the same point) added; metrics become medians."""
        trials = {tag: [*self.samples(tag), value] for tag, value in other.metrics.items() if tag in self.metrics}
        metrics = {**self.metrics, **{tag: statistics.median(values) for tag, values in trials.items()}}
        pair = (self.pair.with_trial(other.pair) if self.pair is not None and other.pair is not None
                else self.pair)  # a further pair: both sides gain a trial
        mine_sketch, their_sketch = self.latency_sketch, other.latency_sketch
        latency = (mine_sketch.merged(their_sketch).to_dict() if mine_sketch and their_sketch
                   else self.latency or other.latency)
        return dataclasses.replace(self, metrics=metrics, trials=trials, pair=pair, latency=latency,
                                   requests=min(self.requests, other.requests) if self.requests else other.requests,
                                   duration_s=self.duration_s + other.duration_s,
                                   window_adjusts=self.window_adjusts + other.window_adjusts)

    @property
    def baseline_side(self) -> Measurement | None:
        """The baseline version's measurement of this point, when it was measured beside it in this run."""
        return self.pair.measurement if self.pair is not None else None

    def paired(self, baseline: Measurement, source: str, key: str, order: str) -> Measurement:
        """This (the candidate's) measurement with the baseline's of the same point attached (see PairedSide)."""
        return dataclasses.replace(self, pair=PairedSide(dataclasses.replace(baseline, pair=None), source, key,
                                                         (order,)))

    def to_dict(self) -> dict[str, Any]:
        """Shallow: the configs are shared per variant, and asdict's deep copy of them dominated saving. The pair
        is stored under PAIR_FIELD, and only when there is one."""
        data = dict(self.__dict__)
        pair = data.pop("pair")
        if pair is not None:
            data[PAIR_FIELD] = pair.to_dict()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        fields = dict(data)
        side = fields.pop(PAIR_FIELD, None)
        return cls(**fields, pair=PairedSide.from_dict(side) if side else None)
