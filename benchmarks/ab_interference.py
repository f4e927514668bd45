"""Does a duet (`--ma-baseline-duet`: both sides of a pair measured at the same time) let the A/B gate judge a
CPU-bound model beside a noisy neighbour, where sequential pairs (one side after the other, as by default) leave
it undecided? The gate on `add` or the benchmarks' own `burn` (`--model`; both CPU-bound; 12 points, 300 ms
windows) with a neighbour process that flaps on CPU 0 (busy 1.5 s, idle 1 s) for the whole benchmark, each
contender (`--contenders`) in every round, their order rotating:

* sequential: the default pairs (both sides loaded, one perf_analyzer run after the other, ABBA);
* duet: `--ma-baseline-duet`, two perf_analyzers at once over the same fixed windows;
* duet, server on cpu 0 / on cpu 1: the duet with pytest, the server and its backend stubs pinned to one core
  (`taskset`), the neighbour's or the other, and perf_analyzer on the other core (a `perf_analyzer_path`
  wrapper): both sides' stubs then share one run queue, whichever core a neighbour takes.

(Its first version compared placements instead, the server and perf_analyzer pinned apart with `taskset`: that
script is at commit 8e4025d, and its figures, which did not keep pinning, are in benchmarks/README.md.)

Candidates: the model unchanged, and with 25% more work per request (`add`: a busy wait of a quarter of its time;
`burn`: a quarter more of its CPU work), both gated at 10%. Issue 38's bar, on 8 points: the change caught on at
least 6, the unchanged model passed (not inconclusive) on at least 6, no false alarm.

It checks every run measured all 12 points in that run with a baseline side each, taken in the run's own mode
(a duet's pairs are marked `A|B` or `B|A`); otherwise it fails and keeps the logs. Prints per mode: the unchanged
model's passed / inconclusive / failed points, the slowed one's caught share, every failure's message, and wall
times; `--json PATH` writes them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ab_gate import DUET_ORDERS, FLAGS, POINTS, SUITE, place_model
from harness import emit, median_range, require, require_measured, run_logged, workspace

from pytest_model_analyzer.infra.procs import set_parent_death_signal

# Each contender: its plugin flags, and the CPU that pytest, the server and its backend stubs are pinned to
# (`taskset`; perf_analyzer then runs on the other one through a `perf_analyzer_path` wrapper), or None: the OS
# places every process, as in a plain run.
CONTENDERS: dict[str, tuple[tuple[str, ...], int | None]] = {
    "sequential": ((), None),
    "duet": (("--ma-baseline-duet",), None),
    "duet, server on cpu 0": (("--ma-baseline-duet",), 0),  # the neighbour's core
    "duet, server on cpu 1": (("--ma-baseline-duet",), 1),
}
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


def _throughputs(measured: dict[str, Any]) -> list[float]:
    """A side's throughput in each pair (its trials)."""
    trials = (measured.get("trials") or {}).get("perf_throughput")
    return [round(v, 1) for v in trials] if trials else [round(measured["metrics"]["perf_throughput"], 1)]


def run(workdir: Path, name: str, contender: str, baseline: Path) -> dict[str, Any]:
    junit = workdir / "junit" / f"{name}.xml"
    checkpoints = workdir / "checkpoints" / name
    for path in (junit.parent, checkpoints):
        path.mkdir(parents=True, exist_ok=True)
    flags, cpu = CONTENDERS[contender]
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-q",
               "--ma-config", "suite.yaml" if cpu is None else f"suite-cpu{cpu}.yaml", f"--junitxml={junit}",
               f"--ma-checkpoint-directory={checkpoints}", f"--ma-baseline-repository={baseline}", ALLOWANCE, *flags]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    started = time.perf_counter()
    result = run_logged(command, workdir, name, log=workdir / "logs" / f"{name}.log")
    seconds = time.perf_counter() - started
    require(result.returncode in (0, 1), f"{name} failed to run (rc {result.returncode}):\n{result.stdout[-3000:]}")
    require_measured(junit, POINTS, name)
    counts: dict[str, Any] = {"passed": 0, "inconclusive": 0, "failed": 0, "failures": [], "points": []}
    for case in ET.parse(junit).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        side = json.loads(properties.get("ma_measurement", "{}")).get("baseline") or {}
        require(bool(side.get("metrics")), f"{name}: {case.get('name')} has no baseline side measured in this run")
        duet = set(side.get("order") or []) <= DUET_ORDERS
        require(duet == ("--ma-baseline-duet" in flags), f"{name}: {case.get('name')}'s pairs {side.get('order')} "
                                                         f"were not taken as {contender} takes them")
        failure = case.find("failure")
        outcome = ("failed" if failure is not None
                   else "inconclusive" if properties.get("ma_inconclusive") else "passed")
        counts[outcome] += 1
        measured = json.loads(properties["ma_measurement"])
        counts["points"].append({  # each pair's throughput on both sides, to see where the noise came from
            "point": f"{measured['variant']} c{measured['load']}", "outcome": outcome,
            "candidate": _throughputs(measured), "baseline": _throughputs(side), "order": side.get("order")})
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
    parser.add_argument("--model", default="add", choices=("add", "burn"), help="the CPU-bound model")
    parser.add_argument("--unchanged-only", action="store_true", help="only the unchanged candidate")
    parser.add_argument("--contenders", default="sequential,duet",
                        help=f"comma-separated, of: {'; '.join(CONTENDERS)} (names as written, commas within them "
                             "excepted: `duet, server on cpu 0` is `duet server on cpu 0`)")
    args = parser.parse_args()
    by_plain_name = {name.replace(",", ""): name for name in CONTENDERS}
    chosen = [by_plain_name.get(name.strip()) for name in args.contenders.split(",")]
    require(all(chosen), f"--contenders: choose of {'; '.join(by_plain_name)}")
    modes = tuple(name for name in chosen if name is not None)
    require(len(os.sched_getaffinity(0)) >= 2, "needs two CPUs (the neighbour takes one)")
    candidates = CANDIDATES[:1] if args.unchanged_only else CANDIDATES
    results: dict[str, dict[str, list[dict[str, Any]]]] = {m: {c: [] for c, _ in candidates} for m in modes}
    with workspace("ab_interference") as workdir:
        candidate_repo, baseline_repo = workdir / "models", workdir / "baseline"
        place_model(baseline_repo, args.model, 1.0)
        body = SUITE.format(repo=candidate_repo, model=args.model) + FLAGS + "\n"
        (workdir / "suite.yaml").write_text(body)
        perf_analyzer = Path(sys.executable).parent / "perf_analyzer"
        for cpu in (0, 1):
            wrapper = workdir / f"perf_analyzer_on_cpu{1 - cpu}"
            wrapper.write_text(f"#!/bin/sh\nexec taskset -c {1 - cpu} {perf_analyzer} \"$@\"\n")
            wrapper.chmod(0o755)
            (workdir / f"suite-cpu{cpu}.yaml").write_text(body + f"perf_analyzer_path: {wrapper}\n")
        # It dies with the benchmark, killed or not (a neighbour left behind slowed every run after it).
        neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR], preexec_fn=set_parent_death_signal)
        try:
            for index in range(args.rounds):
                for position, (candidate, factor) in enumerate(candidates):
                    place_model(candidate_repo, args.model, factor)
                    turn = (index * len(candidates) + position) % len(modes)
                    for mode in (*modes[turn:], *modes[:turn]):  # the contenders' order rotates
                        name = f"r{index + 1}-{args.model}-{mode.replace(', ', '-').replace(' ', '_')}-" \
                               f"{candidate.split()[0]}"
                        results[mode][candidate].append(run(workdir, name, mode, baseline_repo))
        finally:
            neighbour.kill()
            neighbour.wait()
    lines, figures = [], {}
    for mode, by_candidate in results.items():
        unchanged, slowed = by_candidate["unchanged"], by_candidate.get("25% more work", [])
        label = f"{args.model} {mode}"
        lines.append((f"{label}: unchanged, passed / inconclusive / failed",
                      " ; ".join(f"{r['passed']}/{r['inconclusive']}/{r['failed']}" for r in unchanged)
                      + f" of {POINTS} per round"))
        if slowed:
            lines.append((f"{label}: 25% more work caught",
                          " ; ".join(f"{r['failed']}" for r in slowed) + f" of {POINTS} per round"))
        ratios = [math.log(a / b) for r in unchanged for point in r["points"]
                  for a, b in zip(point["candidate"], point["baseline"], strict=False) if a > 0 and b > 0]
        lines.append((f"{label}: unchanged, each pair's log ratio",
                      f"sd {statistics.stdev(ratios):.3f}, {min(ratios):+.3f} to {max(ratios):+.3f} "
                      f"({len(ratios)} pairs)"))
        lines.append((f"{label}: wall time, unchanged", median_range([r["seconds"] for r in unchanged]) + " s"))
        if slowed:
            lines.append((f"{label}: wall time, 25% more work", median_range([r["seconds"] for r in slowed]) + " s"))
        # Each false alarm's message (the workspace is gone after a run that did its work).
        lines += [(f"{label}: false alarm", line) for r in unchanged for line in r["failures"]]
        figures[mode] = {candidate: runs for candidate, runs in by_candidate.items()}
        figures[mode]["median_unchanged_passed"] = statistics.median(r["passed"] for r in unchanged)
    emit(lines, {"model": args.model, **figures}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
