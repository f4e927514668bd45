"""model_type: LLM on the real server: streaming toy models of both interfaces (TensorRT-LLM's and the vLLM
backend's), whose delays are known, measured per token through the real perf_analyzer."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from tests.config.test_llm import write_tokenizer

pytestmark = pytest.mark.e2e

FIRST_TOKEN_MS, TOKEN_MS, TOKENS = 40.0, 10.0, 8  # the toy models' delays (their config.pbtxt), the asked length


def profile(repo: Path, tokenizer: Path, extra: str = "") -> str:
    """The TensorRT-LLM model counts a streamed response as a token (no tokenizer); the vLLM model's tokens are
    counted by a local tokenizer."""
    return f"""
model_repository: {repo}
model_type: LLM
run_config_search_disable: true
genai_perf_flags: {{expected-output-tokens: {TOKENS}, input-tokens-mean: 16, num-of-output-prompts: 20}}
profile_models:
  llm_trtllm:
    model_config_parameters: {{instance_group: [{{kind: KIND_CPU, count: [2]}}]}}
    parameters: {{concurrency: [1, 2]}}
  llm_vllm:
    genai_perf_flags: {{backend: vllm, expected-output-tokens: {TOKENS}, input-tokens-mean: 16, tokenizer: {tokenizer}}}
    parameters: {{concurrency: [1]}}
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 600, stability-percentage: 50}}
slo: {{time_to_first_token: 60, inter_token_latency: 15}}
constraints: {{time_to_first_token_p99: {{max: 90}}}}
{extra}"""


def test_ttft_itl_and_tokens_match_the_known_delays_and_gate_the_run(run_profile, model_repo, pytester) -> None:
    tokenizer = write_tokenizer(pytester.path / "tokenizer.json")
    run = run_profile(profile(model_repo("llm_trtllm", "llm_vllm"), tokenizer))
    output = run.result.stdout.str()
    points = {(item.measurement["variant"], item.measurement["load"]): item for item in run.items if item.measurement}
    assert set(points) == {("llm_trtllm_config_default", 1), ("llm_trtllm_config_default", 2),
                           ("llm_trtllm_config_0", 1), ("llm_trtllm_config_0", 2),
                           ("llm_vllm_config_default", 1)}, output[-3000:]
    # At concurrency 1 nothing waits: the first token comes after its delay, the next ones a gap apart, and each
    # request gets the tokens it asked for (the completion flag's empty response is not one).
    for variant in ("llm_trtllm_config_default", "llm_vllm_config_default"):
        metrics = points[(variant, 1)].measurement["metrics"]
        assert metrics["time_to_first_token_avg"] == pytest.approx(FIRST_TOKEN_MS, rel=0.15), (variant, metrics)
        assert metrics["time_to_first_token_p50"] == pytest.approx(FIRST_TOKEN_MS, rel=0.15), (variant, metrics)
        assert metrics["inter_token_latency_avg"] == pytest.approx(TOKEN_MS, rel=0.15), (variant, metrics)
        assert metrics["inter_token_latency_p50"] == pytest.approx(TOKEN_MS, rel=0.15), (variant, metrics)
        assert metrics["output_sequence_length_avg"] == pytest.approx(TOKENS, rel=0.10), (variant, metrics)
        assert metrics["input_sequence_length_avg"] == 16  # words, or the tokenizer's tokens
        # A request takes FIRST + 7 gaps: the token rate is TOKENS per request at the request rate.
        assert metrics["output_token_throughput"] == pytest.approx(TOKENS * metrics["perf_throughput"], rel=0.15)
        assert metrics["perf_slo_attainment"] >= 0.9, metrics
    # Token throughput scales with the model's instances: at concurrency 2 one instance serves one request at a
    # time, two serve both.
    one = points[("llm_trtllm_config_default", 2)].measurement["metrics"]
    two = points[("llm_trtllm_config_0", 2)].measurement["metrics"]
    assert two["output_token_throughput"] >= 1.6 * one["output_token_throughput"], (one, two)
    # A second request on one instance waits for the first: its first token comes a whole request later, so the
    # TTFT constraint fails that point alone, and the SLO on TTFT counts its late requests.
    outcomes = {key: item.outcome for key, item in points.items()}
    assert outcomes == {key: "failed" if key == ("llm_trtllm_config_default", 2) else "passed" for key in points}
    assert "time_to_first_token_p99 = " in points[("llm_trtllm_config_default", 2)].message
    assert one["perf_slo_attainment"] <= 0.7, one
    # The CSV carries Model Analyzer's LLM columns; junit every metric as a property.
    rows = list(csv.DictReader((pytester.path / "results" / "metrics-model-inference.csv").open()))
    assert {"p99 Inter Token Latency (ms)", "p99 Time To First Token (ms)",
            "Output Token Throughput (tokens/sec)"} <= set(rows[0])
    assert float(points[("llm_vllm_config_default", 1)].properties["time_to_first_token_p99"]) > 0
    # The detailed report plots TTFT and ITL against the load.
    report = (pytester.path / "reports" / "detailed" / "llm_trtllm_config_default.html").read_text()
    assert re.search(r"time to first token", report) and "inter-token latency" in report


def slow_tokens(repo: Path, model: str, token_ms: float) -> None:
    config = repo / model / "config.pbtxt"
    config.write_text(re.sub(r'(key: "token_ms", value: \{ string_value: )"[\d.]+"', rf'\1"{token_ms}"',
                             config.read_text()))


def test_an_ab_run_fails_a_slower_itl_and_passes_the_unchanged_model(run_profile, model_repo, tmp_path: Path) -> None:
    """The A/B gate on a token metric: the candidate's TensorRT-LLM model streams 25% slower, its vLLM model is
    unchanged; both sides send the same prompts (one input file per content)."""
    candidate = model_repo("llm_trtllm", "llm_vllm")
    baseline = tmp_path / "baseline"
    shutil.copytree(candidate, baseline)
    slow_tokens(candidate, "llm_trtllm", TOKEN_MS * 1.25)
    body = f"""
model_repository: {candidate}
model_type: LLM
run_config_search_disable: true
genai_perf_flags: {{expected-output-tokens: {TOKENS}, input-tokens-mean: 16, num-of-output-prompts: 20}}
profile_models:
  llm_trtllm: {{}}
  llm_vllm:
    genai_perf_flags: {{backend: vllm, expected-output-tokens: {TOKENS}, input-tokens-mean: 16}}
concurrency: [1]
skip_summary_reports: true
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 500, stability-percentage: 50}}
"""
    run = run_profile(body, f"--ma-baseline-repository={baseline}", "--ma-compare-fail=inter_token_latency_avg:10%")
    outcomes = {(item.measurement["model"], item.measurement["load"]): item.outcome
                for item in run.items if item.measurement}
    assert outcomes == {("llm_trtllm", 1): "failed", ("llm_vllm", 1): "passed"}, run.result.stdout.str()[-4000:]
    failed = next(item for item in run.items if item.outcome == "failed")
    assert re.search(r"inter_token_latency_avg \+2\d\.\d%", failed.message), failed.message
    for item in run.items:
        sides = (item.measurement["perf_analyzer_flags"], item.measurement["baseline"]["perf_analyzer_flags"])
        assert sides[0]["llm-inputs-digest"] == sides[1]["llm-inputs-digest"]  # the same prompts on both sides
