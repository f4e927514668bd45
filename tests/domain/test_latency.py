"""Every request's latency in a sketch: quantiles within the stated relative error, exact merges, JSON."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_model_analyzer.domain.latency import RELATIVE_ACCURACY, LatencySketch

latencies = st.lists(st.floats(min_value=0.01, max_value=60_000, allow_nan=False), min_size=1, max_size=400)
quantiles = st.floats(min_value=0.0, max_value=1.0)


def exact(values: list[float], q: float) -> float:
    """The sample's value at the sketch's rank (DDSketch: q x (n - 1), rounded down)."""
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


@settings(max_examples=200, deadline=None)
@given(values=latencies, q=quantiles)
def test_a_quantile_is_within_the_stated_relative_error_of_the_sample(values: list[float], q: float) -> None:
    truth = exact(values, q)
    assert abs(LatencySketch.of(values).quantile(q) - truth) <= RELATIVE_ACCURACY * truth * (1 + 1e-9)


@settings(max_examples=100, deadline=None)
@given(first=latencies, second=latencies)
def test_merging_two_sketches_is_the_sketch_of_both_samples(first: list[float], second: list[float]) -> None:
    assert LatencySketch.of(first).merged(LatencySketch.of(second)) == LatencySketch.of(first + second)


@settings(max_examples=100, deadline=None)
@given(values=latencies)
def test_the_json_form_round_trips_and_the_cdf_ends_at_every_request(values: list[float]) -> None:
    sketch = LatencySketch.of(values)
    assert LatencySketch.from_dict(sketch.to_dict()) == sketch and sketch.count == len(values)
    cdf = sketch.cdf()
    assert cdf[-1][1] == 1.0 and [x for x, _ in cdf] == sorted(x for x, _ in cdf)


def test_a_thousand_requests_fit_in_a_few_hundred_bytes() -> None:
    import json

    sketch = LatencySketch.of([20 + (i % 97) * 0.5 for i in range(1000)])  # 20 to 68 ms
    assert len(json.dumps(sketch.to_dict())) < 400 and sketch.count == 1000


def test_an_empty_sketch_answers_zero() -> None:
    assert LatencySketch().quantile(0.99) == 0.0 and LatencySketch().count == 0
