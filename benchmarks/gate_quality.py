"""How trustworthy the regression gate is, on the real stack: false alarms, detection, and what it costs.

Two suites of 12 points each, on private copies of the example models: `sleep` (20 ms per batch, like a
GPU-bound model) and `add` (CPU-bound, noisy on two cores). For each suite:
* a baseline run (0.ckpt);
* A/A: ROUNDS unchanged re-runs gated with `--ma-compare=0 --ma-compare-fail=perf_throughput:10%,
  perf_latency_p99:10%`, each alternated with a plain single-shot run of the same suite (`--ma-fresh`, no
  comparison: what a run costs without the gate), the order reversed every other round;
* A/B: the same gated run after a real slowdown: `sleep_ms` 20 -> 24 (+20%), and a busy wait of a fifth of
  the request's time added to `add`'s execute().
Every run must measure all 12 points (its junit XML is checked), and the A/B runs must show the slowdown in
their figures, or the script fails without printing figures.

Prints the figures; `--json PATH` writes {"false_alarm_rate", "detection_rate", "wall_ratio", "sleep": {...},
"add": {...}}: false alarms over both suites' point-checks, detection over the sleep suite's points, and
wall_ratio = median gated run / median plain run over both suites.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import emit, require, require_measured, run_logged, workspace

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "example_suites" / "models"
CHECKS = "perf_throughput:10%,perf_latency_p99:10%"
POINTS = 12
FLAGS = "perf_analyzer_flags: {measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}"
SUITES = {
    "sleep": """
model_repository: {repo}
run_config_search_disable: true
profile_models:
  sleep:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
      dynamic_batching: [null, {{}}]
concurrency: [1, 2, 4, 8]
skip_summary_reports: true
""",
    "add": """
model_repository: {repo}
run_config_search_disable: true
profile_models:
  add:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
      dynamic_batching: [{{}}, null]
concurrency: [1, 2, 4, 8]
skip_summary_reports: true
""",
}
BUSY_WAIT = '''
import time as _time


def _busy(seconds):
    end = _time.perf_counter() + seconds
    while _time.perf_counter() < end:
        pass
'''


def slow_down(repo: Path, suite: str) -> None:
    if suite == "sleep":
        config = repo / "sleep" / "config.pbtxt"
        config.write_text(config.read_text().replace('string_value: "20"', 'string_value: "24"'))
        return
    model = repo / "add" / "1" / "model.py"
    text = model.read_text().replace("        for request in requests:\n",
                                     "        for request in requests:\n            _busy(0.00007)\n")
    model.write_text(text + BUSY_WAIT)


def run(workdir: Path, name: str, *args: str) -> tuple[float, Path]:
    junit = workdir / f"{name}.xml"
    started = time.perf_counter()
    result = run_logged([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                         "-q", "--ma-config", "suite.yaml", f"--junitxml={junit}", *args], workdir, name,
                        log=workdir / f"{name}.log")
    seconds = time.perf_counter() - started
    require(result.returncode in (0, 1), f"{name} failed to run:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    require_measured(junit, POINTS, name)
    print(f"{name:24s} {seconds:6.1f} s", flush=True)
    return seconds, junit


def verdicts(junit: Path) -> dict[str, int]:
    """Point counts by verdict, and the number of failed checks (a point can fail two)."""
    counts = {"points": 0, "failed": 0, "failed_checks": 0, "inconclusive": 0, "too_few_requests": 0, "too_noisy": 0}
    for case in ET.parse(junit).getroot().iter("testcase"):
        counts["points"] += 1
        failure = case.find("failure")
        properties = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        if failure is not None:
            counts["failed"] += 1
            counts["failed_checks"] += max(1, len(re.findall(r"vs 0\.ckpt, allowed", failure.get("message") or "")))
        elif properties.get("ma_inconclusive"):
            counts["inconclusive"] += 1
        text = properties.get("ma_inconclusive", "")
        counts["too_few_requests"] += text.count("cannot judge: it rests on about")  # checks, not points
        counts["too_noisy"] += text.count("too noisy to judge here")
    return counts


def missed(junit: Path) -> dict[str, str]:
    """The points of an A/B run that did not fail, with what their gate said."""
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is None:
            properties = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
            found[case.get("name") or ""] = properties.get("ma_inconclusive", "passed")
    return found


def throughputs(junit: Path) -> list[float]:
    values = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for prop in case.iter("property"):
            if prop.get("name") == "ma_measurement":
                values.append(json.loads(prop.get("value") or "{}")["metrics"]["perf_throughput"])
    return values


def suite_figures(suite: str, base: Path, rounds: int) -> dict[str, object]:
    workdir = base / suite
    repo = workdir / "models"
    shutil.copytree(MODELS / suite, repo / suite)
    (workdir / "suite.yaml").write_text(SUITES[suite].format(repo=repo) + FLAGS + "\n")
    _, baseline = run(workdir, f"{suite} baseline")
    plain_s, gated_s, aa, aa_junits = [], [], [], []
    gate = ["--ma-compare=0", f"--ma-compare-fail={CHECKS}"]
    for index in range(rounds):
        order = [("plain", ["--ma-fresh"]), ("gated", gate)]
        for kind, args in order if index % 2 == 0 else reversed(order):
            seconds, junit = run(workdir, f"{suite} A/A {kind} {index + 1}", *args)
            (plain_s if kind == "plain" else gated_s).append(seconds)
            if kind == "gated":
                aa.append(verdicts(junit))
            aa_junits.append(junit)
    slow_down(repo, suite)
    ab_s, ab_junit = run(workdir, f"{suite} A/B gated", *gate)
    ab = verdicts(ab_junit)
    # Against every unchanged run of the suite (the baseline and the A/A runs): one run of the noisy add
    # suite can sit 10-20% off its own median.
    unchanged = statistics.median([value for junit in [baseline, *aa_junits] for value in throughputs(junit)])
    ratio = statistics.median(throughputs(ab_junit)) / unchanged
    require(ratio < 0.93, f"{suite}: the injected slowdown does not show (median throughput ratio {ratio:.3f})")
    checks = len(CHECKS.split(","))
    return {
        "aa_point_checks": sum(c["points"] for c in aa) * checks,
        "aa_failed_checks": sum(c["failed_checks"] for c in aa),
        "aa_false_alarm_rate": round(sum(c["failed_checks"] for c in aa) / (sum(c["points"] for c in aa) * checks), 4),
        "aa_inconclusive_points": sum(c["inconclusive"] for c in aa),
        # Why: a percentile check from too few requests, or a check whose noise is larger than its allowance.
        "aa_inconclusive_checks_too_few_requests": sum(c["too_few_requests"] for c in aa),
        "aa_inconclusive_checks_too_noisy": sum(c["too_noisy"] for c in aa),
        "ab_points": ab["points"], "ab_caught": ab["failed"], "ab_inconclusive": ab["inconclusive"],
        "detection_rate": round(ab["failed"] / ab["points"], 3),
        "ab_throughput_ratio": round(ratio, 3),
        "ab_not_caught": missed(ab_junit),
        "plain_s": [round(s, 1) for s in plain_s], "gated_s": [round(s, 1) for s in gated_s],
        "ab_gated_s": round(ab_s, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=3, help="A/A re-runs per suite (at least 3)")
    args = parser.parse_args()
    with workspace("gate_quality") as tmp:
        figures = {suite: suite_figures(suite, Path(tmp), max(args.rounds, 3)) for suite in SUITES}
    sleep, add = figures["sleep"], figures["add"]
    checks = sleep["aa_point_checks"] + add["aa_point_checks"]
    alarms = sleep["aa_failed_checks"] + add["aa_failed_checks"]
    plain = statistics.median([*sleep["plain_s"], *add["plain_s"]])
    gated = statistics.median([*sleep["gated_s"], *add["gated_s"]])
    result = {"false_alarm_rate": round(alarms / checks, 4), "detection_rate": sleep["detection_rate"],
              "wall_ratio": round(gated / plain, 3), "sleep": sleep, "add": add}
    lines = [("A/A false alarms (both suites)", f"{alarms} of {checks} point-checks ({100 * alarms / checks:.1f}%)"),
             ("A/A inconclusive points", f"sleep {sleep['aa_inconclusive_points']}, add {add['aa_inconclusive_points']}"
                                         f" of {POINTS * max(args.rounds, 3)} each"),
             *[(f"  {name}: inconclusive checks", f"{f['aa_inconclusive_checks_too_few_requests']} p99 from too few "
                                                  f"requests, {f['aa_inconclusive_checks_too_noisy']} too noisy")
               for name, f in (("sleep", sleep), ("add", add))],
             *[(f"A/B {name}: caught", f"{f['ab_caught']} of {f['ab_points']} points ({f['ab_inconclusive']} "
                                       f"inconclusive; throughput x{f['ab_throughput_ratio']})")
               for name, f in (("sleep +20%", sleep), ("add slower", add))],
             ("wall: gated / plain run", f"{gated:.1f} s / {plain:.1f} s = {gated / plain:.2f} "
                                         f"(gated {min([*sleep['gated_s'], *add['gated_s']])}-"
                                         f"{max([*sleep['gated_s'], *add['gated_s']])} s)")]
    emit(lines, result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
