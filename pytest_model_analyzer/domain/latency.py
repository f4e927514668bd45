"""Every request's latency, kept compactly: a sketch with bounded relative error, and what is read from it.

perf_analyzer's CSV gives four percentiles per measurement; its profile export (`--profile-export-file`) gives
every request of the stable windows. Keeping every timestamp would make a checkpoint grow with the load, so a
measurement keeps a DDSketch of its requests' latencies (Masson, Rim and Lee, VLDB 2019; the `ddsketch`
library, maintained by Datadog): values fall into logarithmic bins whose width bounds the relative error of
any quantile read back (1% here), whatever the distribution, in a few hundred bytes. Sketches of the same
accuracy merge exactly, so trials of a point add up.

The library keeps its store private, so the bins are kept here, keyed by the library's own public mapping,
and a DDSketch is rebuilt from them, once, to answer quantiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ddsketch import DDSketch
from ddsketch.mapping import LogarithmicMapping

RELATIVE_ACCURACY = 0.01  # any quantile read back is within 1% of a value of the sample at that rank

# The per-request quantities perf_analyzer's profile export records, in milliseconds, that an `slo` may bound:
# the last response's time after the request was sent, and the first's (the same for a model that answers
# once; less for a decoupled model that streams its responses).
REQUEST_LATENCY = "request_latency"
TIME_TO_FIRST_RESPONSE = "time_to_first_response"
# An LLM's (model_type: LLM, analysis/tokens.py): the first token's time after the request was sent, and the
# mean gap between its tokens. Model Analyzer's metric names, without the statistic.
TIME_TO_FIRST_TOKEN = "time_to_first_token"
INTER_TOKEN_LATENCY = "inter_token_latency"
TOKEN_QUANTITIES = (TIME_TO_FIRST_TOKEN, INTER_TOKEN_LATENCY)
PER_REQUEST_QUANTITIES = (REQUEST_LATENCY, TIME_TO_FIRST_RESPONSE, *TOKEN_QUANTITIES)


@dataclass(frozen=True)
class LatencySketch:
    """The latencies of a measurement's requests, in milliseconds."""

    bins: Mapping[int, int] = field(default_factory=dict)  # LogarithmicMapping key -> how many requests
    relative_accuracy: float = RELATIVE_ACCURACY

    @classmethod
    def of(cls, latencies_ms: Iterable[float], relative_accuracy: float = RELATIVE_ACCURACY) -> LatencySketch:
        mapping = LogarithmicMapping(relative_accuracy)
        bins: dict[int, int] = {}
        for value in latencies_ms:
            key = mapping.key(max(value, mapping.min_possible))
            bins[key] = bins.get(key, 0) + 1
        return cls(bins, relative_accuracy)

    @property
    def count(self) -> int:
        return sum(self.bins.values())

    @cached_property
    def _sketch(self) -> DDSketch:
        """Built once per sketch, on the first quantile asked (the bins never change: a merge makes a new one)."""
        mapping = LogarithmicMapping(self.relative_accuracy)
        sketch = DDSketch(self.relative_accuracy)
        for key, count in self.bins.items():
            sketch.add(mapping.value(key), count)
        return sketch

    def quantile(self, q: float) -> float:
        """The latency at quantile `q` (0..1) of all the requests; 0 for an empty sketch."""
        if not self.bins:
            return 0.0
        value = self._sketch.get_quantile_value(q)
        return float(value) if value is not None else 0.0

    def cdf(self) -> list[tuple[float, float]]:
        """(latency ms, share of requests at or below it), one point per bin, rising: the distribution drawn."""
        mapping = LogarithmicMapping(self.relative_accuracy)
        total, seen, points = self.count, 0, []
        for key in sorted(self.bins):
            seen += self.bins[key]
            points.append((mapping.value(key), seen / total))
        return points

    def merged(self, other: LatencySketch) -> LatencySketch:
        """Both sketches' requests in one (a point's trials); exact, since both use the same bins."""
        if other.relative_accuracy != self.relative_accuracy:
            raise ValueError("sketches of different accuracy do not merge")
        bins = dict(self.bins)
        for key, count in other.bins.items():
            bins[key] = bins.get(key, 0) + count
        return LatencySketch(bins, self.relative_accuracy)

    def to_dict(self) -> dict[str, Any]:
        """JSON: the counts of consecutive bins from the first one's key, as one string ("57,4,0,1"). A
        checkpoint of many measurements loads it as one value, not hundreds (benchmarks/checkpoint.py)."""
        if not self.bins:
            return {"relative_accuracy": self.relative_accuracy, "offset": 0, "counts": ""}
        low, high = min(self.bins), max(self.bins)
        counts = ",".join(str(self.bins.get(key, 0)) for key in range(low, high + 1))
        return {"relative_accuracy": self.relative_accuracy, "offset": low, "counts": counts}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LatencySketch:
        offset, counts = int(data.get("offset", 0)), str(data.get("counts", ""))
        bins = {offset + index: int(count) for index, count in enumerate(counts.split(",")) if count and count != "0"}
        return cls(bins, float(data.get("relative_accuracy", RELATIVE_ACCURACY)))
