"""An LLM's figures from its responses, as genai-perf defines them: the completion flag's empty response is no
token, TTFT is the first token's time, ITL the first-to-last span over the tokens less one, percentiles over
every request."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_model_analyzer.analysis.slo import RequestTimes, slo_metrics
from pytest_model_analyzer.analysis.tokens import gathered, request_tokens, token_metrics
from pytest_model_analyzer.domain.errors import MeasurementError
from pytest_model_analyzer.domain.metrics import METRICS, TOKEN_STATISTICS
from pytest_model_analyzer.domain.tokens import TokenReading
from pytest_model_analyzer.infra.perf_analyzer import parse_profile_export

MS = 1_000_000  # ns
STREAMING = TokenReading(streaming=True)


def streamed(sent: int, first_ms: float, gap_ms: float, tokens: int, final_empty: bool = True) -> dict:
    """A request as perf_analyzer 2.51 exports a decoupled model's: a timestamp a response, an output each."""
    times = [sent + int((first_ms + i * gap_ms) * MS) for i in range(tokens)]
    outputs = [{"text_output": f" w{i}"} for i in range(tokens)]
    if final_empty:  # TensorRT-LLM's last response carries only the completion flag
        times.append(times[-1] + MS // 2)
        outputs.append({"text_output": ""})
    return {"timestamp": sent, "request_inputs": {"text_input": "a b c", "stream": True},
            "response_timestamps": times, "response_outputs": outputs}


def test_the_completion_flags_empty_response_is_not_a_token() -> None:
    figures = request_tokens(0, streamed(0, 40, 10, 16)["response_timestamps"],
                             streamed(0, 40, 10, 16)["response_outputs"], "a b c", STREAMING)
    assert figures.output_tokens == 16  # 17 responses (the issue's own observation)
    assert figures.time_to_first_token == pytest.approx(40.0)
    assert figures.inter_token_latency == pytest.approx(10.0)  # not stretched by the flag's response
    assert figures.input_tokens == 3  # words, without a tokenizer


def test_a_tokenizer_counts_the_answer_and_the_itl_divides_by_its_tokens() -> None:
    request = streamed(0, 40, 10, 4, final_empty=False)
    figures = request_tokens(0, request["response_timestamps"], request["response_outputs"], "a b c",
                             TokenReading(streaming=True, counter=lambda text: 2 * len(text.split())))
    assert figures.output_tokens == 8 and figures.input_tokens == 6
    assert figures.inter_token_latency == pytest.approx(30 / 7)  # (last - first) / (tokens - 1), genai-perf's


def test_a_point_that_does_not_stream_claims_no_token_times() -> None:
    whole = {"timestamp": 0, "response_timestamps": [100 * MS], "response_outputs": [{"text_output": " w0 w1 w2"}]}
    plain = request_tokens(0, whole["response_timestamps"], whole["response_outputs"], "a", TokenReading(False))
    assert (plain.time_to_first_token, plain.inter_token_latency, plain.output_tokens) == (None, None, None)
    counted = request_tokens(0, whole["response_timestamps"], whole["response_outputs"], "a",
                             TokenReading(False, counter=lambda text: len(text.split())))
    assert counted.output_tokens == 3
    metrics = token_metrics(RequestTimes([100.0], [100.0], 1.0, gathered([counted], streaming=False)))
    assert metrics == {"output_sequence_length_avg": 3.0, "output_token_throughput": 3.0,
                       "input_sequence_length_avg": 1.0}


def test_the_metrics_carry_model_analyzers_names_and_every_statistic() -> None:
    requests = [request_tokens(0, r["response_timestamps"], r["response_outputs"], "a b", STREAMING)
                for r in (streamed(0, 40, 10, 8), streamed(0, 60, 20, 8), streamed(0, 50, 10, 1))]
    times = RequestTimes([120.0, 200.0, 51.0], [40.0, 60.0, 50.0], 2.0, gathered(requests, streaming=True))
    metrics = token_metrics(times)
    for figure in ("time_to_first_token", "inter_token_latency"):
        assert {f"{figure}_{statistic}" for statistic in TOKEN_STATISTICS} <= set(metrics)
    assert all(tag in METRICS for tag in metrics)
    assert metrics["time_to_first_token_min"] == pytest.approx(40.0)
    assert metrics["time_to_first_token_max"] == pytest.approx(60.0)
    assert metrics["inter_token_latency_avg"] == pytest.approx(15.0)  # the one-token request has no gap
    assert metrics["output_token_throughput"] == pytest.approx(17 / 2.0)
    assert metrics["output_sequence_length_avg"] == pytest.approx(17 / 3)
    # An SLO on the tokens counts the requests that met every bound (AIPerf's goodput).
    assert slo_metrics(times, {"time_to_first_token": 55, "inter_token_latency": 12}) == {
        "perf_goodput": pytest.approx(1.0), "perf_slo_attainment": pytest.approx(2 / 3)}
    with pytest.raises(MeasurementError, match="needs an LLM model"):
        slo_metrics(RequestTimes([1.0], [1.0], 1.0), {"time_to_first_token": 5})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1, 5000), min_size=1, max_size=200))
def test_percentiles_lie_within_the_values_and_rise(values: list[float]) -> None:
    tokens = gathered([request_tokens(0, [int(v * MS), int(v * MS) + MS, int(v * MS) + 2 * MS],
                                      [{"text_output": "x"}] * 3, "p", STREAMING) for v in values], True)
    metrics = token_metrics(RequestTimes(list(values), list(values), 1.0, tokens))
    ordered = [metrics[f"time_to_first_token_{s}"] for s in ("min", "p25", "p50", "p75", "p90", "p95", "p99", "max")]
    assert ordered == sorted(ordered)
    assert min(values) == pytest.approx(ordered[0], rel=1e-6) and max(values) == pytest.approx(ordered[-1], rel=1e-6)


def test_perf_analyzers_export_gives_each_requests_tokens() -> None:
    export = {"experiments": [{"experiment": {"mode": "concurrency", "value": 1},
                               "requests": [streamed(10 * MS, 40, 10, 8), streamed(200 * MS, 42, 10, 8)],
                               "window_boundaries": [0, 150 * MS, 300 * MS, 400 * MS]}]}
    requests = parse_profile_export(json.dumps(export), 1, STREAMING)
    assert requests is not None and requests.tokens is not None
    assert list(requests.tokens.output_tokens) == [8, 8]
    assert list(requests.tokens.time_to_first_token) == pytest.approx([40.0, 42.0])
    assert parse_profile_export(json.dumps(export), 1).tokens is None  # a generic point reads no tokens
