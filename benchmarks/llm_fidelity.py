"""The plugin's LLM figures side by side with AIPerf 0.13's (NVIDIA's maintained successor of genai-perf) on the
same model, the same load and the same server: time to first token, inter-token latency and output token
throughput, on both toy streaming models (`llm_trtllm`, TensorRT-LLM's interface; `llm_vllm`, the vLLM
backend's: first token after 40 ms, then one every 10 ms).

One bundled tritonserver serves both tools (the plugin in remote mode). Each round, per model, the plugin and
AIPerf each measure concurrency 1 with 16-token prompts and 8 output tokens, in alternating order (the plugin
first in even rounds). Both count tokens with the same local word-level tokenizer (built here; nothing is
downloaded). AIPerf 0.13 speaks HTTP only: it streams through Triton's `generate_stream` endpoint (server-sent
events) with a template payload of the backend's inputs, while the plugin streams through perf_analyzer over
gRPC, as Model Analyzer does. AIPerf is installed into an environment of its own (`--aiperf-venv`, made on the
first run, about a minute and 1.2 GB); it is no dependency of the plugin.

It verifies that every plugin run measured its point in that run (a fresh checkpoint, no reuse) with 8 tokens a
request, and that every AIPerf run completed all its requests without an error with 8 tokens each; otherwise it
fails without a figure and keeps every run's log.

Prints, per model, the ratio plugin / AIPerf of each figure: the median over rounds and the range. `--json
PATH` writes them with every round's raw figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness import emit, median_range, require, run_logged, run_profile, workspace

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "example_suites" / "models"
AIPERF = "aiperf==0.13.0"
TOKENS, PROMPT_TOKENS = 8, 16
# Each backend's request as a template of AIPerf's (Jinja2, its `template` endpoint): the same inputs the plugin
# sends (config/llm.py), max_tokens from AIPerf's --output-tokens-mean.
TEMPLATES = {
    "llm_trtllm": '{"text_input": {{ text|tojson }}, "max_tokens": {{ max_tokens }}, "stream": true}',
    "llm_vllm": '{"text_input": {{ text|tojson }}, "stream": true, "exclude_input_in_output": true, '
                '"sampling_parameters": {{ {"max_tokens": max_tokens|string}|tojson|tojson }}}',
}
BACKENDS = {"llm_trtllm": "tensorrtllm", "llm_vllm": "vllm"}
FIGURES = {  # the plugin's metric -> AIPerf's (statistic)
    "time_to_first_token_avg": ("time_to_first_token", "avg"),
    "time_to_first_token_p50": ("time_to_first_token", "p50"),
    "inter_token_latency_avg": ("inter_token_latency", "avg"),
    "inter_token_latency_p50": ("inter_token_latency", "p50"),
    "output_token_throughput": ("output_token_throughput", "avg"),
}
TOKENIZER_SCRIPT = """
import sys
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
from transformers import PreTrainedTokenizerFast
words = ["[UNK]", *sys.argv[2].split(",")]
tokenizer = Tokenizer(WordLevel({word: index for index, word in enumerate(words)}, unk_token="[UNK]"))
tokenizer.pre_tokenizer = Whitespace()
PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]").save_pretrained(sys.argv[1])
"""


def aiperf_env(venv: Path) -> Path:
    """AIPerf's own environment (made once): the `aiperf` executable."""
    executable = venv / "bin" / "aiperf"
    if not executable.exists():
        print(f"installing {AIPERF} into {venv} (once; about a minute)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", AIPERF], check=True)
    return executable


def make_tokenizer(venv: Path, directory: Path) -> Path:
    """A word-level tokenizer that knows the plugin's prompt words and the toy models' tokens, saved the way
    transformers loads it (AIPerf) with its tokenizer.json (the plugin)."""
    from pytest_model_analyzer.config.llm import PROMPT_WORDS

    words = sorted(set(PROMPT_WORDS)) + [f"w{index}" for index in range(50)]
    subprocess.run([str(venv / "bin" / "python"), "-c", TOKENIZER_SCRIPT, str(directory), ",".join(words)],
                   check=True, capture_output=True)
    return directory


def plugin_run(workdir: Path, endpoints: Any, model: str, tokenizer: Path) -> dict[str, float]:
    body = f"""
triton_launch_mode: remote
triton_http_endpoint: {endpoints.http}
triton_grpc_endpoint: {endpoints.grpc}
triton_metrics_url: {endpoints.metrics_url}
model_repository: {MODELS}
model_type: LLM
run_config_search_disable: true
profile_models: {model}
genai_perf_flags: {{backend: {BACKENDS[model]}, output-tokens-mean: {TOKENS}, input-tokens-mean: {PROMPT_TOKENS},
                   num-of-output-prompts: 50, tokenizer: {tokenizer / "tokenizer.json"}}}
concurrency: [1]
skip_summary_reports: true
skip_detailed_reports: true
perf_analyzer_flags: {{measurement-mode: count_windows, measurement-request-count: 15}}
"""
    workdir.mkdir(parents=True)
    measurements, _, _ = run_profile(workdir, body, f"the plugin on {model}")
    require(len(measurements) == 1 and measurements[0].model == model,
            f"the plugin on {model}: expected one measurement of {model}, got {len(measurements)}")
    metrics = measurements[0].metrics
    require(metrics.get("output_sequence_length_avg") == TOKENS,
            f"the plugin on {model}: {metrics.get('output_sequence_length_avg')} tokens a request, not {TOKENS}")
    return {tag: metrics[tag] for tag in FIGURES}


def aiperf_run(workdir: Path, aiperf: Path, endpoints: Any, model: str, tokenizer: Path,
               requests: int) -> dict[str, float]:
    workdir.mkdir(parents=True)
    template = workdir / "payload.jinja"
    template.write_text(TEMPLATES[model])
    command = [str(aiperf), "profile", "--model", model, "--url", f"http://{endpoints.http}",
               "--endpoint-type", "template", "--custom-endpoint", f"/v2/models/{model}/generate_stream",
               "--streaming", "--extra-inputs", f"payload_template:{template}",
               "--extra-inputs", "response_field:text_output", "--tokenizer", str(tokenizer),
               "--synthetic-input-tokens-mean", str(PROMPT_TOKENS), "--output-tokens-mean", str(TOKENS),
               "--concurrency", "1", "--request-count", str(requests), "--warmup-request-count", "3",
               "--artifact-dir", str(workdir / "artifacts"), "--no-gpu-telemetry", "--no-server-metrics",
               "--ui-type", "none"]
    result = run_logged(command, workdir, f"AIPerf on {model}")
    export = workdir / "artifacts" / "profile_export_aiperf.json"
    require(result.returncode == 0 and export.exists(), f"AIPerf on {model} failed: {workdir / 'run.log'}")
    data = json.loads(export.read_text())
    count = data["request_count"]["avg"]
    errors = (data.get("error_request_count") or {}).get("avg", 0)
    require(count == requests and not errors, f"AIPerf on {model}: {count} requests, {errors} errors "
                                              f"(asked {requests})")
    require(data["output_sequence_length"]["avg"] == TOKENS,
            f"AIPerf on {model}: {data['output_sequence_length']['avg']} tokens a request, not {TOKENS}")
    return {tag: float(data[name][statistic]) for tag, (name, statistic) in FIGURES.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=40, help="AIPerf's requests per run")
    parser.add_argument("--aiperf-venv", type=Path, default=ROOT / ".venv" / "var" / "aiperf-0.13")
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from pytest_model_analyzer.infra import runtime
    from pytest_model_analyzer.infra.server import LocalServer

    aiperf = aiperf_env(args.aiperf_venv)
    raw: dict[str, dict[str, list[dict[str, float]]]] = {model: {"plugin": [], "aiperf": []} for model in TEMPLATES}
    with workspace("llm-fidelity") as base:
        tokenizer = make_tokenizer(args.aiperf_venv, base / "tokenizer")
        repository = base / "models"
        for model in TEMPLATES:
            shutil.copytree(MODELS / model, repository / model)
        server = LocalServer(runtime.resolve_server("tritonserver"), repository, runtime.prepare(), base / "server.log")
        endpoints = server.start()
        try:
            for index in range(args.rounds):
                for model in TEMPLATES:
                    contenders = [("plugin", lambda where, m=model: plugin_run(where, endpoints, m, tokenizer)),
                                  ("aiperf", lambda where, m=model: aiperf_run(where, aiperf, endpoints, m,
                                                                               tokenizer, args.requests))]
                    for name, run in contenders if index % 2 == 0 else reversed(contenders):
                        figures = run(base / f"round{index}" / model / name)
                        raw[model][name].append(figures)
                        print(f"round {index + 1} {model} {name}: "
                              + ", ".join(f"{tag} {value:.2f}" for tag, value in figures.items()), flush=True)
        finally:
            server.stop()
    lines: list[tuple[str, str]] = []
    ratios: dict[str, dict[str, list[float]]] = {}
    for model, sides in raw.items():
        ratios[model] = {tag: [mine[tag] / theirs[tag] for mine, theirs in zip(sides["plugin"], sides["aiperf"],
                                                                             strict=True)] for tag in FIGURES}
        for tag, values in ratios[model].items():
            lines.append((f"{model} {tag} plugin/AIPerf", median_range(values, ".3f")))
    figures = {"rounds": args.rounds, "aiperf": AIPERF, "raw": raw, "ratios": ratios,
               "median_ratios": {model: {tag: statistics.median(values) for tag, values in by_tag.items()}
                                 for model, by_tag in ratios.items()}}
    emit(lines, figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
