"""Goodput against an SLO: requests that met every bound, per second and as a share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_model_analyzer.analysis.slo import RequestTimes, slo_metrics


def test_goodput_counts_the_requests_that_met_every_bound() -> None:
    # Four requests over two seconds: two meet both bounds, one misses the first response's, one the total.
    requests = RequestTimes([10.0, 20.0, 60.0, 30.0], [5.0, 25.0, 5.0, 5.0], span_s=2.0)
    figures = slo_metrics(requests, {"request_latency": 50, "time_to_first_response": 20})
    assert figures == {"perf_goodput": 1.0, "perf_slo_attainment": 0.5}
    assert slo_metrics(requests, {"request_latency": 50}) == {"perf_goodput": 1.5, "perf_slo_attainment": 0.75}


def test_a_bound_is_met_at_equality_and_no_slo_gives_no_figures() -> None:
    requests = RequestTimes([50.0], [50.0], span_s=1.0)
    assert slo_metrics(requests, {"request_latency": 50})["perf_slo_attainment"] == 1.0
    assert slo_metrics(requests, {}) == {}
    assert slo_metrics(RequestTimes([], [], 1.0), {"request_latency": 50}) == {}


@given(latency=st.lists(st.floats(0.1, 1000), min_size=1, max_size=200), bound=st.floats(0.1, 1000))
def test_attainment_is_a_share_and_goodput_at_most_the_request_rate(latency: list[float], bound: float) -> None:
    requests = RequestTimes(latency, latency, span_s=2.0)
    figures = slo_metrics(requests, {"request_latency": bound})
    assert 0.0 <= figures["perf_slo_attainment"] <= 1.0
    assert figures["perf_goodput"] == pytest.approx(figures["perf_slo_attainment"] * len(latency) / 2.0)
