"""Goodput against a service-level objective: how many requests per second met every bound, and their share.

An SLO bounds each request's own figures (`slo: {request_latency: 50}`, in milliseconds), the way AIPerf's
`--goodput` and vLLM's request goodput do (DistServe's definition): a request is good when it meets every
bound. The figures come from every request perf_analyzer sent in its stable windows (its profile export), so
an attainment of 0.99 means 99 of 100 requests, not an interpolated percentile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pytest_model_analyzer.domain.errors import MeasurementError
from pytest_model_analyzer.domain.latency import (
    INTER_TOKEN_LATENCY,
    REQUEST_LATENCY,
    TIME_TO_FIRST_RESPONSE,
    TIME_TO_FIRST_TOKEN,
)


@dataclass(frozen=True)
class RequestTokens:
    """An LLM's requests, in the order of RequestTimes' (analysis/tokens.py): each one's tokens and their times."""

    input_tokens: Sequence[int]
    output_tokens: Sequence[int]
    # Per request, ms; empty when the responses did not stream (one response holds the whole answer: its time
    # is no first token's).
    time_to_first_token: Sequence[float] = ()
    inter_token_latency: Sequence[float] = ()  # its mean gap between tokens (0 for a request of one token)


@dataclass(frozen=True)
class RequestTimes:
    """Every request of a measurement's stable windows: its figures in milliseconds, and the windows' span."""

    request_latency: Sequence[float]
    time_to_first_response: Sequence[float]
    span_s: float  # from the first window's start to the last one's end
    tokens: RequestTokens | None = None  # an LLM's (model_type: LLM)

    def of(self, quantity: str) -> Sequence[float]:
        """Each request's figure that an slo bounds."""
        if quantity == REQUEST_LATENCY:
            return self.request_latency
        if quantity == TIME_TO_FIRST_RESPONSE:
            return self.time_to_first_response
        tokens = self.tokens
        values = (() if tokens is None else tokens.time_to_first_token if quantity == TIME_TO_FIRST_TOKEN
                  else tokens.inter_token_latency if quantity == INTER_TOKEN_LATENCY else ())
        if len(values) != self.count:
            raise MeasurementError(f"the slo bounds {quantity}, which these requests do not have: it needs an LLM "
                                   "model (model_type: LLM) whose responses stream")
        return values

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
