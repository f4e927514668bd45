"""Config bombs: each ends, under a memory cap and within seconds, in one usage error naming what to narrow.

Each case runs `pytest --ma-config bomb.yaml --collect-only` in a subprocess whose address space is capped
(`resource.setrlimit`), as an attacker's or a typo's config would run in CI. Before the limits in
config/limits.py these ended in MemoryError after 40 s at 3-4 GB, a RecursionError, or a hang.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import MODELS

MEMORY_CAP = 2 << 30  # bytes of address space: the interpreter, pytest and numpy fit; a bomb does not


def laughs(key: str, depth: int = 9) -> str:
    """A billion laughs: 10 aliases per level, `depth` levels, under `key`."""
    lines = ['a0: &a0 "lol"']
    for level in range(1, depth + 1):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + f"\n{key}\n"


CASES = {
    "aliases in constraints": (laughs("profile_models: add\nconstraints: {perf_latency_p99: {max: *a9}}"),
                               "more than 100,000 values"),
    "aliases in perf_analyzer_flags": (laughs("profile_models: add\nperf_analyzer_flags: {percentile: *a9}"),
                                       "more than 100,000 values"),
    "aliases in parameters": (laughs("profile_models:\n  add:\n    model_config_parameters:\n"
                                     "      parameters: {p: {string_value: *a9}}"), "more than 100,000 values"),
    "objectives of lists": ("profile_models: add\nobjectives: [[perf_throughput]]\n", "objectives"),
    "deep nesting": ("profile_models: add\nconstraints: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than"),
    "a huge concurrency range": ("profile_models: add\nconcurrency: {start: 1, stop: 100000000}\n",
                                 "concurrency: 100,000,000 values requested; the limit is 10,000"),
    "a huge max_batch_size range": ("profile_models:\n  add:\n    model_config_parameters:\n"
                                    "      max_batch_size: {start: 1, stop: 1000000}\n", "1,000,000 values"),
    "instance-group alternatives": (
        "profile_models:\n  add:\n    model_config_parameters:\n      instance_group: [["
        + ", ".join(["{kind: KIND_CPU, count: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}"] * 8) + "]]\n",
        "100,000,000 combinations requested"),
    "a huge automatic search": ("profile_models: add\nrun_config_search_max_instance_count: 100000000\n",
                                "run_config_search_max_instance_count"),
    "too many points": ("profile_models: add\nconcurrency: {start: 1, stop: 10000}\nbatch_sizes: "
                        "{start: 1, stop: 100}\n", "1,000,000 measurement points requested"),
    "a self-referring list": ("profile_models: add\nconcurrency: &c [1, *c]\n", "refers to itself"),
    "a self-referring mapping": ("profile_models: add\nconstraints: &c {perf_latency_p99: *c}\n",
                                 "recursive node"),
}


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


@pytest.mark.parametrize("case", list(CASES))
def test_a_config_bomb_is_one_usage_error(case: str, tmp_path: Path) -> None:
    body, expected = CASES[case]
    profile = tmp_path / "bomb.yaml"
    profile.write_text(f"model_repository: {MODELS}\nrun_config_search_disable: true\n{body}"
                       if "run_config_search_max" not in body else f"model_repository: {MODELS}\n{body}")
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--ma-config", str(profile),
                             "--collect-only", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                            preexec_fn=_cap_memory)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, (result.stdout[-2000:], result.stderr[-2000:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), result.stderr[-2000:]
    assert expected in lines[0] and len(lines[0]) < 400, lines[0]


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    profile = tmp_path / "big.yaml"
    profile.write_text(f"model_repository: {MODELS}\nprofile_models: add\nconcurrency: ["
                       + ", ".join(["1"] * 1_000_000) + "]\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--ma-config", str(profile),
                             "--collect-only", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                            preexec_fn=_cap_memory)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "bytes; the limit is 1,048,576" in result.stderr
