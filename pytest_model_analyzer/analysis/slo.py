"""Goodput against a service-level objective: how many requests per second met every bound, and their share.

An SLO bounds each request's own figures (`slo: {request_latency: 50}`, in milliseconds), the way AIPerf's
`--goodput` and vLLM's request goodput do (DistServe's definition): a request is good when it meets every
bound. The figures come from every request perf_analyzer sent in its stable windows (its profile export), so
an attainment of 0.99 means 99 of 100 requests, not an interpolated percentile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pytest_model_analyzer.domain.latency import REQUEST_LATENCY


@dataclass(frozen=True)
class RequestTimes:
    """Every request of a measurement's stable windows: its figures in milliseconds, and the windows' span."""

    request_latency: Sequence[float]
    time_to_first_response: Sequence[float]
    span_s: float  # from the first window's start to the last one's end

    def of(self, quantity: str) -> Sequence[float]:
        return self.request_latency if quantity == REQUEST_LATENCY else self.time_to_first_response

    @property
    def count(self) -> int:
        return len(self.request_latency)


def slo_metrics(requests: RequestTimes, slo: Mapping[str, float]) -> dict[str, float]:
    """`perf_goodput` (good requests per second) and `perf_slo_attainment` (their share, 0 to 1)."""
    if not slo or requests.count == 0:
        return {}
    good = sum(1 for index in range(requests.count)
               if all(requests.of(quantity)[index] <= bound for quantity, bound in slo.items()))
    return {"perf_goodput": good / requests.span_s if requests.span_s > 0 else 0.0,
            "perf_slo_attainment": good / requests.count}
