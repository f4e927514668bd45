"""An LLM's figures from its requests' responses: tokens, time to first token (TTFT), inter-token latency (ITL).

The definitions are genai-perf's (Model Analyzer's engine for `model_type: LLM`), read from its profile data
parser and `llm_metrics`:

* a response without text is not a token: a decoupled model's last response often only carries the
  completion flag (perf_analyzer 2.51 records it: 16 tokens gave 17 response timestamps);
* TTFT is the first token's time after the request was sent;
* a request's ITL is the time from its first token to its last, divided by its output tokens minus one;
* output tokens are counted by the tokenizer over the whole answer's text; without a tokenizer one streamed
  response is one token (TensorRT-LLM's streaming sends one token a response; the reports say so);
* percentiles are over every request, each request one value.

Without streaming, one response holds the whole answer, so its time is no first token's: such a point reports
request latency and output tokens (with a tokenizer), never TTFT or ITL.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_model_analyzer.analysis.slo import RequestTimes, RequestTokens
from pytest_model_analyzer.domain.latency import INTER_TOKEN_LATENCY, TIME_TO_FIRST_TOKEN, LatencySketch
from pytest_model_analyzer.domain.metrics import TOKEN_STATISTICS
from pytest_model_analyzer.domain.tokens import TokenReading

TEXT_OUTPUT = "text_output"  # both backends' output tensor (TensorRT-LLM's ensemble, the vLLM backend)


def response_text(output: Any) -> str:
    """A response's text from perf_analyzer's export (`{"text_output": "..."}`): the `text_output` tensor, else
    its only text; "" for a response without one (the completion flag alone)."""
    if not isinstance(output, Mapping):
        return ""
    value = output.get(TEXT_OUTPUT)
    if value is None:
        value = next((item for item in output.values() if isinstance(item, str)), "")
    return value if isinstance(value, str) else ""


def words(text: str) -> int:
    """A prompt's tokens without a tokenizer: its words, as the synthetic prompts are made (config/llm.py)."""
    return len(text.split())


@dataclass(frozen=True)
class RequestToken:
    """One request's token figures (ms); None where they cannot be told."""

    input_tokens: int
    output_tokens: int | None
    time_to_first_token: float | None
    inter_token_latency: float | None


def request_tokens(sent_ns: int, response_ns: Sequence[int], outputs: Sequence[Any] | None, prompt: str,
                   reading: TokenReading) -> RequestToken:
    """One request's figures from its send time, its responses' times and their outputs (perf_analyzer's
    export). Without the outputs (an older perf_analyzer) every response is taken for a token."""
    streaming, counter = reading.streaming, reading.counter
    texts = [response_text(output) for output in outputs] if outputs is not None else None
    if texts is None or len(texts) != len(response_ns):
        tokens_at = list(response_ns)
        answer = None
    else:
        tokens_at = [at for at, text in zip(response_ns, texts, strict=True) if text]
        answer = "".join(texts)
    input_tokens = counter(prompt) if counter is not None else words(prompt)
    if counter is not None and answer is not None:
        output: int | None = counter(answer)
    else:
        output = len(tokens_at) if streaming else None
    if not streaming or not tokens_at:
        return RequestToken(input_tokens, output, None, None)
    first = (tokens_at[0] - sent_ns) / 1e6
    count = output if output is not None else len(tokens_at)
    gap = (tokens_at[-1] - tokens_at[0]) / 1e6 / (count - 1) if count > 1 else 0.0
    return RequestToken(input_tokens, output, first, gap)


def gathered(requests: Sequence[RequestToken], streaming: bool) -> RequestTokens:
    """The requests' figures, in their order (the SLO reads them beside the request latencies)."""
    outputs = [request.output_tokens for request in requests]
    known = all(output is not None for output in outputs)
    timed = streaming and all(request.time_to_first_token is not None for request in requests)
    return RequestTokens(
        input_tokens=[request.input_tokens for request in requests],
        output_tokens=[int(output) for output in outputs if output is not None] if known else [],
        time_to_first_token=[float(request.time_to_first_token or 0.0) for request in requests] if timed else [],
        inter_token_latency=[float(request.inter_token_latency or 0.0) for request in requests] if timed else [],
    )


def _statistics(tag: str, values: Sequence[float]) -> dict[str, float]:
    """avg, min and max exactly; the percentiles from a sketch of every value (1% relative error), held within
    min and max (a bin's value may lie just past the values in it; clamped it is still within 1%)."""
    if not values:
        return {}
    sketch = LatencySketch.of(values)
    low, high = min(values), max(values)
    result = {}
    for statistic in TOKEN_STATISTICS:
        if statistic == "avg":
            value = statistics.fmean(values)
        elif statistic in ("min", "max"):
            value = low if statistic == "min" else high
        else:
            value = min(max(sketch.quantile(int(statistic[1:]) / 100), low), high)
        result[f"{tag}_{statistic}"] = value
    return result


def token_metrics(requests: RequestTimes) -> dict[str, float]:
    """Model Analyzer's LLM metrics (and the sequence lengths) of a measurement's requests: TTFT and ITL
    statistics where the responses streamed, output token throughput where the output tokens are known."""
    tokens = requests.tokens
    if tokens is None or requests.count == 0:
        return {}
    result = _statistics(TIME_TO_FIRST_TOKEN, tokens.time_to_first_token)
    # A request of one token has no gap between tokens: it says nothing of the ITL. (Streamed responses always
    # have their output tokens counted, so the two lists align whenever there are gaps.)
    several = [gap for gap, count in zip(tokens.inter_token_latency, tokens.output_tokens, strict=False)
               if count > 1]
    result.update(_statistics(INTER_TOKEN_LATENCY, several))
    if tokens.output_tokens:
        result["output_sequence_length_avg"] = statistics.fmean(tokens.output_tokens)
        if requests.span_s > 0 and math.isfinite(requests.span_s):
            result["output_token_throughput"] = sum(tokens.output_tokens) / requests.span_s
    if tokens.input_tokens:
        result["input_sequence_length_avg"] = statistics.fmean(tokens.input_tokens)
    return result
