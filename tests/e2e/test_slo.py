"""Gating on what users feel, on the real server: every request counted, goodput against an SLO, arrivals."""

from __future__ import annotations

import itertools
import json
import math
import statistics
from pathlib import Path

import pytest

from pytest_model_analyzer.domain.latency import LatencySketch
from tests.support import FAST_FLAGS_YAML, MODELS

pytestmark = pytest.mark.e2e

# The sleep model takes 20 ms a request on one instance: at concurrency 1 a request takes about 21 ms, at
# concurrency 4 it waits for three others (about 84 ms), at 8 for seven.
SLEEP_SWEEP = f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models: sleep
concurrency: [1, 4, 8]
slo: {{request_latency: 50}}
{FAST_FLAGS_YAML}"""


def test_goodput_and_attainment_fall_where_requests_miss_the_slo(run_profile) -> None:
    run = run_profile(SLEEP_SWEEP + "constraints: {perf_slo_attainment: {min: 0.9}}\n")
    by_load = {item.measurement["load"]: item for item in run.items if item.measurement}
    assert sorted(by_load) == [1, 4, 8], run.result.stdout.str()[-3000:]
    figures = {load: item.measurement["metrics"] for load, item in by_load.items()}
    # At concurrency 1 nearly every request meets 50 ms; at 4 and 8 few do (a request that finds the queue
    # short; seen: 3 of 51 at concurrency 4).
    assert figures[1]["perf_slo_attainment"] >= 0.95
    assert figures[1]["perf_goodput"] == pytest.approx(figures[1]["perf_throughput"], rel=0.1)
    for load in (4, 8):
        assert figures[load]["perf_slo_attainment"] <= 0.25, figures[load]
        assert figures[load]["perf_goodput"] < 0.3 * figures[1]["perf_goodput"]
    # The constraint on attainment fails exactly the points that miss it, saying so.
    assert {load: item.outcome for load, item in by_load.items()} == {1: "passed", 4: "failed", 8: "failed"}
    assert "perf_slo_attainment = " in by_load[4].message and "< min 0.9" in by_load[4].message
    # Every request is counted: a trial's figures rest on its exported requests (`requests`), and the sketch
    # keeps every request of every trial (a failing constraint is confirmed by more trials).
    for item in by_load.values():
        sketch = LatencySketch.from_dict(item.measurement["latency"])
        trials = max((len(values) for values in item.measurement["trials"].values()), default=1)
        assert item.measurement["requests"] > 20
        if trials == 1:
            assert sketch.count == item.measurement["requests"]
        else:
            assert sketch.count >= trials * 20
    # junit carries both figures as properties, as every metric.
    assert float(by_load[1].properties["perf_slo_attainment"]) >= 0.95
    assert "perf_goodput" in by_load[8].properties


def test_a_percentile_from_every_request_agrees_with_perf_analyzers(run_profile, pytester: pytest.Pytester) -> None:
    """The user keeps perf_analyzer's own export (their path in perf_analyzer_flags): the sketch's quantiles
    are within their 1% of the exported requests' own, and perf_analyzer's percentiles are those requests'
    order statistics, one rank apart at most."""
    export = pytester.path / "export.json"
    run = run_profile(f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models: add
concurrency: [2]
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 300, stability-percentage: 50,
                       profile-export-file: {export}}}
""")
    (item,) = [item for item in run.items if item.measurement]
    experiment = json.loads(export.read_text())["experiments"][0]
    # perf_analyzer's figures rest on the requests that ended within its last three (stable) windows.
    start, end = experiment["window_boundaries"][-4], experiment["window_boundaries"][-1]
    latencies = sorted((r["response_timestamps"][-1] - r["timestamp"]) / 1e6 for r in experiment["requests"]
                       if start <= r["response_timestamps"][-1] <= end)
    n = len(latencies)
    sketch = LatencySketch.from_dict(item.measurement["latency"])
    assert sketch.count == n == item.measurement["requests"] > 100
    metrics = item.measurement["metrics"]
    for q, tag in ((0.5, "perf_latency_p50"), (0.9, "perf_latency_p90"), (0.99, "perf_latency_p99")):
        exact = latencies[math.floor(q * (n - 1))]
        assert abs(sketch.quantile(q) - exact) <= 0.01 * exact * 1.000001, (q, sketch.quantile(q), exact)
        rank = int(q * n)
        # perf_analyzer reports microseconds: its figure is one of the neighbouring order statistics.
        neighbours = latencies[max(rank - 2, 0):rank + 2]
        assert any(abs(metrics[tag] - value) <= 0.0011 for value in neighbours), (tag, metrics[tag], neighbours)


def test_a_poisson_request_rate_sweep_is_named_and_reported_as_such(run_profile, pytester: pytest.Pytester) -> None:
    """The arrivals are random, not only named so: in perf_analyzer's export (the user's copy, of the last
    point) the gaps between sends scatter as much as they average (coefficient of variation about 1), where
    constant arrivals have gaps nearly alike. Judged on the gaps' shape, not on the rate reached: a run beside
    another test reached 64 of 100 requests a second once."""
    export = pytester.path / "export.json"
    run = run_profile(f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models: add
request_rate: [50, 100]
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 500, stability-percentage: 50,
                       request-distribution: poisson, profile-export-file: {export}}}
""", "-v")
    names = sorted(item.nodeid.rsplit("::", 1)[-1] for item in run.items)
    assert names == ["b1-r100-poisson", "b1-r50-poisson"], run.result.stdout.str()[-3000:]
    assert all(item.outcome == "passed" for item in run.items)
    for item in run.items:
        assert item.measurement["perf_analyzer_flags"]["request-distribution"] == "poisson"
        assert item.measurement["metrics"]["perf_throughput"] > 0.3 * item.measurement["load"]
    sends = sorted(r["timestamp"] for r in json.loads(export.read_text())["experiments"][0]["requests"])
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert len(gaps) > 50 and 0.6 < statistics.pstdev(gaps) / statistics.mean(gaps) < 1.6
    table = (pytester.path / "results" / "metrics-model-inference.csv").read_text()
    assert "Request Rate" in table
    summary = Path(pytester.path / "reports" / "summary.html").read_text()
    assert "request rate (poisson)" in summary


def test_a_custom_request_intervals_stimulus_is_one_point_per_config(run_profile, pytester: pytest.Pytester) -> None:
    """Model Analyzer 1.50's custom load: the file's intervals (20 requests 5 ms apart, 10 at 50 ms: 50 a
    second on average) replace the load sweep; each config is measured once under it, named by the file."""
    stimulus = MODELS.parent / "intervals" / "burst.txt"
    run = run_profile(f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models:
  add:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 1}}], [{{kind: KIND_CPU, count: 2}}]]
slo: {{request_latency: 100}}
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 600, stability-percentage: 50,
                       request-intervals: {stimulus}}}
""", "-v")
    names = sorted((item.variant, item.nodeid.rsplit("::", 1)[-1]) for item in run.items)
    assert names == [(variant, "b1-intervals-burst.txt")
                     for variant in ("add_config_0", "add_config_1", "add_config_default")], names
    assert all(item.outcome == "passed" for item in run.items), run.result.stdout.str()[-3000:]
    for item in run.items:
        measurement = item.measurement
        assert measurement["load_kind"] == "request_intervals"
        assert measurement["perf_analyzer_flags"]["request-intervals"] == str(stimulus)
        assert measurement["metrics"]["perf_throughput"] == pytest.approx(50, rel=0.25)
        assert measurement["metrics"]["perf_slo_attainment"] > 0.9  # the add model answers in a few ms
    run.result.stdout.fnmatch_lines(["*custom load*"])  # the summary table's column
    # The reports name the stimulus, not the custom load's load number (0).
    pages = [pytester.path / "reports" / "summary.html",
             *sorted((pytester.path / "reports" / "detailed").glob("add_config_*.html"))]
    assert len(pages) == 4, pages
    for page in pages:
        text = page.read_text()
        assert "custom load burst.txt" in text and "custom load 0" not in text, page
