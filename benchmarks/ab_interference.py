"""Does placing the server and perf_analyzer on separate cores help the A/B gate judge a CPU-bound model beside
a noisy neighbour? The gate on `add` (CPU-bound; 12 points, 300 ms windows) with a neighbour process that flaps
on CPU 0 (busy 1.5 s, idle 1 s) for the whole benchmark, two ways, alternating in every round:

* shared: as a run is today (the OS places every process);
* pinned-0: pytest, the server and its backend stubs on CPU 0, the neighbour's (`taskset -c 0`), perf_analyzer on
  CPU 1 (through a `perf_analyzer_path` wrapper that runs it under `taskset -c 1`);
* pinned-1: the same the other way round: the server on CPU 1, away from the neighbour, perf_analyzer beside it.
No product change, only placement: a run cannot know which core a neighbour will use, so the two pinned
placements are the two chances a pinning takes.

Candidates: `add` unchanged, and with 25% more work per request (a busy wait of a quarter of its time), both
gated at 10%. Issue 38's bar, on 8 points: the change caught on at least 6, the unchanged model passed (not
inconclusive) on at least 6, no false alarm.

It checks every run measured all 12 points in that run with a baseline side each; otherwise it fails and keeps
the logs. Prints per placement: the unchanged model's passed / inconclusive / failed points, the slowed one's
caught share, and wall times; `--json PATH` writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ab_gate import FLAGS, POINTS, SUITE, place_model
from harness import emit, median_range, require, require_measured, run_logged, workspace

ROOT = Path(__file__).resolve().parent.parent
PLACEMENTS = ("shared", "pinned-0", "pinned-1")
SERVER_CPU = {"pinned-0": 0, "pinned-1": 1}  # the placement's CPU of pytest, the server and its stubs
CANDIDATES = (("unchanged", 1.0), ("25% more work", 1.25))
ALLOWANCE = "--ma-compare-fail=perf_throughput:10%"
NEIGHBOUR = """
import os, time
os.sched_setaffinity(0, {0})
while True:
    end = time.perf_counter() + 1.5
    while time.perf_counter() < end:
        pass
    time.sleep(1.0)
"""


def run(workdir: Path, name: str, placement: str, baseline: Path) -> dict[str, Any]:
    junit = workdir / "junit" / f"{name}.xml"
    checkpoints = workdir / "checkpoints" / name
    for path in (junit.parent, checkpoints):
        path.mkdir(parents=True, exist_ok=True)
    suite = f"suite-{placement}.yaml" if placement in SERVER_CPU else "suite.yaml"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-q",
               "--ma-config", suite, f"--junitxml={junit}", f"--ma-checkpoint-directory={checkpoints}",
               f"--ma-baseline-repository={baseline}", ALLOWANCE]
    if placement in SERVER_CPU:
        command = ["taskset", "-c", str(SERVER_CPU[placement]), *command]
    started = time.perf_counter()
    result = run_logged(command, workdir, name, log=workdir / "logs" / f"{name}.log")
    seconds = time.perf_counter() - started
    require(result.returncode in (0, 1), f"{name} failed to run (rc {result.returncode}):\n{result.stdout[-3000:]}")
    require_measured(junit, POINTS, name)
    counts: dict[str, Any] = {"passed": 0, "inconclusive": 0, "failed": 0, "failures": []}
    for case in ET.parse(junit).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        side = json.loads(properties.get("ma_measurement", "{}")).get("baseline") or {}
        require(bool(side.get("metrics")), f"{name}: {case.get('name')} has no baseline side measured in this run")
        failure = case.find("failure")
        outcome = ("failed" if failure is not None
                   else "inconclusive" if properties.get("ma_inconclusive") else "passed")
        counts[outcome] += 1
        if failure is not None:  # the workspace is removed after a run that did its work: keep the message
            counts["failures"].append(f"{name}: {case.get('name')}: {(failure.get('message') or '')[:300]}")
    print(f"{name:34s} {seconds:6.1f} s  " + ", ".join(f"{k} {counts[k]}" for k in ("passed", "inconclusive",
                                                                                  "failed")), flush=True)
    for line in counts["failures"]:
        print(f"  {line}", flush=True)
    return {"seconds": seconds, **counts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--unchanged-only", action="store_true", help="only the unchanged candidate")
    args = parser.parse_args()
    require(len(os.sched_getaffinity(0)) >= 2, "needs two CPUs to place the server and perf_analyzer apart")
    candidates = CANDIDATES[:1] if args.unchanged_only else CANDIDATES
    results: dict[str, dict[str, list[dict[str, Any]]]] = {p: {c: [] for c, _ in candidates} for p in PLACEMENTS}
    with workspace("ab_interference") as workdir:
        candidate_repo, baseline_repo = workdir / "models", workdir / "baseline"
        place_model(baseline_repo, "add", 1.0)
        body = SUITE.format(repo=candidate_repo, model="add") + FLAGS + "\n"
        (workdir / "suite.yaml").write_text(body)
        perf_analyzer = Path(sys.executable).parent / "perf_analyzer"
        for placement, cpu in SERVER_CPU.items():
            wrapper = workdir / f"perf_analyzer_on_cpu{1 - cpu}"
            wrapper.write_text(f"#!/bin/sh\nexec taskset -c {1 - cpu} {perf_analyzer} \"$@\"\n")
            wrapper.chmod(0o755)
            (workdir / f"suite-{placement}.yaml").write_text(body + f"perf_analyzer_path: {wrapper}\n")
        neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR])
        try:
            for index in range(args.rounds):
                for position, (candidate, factor) in enumerate(candidates):
                    place_model(candidate_repo, "add", factor)
                    order = PLACEMENTS if (index + position) % 2 == 0 else tuple(reversed(PLACEMENTS))
                    for placement in order:
                        name = f"r{index + 1}-{placement}-{candidate.split()[0]}"
                        results[placement][candidate].append(run(workdir, name, placement, baseline_repo))
        finally:
            neighbour.kill()
            neighbour.wait()
    lines, figures = [], {}
    for placement, by_candidate in results.items():
        unchanged, slowed = by_candidate["unchanged"], by_candidate.get("25% more work", [])
        lines.append((f"{placement}: unchanged, passed / inconclusive / failed",
                      " ; ".join(f"{r['passed']}/{r['inconclusive']}/{r['failed']}" for r in unchanged)
                      + f" of {POINTS} per round"))
        if slowed:
            lines.append((f"{placement}: 25% more work caught",
                          " ; ".join(f"{r['failed']}" for r in slowed) + f" of {POINTS} per round"))
        lines.append((f"{placement}: wall time", median_range([r["seconds"] for r in unchanged + slowed]) + " s"))
        figures[placement] = {candidate: runs for candidate, runs in by_candidate.items()}
        figures[placement]["median_unchanged_passed"] = statistics.median(r["passed"] for r in unchanged)
    emit(lines, figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
