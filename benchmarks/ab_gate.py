"""The A/B gate (`--ma-baseline-repository`: baseline and candidate measured in one run, in alternation), its
duet (`--ma-baseline-duet`: both sides of each pair at the same time) and today's cross-session gate
(`--ma-compare`: the candidate against another run's checkpoint) side by side, on the real stack, on private
copies of `sleep` (20 ms per batch, like a GPU-bound model), `add` (CPU-bound, chaotic on two cores) and the
benchmarks' own `burn` (`add` with 2 ms of CPU work per request). 12 points per model; `--gates` picks gates.

Each round, per model:
* a plain single-shot run of the unchanged model: its wall time, and its checkpoint is the cross-session gate's
  baseline for this round (minutes old: the cross-session gate's best case; in CI it is hours or days old);
* for each candidate (unchanged, 10% slower, 5% slower), a run of each gate, their order rotating from one
  candidate and round to the next. Unchanged and 10% are gated at a 5% allowance, 5% at 2.5% (a change can only
  fail past its allowance: the allowance is half the slowdown);
  `sleep` is slowed by sleep_ms 20 -> 22 / 21, `add` by a busy wait of 10% / 5% of a request's time (35 / 17.5 us),
  `burn` by 10% / 5% more CPU work.
The order of the rounds' candidates is reversed every other round. `--other DIR` adds, in the same rounds and
interleaved, the A/B gate of a second source tree of the plugin (another commit's rules or code): rule sets
compared side by side, not one after the other.

It verifies that every run measured all 12 points in that run (none from a checkpoint), that every point of an
A/B run carries both sides measured in that run (at least one pair, baseline from the given repository, taken
in its gate's mode: a duet's pairs are marked `A|B` or `B|A`), and
that the cross-session runs compared every point; otherwise it fails without a figure and keeps every run's log.

Prints, per gate and model: false alarms (failed point-checks of unchanged candidates), detection (points failed)
of the 10% and 5% slowdowns with the change the gate measured, the median smallest resolvable throughput change
(the interval's half width), and the wall time of a gated A/B run over a plain single-shot run; each with its
spread over rounds. `--json PATH` writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import emit, median_range, require, require_measured, run_logged, workspace

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "example_suites" / "models"
POINTS = 12
FLAGS = "perf_analyzer_flags: {measurement-mode: time_windows, measurement-interval: 300, stability-percentage: 20}"
SUITE = """
model_repository: {repo}
run_config_search_disable: true
profile_models:
  {model}:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
      dynamic_batching: [null, {{}}]
concurrency: [1, 2, 4, 8]
skip_summary_reports: true
"""
# (name, slowdown factor of the model's time, allowance in percent)
CANDIDATES = [("unchanged", 1.0, 5.0), ("10% slower", 1.10, 5.0), ("5% slower", 1.05, 2.5)]
ADD_REQUEST_S = 350e-6  # add's own time per request on this machine (gate_quality.py's busy wait of a fifth: 70 us)
# The benchmarks' own CPU-bound model, `burn`: `add` with a busy wait of this long in every request, so that
# almost all of a request's time is single-threaded work of the model's own (add's is mostly Python's overhead);
# a slower `burn` does `factor` times the work.
BURN_REQUEST_S = 2e-3
BUSY_WAIT = '''
import time as _time


def _busy(seconds):
    end = _time.perf_counter() + seconds
    while _time.perf_counter() < end:
        pass
'''
# Work, not waiting: the thread's own CPU time, so a request takes as much computing whatever else runs (a busy
# wait on the wall clock ends on time even while the thread is descheduled).
WORK = '''
import time as _time


def _work(seconds):
    end = _time.thread_time() + seconds
    while _time.thread_time() < end:
        pass
'''
GATES = ("ab", "duet", "cross")
OTHER = "ab-other"  # the A/B gate of a second source tree (--other), interleaved with the others in each round
LABELS = {"ab": "A/B same run", "duet": "A/B duet", "cross": "cross-session", OTHER: "A/B same run, --other's code"}
DUET_ORDERS = {"A|B", "B|A"}  # a duet's pair (both sides at once); a sequential one is "AB" or "BA"


def place_model(repo: Path, model: str, factor: float) -> None:
    """A fresh copy of the example `model` (or of the benchmarks' own `burn`) in `repo`, `factor` times as slow."""
    shutil.rmtree(repo / model, ignore_errors=True)
    if model == "burn":
        shutil.copytree(MODELS / "add", repo / model)
        config = repo / model / "config.pbtxt"
        config.write_text(config.read_text().replace('name: "add"', 'name: "burn"'))
        work = BURN_REQUEST_S * factor
        path = repo / model / "1" / "model.py"
        path.write_text(path.read_text().replace("        for request in requests:\n",
                                                 f"        for request in requests:\n            _work({work!r})\n")
                        + WORK)
        return
    shutil.copytree(MODELS / model, repo / model)
    if factor == 1.0:
        return
    if model == "sleep":
        config = repo / "sleep" / "config.pbtxt"
        config.write_text(config.read_text().replace('string_value: "20"', f'string_value: "{round(20 * factor)}"'))
        return
    path = repo / model / "1" / "model.py"
    wait = ADD_REQUEST_S * (factor - 1)
    path.write_text(path.read_text().replace("        for request in requests:\n",
                                             f"        for request in requests:\n            _busy({wait!r})\n")
                    + BUSY_WAIT)


def slug(name: str) -> str:
    """A run's name as a file name: its junit XML, its log and its checkpoint directory."""
    return name.replace(" ", "_").replace("%", "pct")


@dataclass
class Run:
    seconds: float
    cases: list[dict[str, Any]]  # per item: its junit properties, and whether it failed


def run(workdir: Path, name: str, *args: str, code: Path | None = None) -> Run:
    """One plugin run in its own checkpoint directory; its output is kept in logs/ whatever happens. `code`: a
    source tree of the plugin to run instead of this one (through PYTHONPATH)."""
    junit, checkpoints = workdir / "junit" / f"{slug(name)}.xml", workdir / "checkpoints" / slug(name)
    junit.parent.mkdir(exist_ok=True)
    checkpoints.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = run_logged([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                         "-q", "--ma-config", "suite.yaml", f"--junitxml={junit}",
                         f"--ma-checkpoint-directory={checkpoints}", *args], workdir, name,
                        env={**os.environ, "PYTHONPATH": str(code)} if code else None,
                        log=workdir / "logs" / f"{slug(name)}.log")
    seconds = time.perf_counter() - started
    require(result.returncode in (0, 1), f"{name} failed to run (rc {result.returncode}):\n{result.stdout[-3000:]}"
                                         f"\n{result.stderr[-2000:]}")
    require_measured(junit, POINTS, name)
    cases = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        failure = case.find("failure")
        cases.append({"name": case.get("name"), "failed": failure is not None,
                      "message": (failure.get("message") or "") if failure is not None else "", **properties})
    print(f"{name:34s} {seconds:6.1f} s  {sum(c['failed'] for c in cases)} of {len(cases)} failed", flush=True)
    return Run(seconds, cases)


def comparison(case: dict[str, Any], gate: str, who: str) -> dict[str, Any]:
    """The throughput check of one item, as its gate judged it; that both sides were really measured."""
    require("ma_comparison" in case, f"{who}: {case['name']} was not compared")
    results = json.loads(case["ma_comparison"])["results"]
    found = [r for r in results if r["metric"] == "perf_throughput"]
    require(len(found) == 1, f"{who}: {case['name']} has no throughput check: {results}")
    result = found[0]
    if gate != "cross":
        baseline = json.loads(case["ma_measurement"]).get("baseline") or {}
        order = baseline.get("order") or []  # one entry per pair measured: "AB" or "BA", a duet's "A|B" or "B|A"
        require(bool(baseline.get("metrics")) and result["paired"] and len(order) >= 1,
                f"{who}: {case['name']} lacks a baseline side measured in this run: {baseline!r:.300}")
        require((set(order) <= DUET_ORDERS) == (gate == "duet"),
                f"{who}: {case['name']}'s pairs {order} were not taken as the {gate} gate takes them")
        require(result["trials"] == len(order), f"{who}: {case['name']} was judged on {result['trials']} pairs "
                                                 f"but measured {len(order)}")
    else:
        require(not result["paired"], f"{who}: {case['name']} was paired in a cross-session run")
    return result


@dataclass
class Tally:
    """One gate's figures for one model, over every round."""

    checks: int = 0  # point-checks of unchanged candidates
    false_alarms: int = 0
    caught: dict[str, list[float]] = field(default_factory=dict)  # candidate -> share of points failed, per round
    measured_change: dict[str, list[float]] = field(default_factory=dict)  # candidate -> median change, per round
    resolution: list[float] = field(default_factory=list)  # unchanged candidate, every point's resolution
    seconds: list[float] = field(default_factory=list)  # the gated unchanged run's wall time, per round
    alarms: list[str] = field(default_factory=list)  # each false alarm: the run, the point and its message

    def add(self, candidate: str, gated: Run, gate: str, who: str) -> None:
        results = [comparison(case, gate, who) for case in gated.cases]
        changes = [r["change"] for r in results]
        if candidate == "unchanged":
            self.checks += sum(len(json.loads(c["ma_comparison"])["results"]) for c in gated.cases)
            self.false_alarms += sum(r["verdict"] == "fail" for c in gated.cases
                                     for r in json.loads(c["ma_comparison"])["results"])
            self.resolution += [r["resolution"] for r in results if r["resolution"] is not None]
            self.seconds.append(gated.seconds)
            self.alarms += [f"{who}: {c['name']}: {c['message'][:300]}" for c in gated.cases if c["failed"]]
        else:
            self.caught.setdefault(candidate, []).append(sum(c["failed"] for c in gated.cases) / len(gated.cases))
        self.measured_change.setdefault(candidate, []).append(statistics.median(changes))


def model_figures(model: str, base: Path, rounds: int, other: Path | None = None,
                  gates_chosen: tuple[str, ...] = GATES) -> dict[str, Any]:
    workdir = base / model
    candidate_repo, baseline_repo = workdir / "models", workdir / "baseline"
    place_model(baseline_repo, model, 1.0)
    (workdir / "suite.yaml").write_text(SUITE.format(repo=candidate_repo, model=model) + FLAGS + "\n")
    gates_here = (*gates_chosen, OTHER) if other else gates_chosen
    tallies = {gate: Tally() for gate in gates_here}
    plain_s: list[float] = []
    for index in range(rounds):
        place_model(candidate_repo, model, 1.0)
        plain_name = f"{model} r{index + 1} plain"
        plain = run(workdir, plain_name)
        plain_s.append(plain.seconds)
        stored = workdir / "checkpoints" / slug(plain_name) / "0.ckpt"
        require(stored.exists(), f"{plain_name} wrote no checkpoint")
        candidates = CANDIDATES if index % 2 == 0 else list(reversed(CANDIDATES))
        for position, (candidate, factor, allowance) in enumerate(candidates):
            place_model(candidate_repo, model, factor)
            spec = f"--ma-compare-fail=perf_throughput:{allowance:g}%,perf_latency_p99:{allowance:g}%"
            turn = (index + position) % len(gates_here)
            gates = (*gates_here[turn:], *gates_here[:turn])
            for gate in gates:
                name = f"{model} r{index + 1} {gate} {candidate}"
                if gate != "cross":
                    gated = run(workdir, name, f"--ma-baseline-repository={baseline_repo}", spec,
                                *(["--ma-baseline-duet"] if gate == "duet" else []),
                                code=other if gate == OTHER else None)
                else:
                    own = workdir / "checkpoints" / slug(name)
                    own.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(stored, own / "0.ckpt")
                    gated = run(workdir, name, "--ma-compare=0", spec)
                tallies[gate].add(candidate, gated, gate, name)
    return {"plain_s": plain_s, **tallies}


def summarise(model: str, figures: dict[str, Any]) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    lines, data = [], {"plain_s": [round(s, 1) for s in figures["plain_s"]]}
    for gate in (gate for gate in LABELS if gate in figures):
        tally: Tally = figures[gate]
        label = f"{model} {LABELS[gate]}"
        rate = tally.false_alarms / tally.checks
        lines.append((f"{label}: false alarms", f"{tally.false_alarms} of {tally.checks} point-checks "
                                                f"({100 * rate:.1f}%) at 5%"))
        lines += [(f"{label}: false alarm", alarm) for alarm in tally.alarms]  # the workspace is gone after
        for candidate, _, allowance in CANDIDATES[1:]:
            caught = tally.caught[candidate]
            lines.append((f"{label}: {candidate} caught",
                          f"{median_range([100 * c for c in caught], '.0f')}% of points at {allowance:g}% "
                          f"(measured change {median_range([100 * c for c in tally.measured_change[candidate]])}%)"))
        lines.append((f"{label}: resolvable change",
                      f"{100 * statistics.median(tally.resolution):.1f}% median "
                      f"({100 * min(tally.resolution):.1f}-{100 * max(tally.resolution):.1f}%)"))
        ratios = [gated / plain for gated, plain in zip(tally.seconds, figures["plain_s"], strict=True)]
        lines.append((f"{label}: wall / plain run", f"{median_range(ratios, '.2f')} "
                                                     f"({median_range(tally.seconds)} s)"))
        data[gate] = {"false_alarms": tally.false_alarms, "point_checks": tally.checks,
                      "false_alarm_rate": round(rate, 4),
                      "caught": {c: [round(v, 3) for v in values] for c, values in tally.caught.items()},
                      "measured_change": {c: [round(v, 4) for v in values]
                                          for c, values in tally.measured_change.items()},
                      "resolution_median": round(statistics.median(tally.resolution), 4),
                      "gated_s": [round(s, 1) for s in tally.seconds], "alarms": tally.alarms,
                      "wall_ratio": [round(r, 3) for r in ratios]}
    return lines, data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per model (at least 2)")
    parser.add_argument("--models", default="sleep,add", help="comma-separated: sleep, add, burn (the benchmarks' "
                                                               "own CPU-bound model)")
    parser.add_argument("--gates", default=",".join(GATES), help=f"comma-separated, of {', '.join(GATES)}")
    parser.add_argument("--other", type=Path, help="a second source tree of the plugin (another commit's rules): "
                                                    "its A/B gate runs in the same rounds, interleaved")
    args = parser.parse_args()
    with workspace("ab_gate") as base:
        other = args.other.resolve() if args.other else None
        chosen = tuple(args.gates.split(","))
        require(set(chosen) <= set(GATES), f"--gates: choose of {', '.join(GATES)}")
        figures = {model: model_figures(model, base, max(args.rounds, 2), other, chosen)
                   for model in args.models.split(",")}
    lines, data = [], {}
    for model, found in figures.items():
        more, data[model] = summarise(model, found)
        lines += more
    emit(lines, data, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
