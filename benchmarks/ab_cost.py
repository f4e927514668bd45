"""What a gated A/B run costs over a plain run, and where its wall time goes: the same 12-point sweep of the
`sleep` model (3 variants x concurrency 1, 2, 4, 8, 200 ms windows), once plain and once against an unchanged
baseline repository (`--ma-baseline-repository`, `--ma-compare-fail=perf_throughput:5%`), alternating the order
each round. Every run is profiled (cProfile, wall clock: one pytest process, whose time is mostly waiting on
its children), so each run's time splits into perf_analyzer's runs, the models' loads with their warm-ups, the
first quantile of the statistics (its import), and the rest (interpreter and pytest start, collection, the
server's start and stop, reports). An A/B run takes more than one pair of a point the noise keeps undecided;
the ratio is also given with perf_analyzer's time scaled to one pair a point, the part a change of fixed
costs moves.

`--other DIR` also runs a second source tree of the plugin (a `git worktree` or `git archive` of another
commit) in the same rounds, interleaved, through PYTHONPATH: before and after a change, side by side.

It checks that every run measured all 12 points in that run (none from a checkpoint) and that every point of an
A/B run carries a baseline side measured in that run; otherwise it fails and keeps every run's log.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import emit, median_range, require, require_measured, run_logged, workspace
from overhead import PROFILE as SWEEP  # the same 12-point sweep as overhead.py

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "example_suites" / "models"
POINTS = 12
# Where the time goes: (phase, the functions whose cumulative wall time it is, by file suffix and name).
# cProfile sees the main thread only: a load in a thread of its own counts in the call that waits for it (both
# sides of a pair loading at once: the measurer's load_sides), a load in the main thread in `ensure`.
PHASES = [
    ("perf_analyzer", "infra/perf_analyzer.py", "run_once"),
    ("loads and warm-ups", "infra/model_control.py", "ensure"),
    ("loads and warm-ups", "infra/measurer.py", "load_sides"),
    ("first quantile", "analysis/statistics.py", "t_quantile"),
]


def phases(profile: Path) -> dict[str, float]:
    """Seconds per phase of one profiled run (a function's cumulative time over all its calls)."""
    stats = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
    found = dict.fromkeys((name for name, _, _ in PHASES), 0.0)
    for (path, _, function), (_, _, _, cumulative, _) in stats.items():
        for name, suffix, wanted in PHASES:
            if path.endswith(suffix) and function == wanted:
                found[name] += cumulative
    return found


def run(workdir: Path, code: Path, name: str, *args: str) -> tuple[float, dict[str, float]]:
    junit, checkpoints = workdir / "junit" / f"{name}.xml", workdir / "checkpoints" / name
    profile = workdir / "profiles" / f"{name}.prof"
    for path in (junit.parent, profile.parent, checkpoints):
        path.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(code)}
    started = time.perf_counter()
    result = run_logged([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "pytest", "-p", "no:cacheprovider",
                         "-p", "no:hypothesispytest", "-q", "--ma-config", "sweep.yaml", f"--junitxml={junit}",
                         f"--ma-checkpoint-directory={checkpoints}", *args], workdir, name, env=env,
                        log=workdir / "logs" / f"{name}.log")
    seconds = time.perf_counter() - started
    require(result.returncode == 0, f"{name} failed (rc {result.returncode}):\n{result.stdout[-3000:]}")
    require_measured(junit, POINTS, name)
    pairs = 0  # perf_analyzer runs per side: one per point, more for points the gate took more pairs of
    if args:
        for case in ET.parse(junit).getroot().iter("testcase"):
            properties = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
            side = json.loads(properties.get("ma_measurement", "{}")).get("baseline") or {}
            require(bool(side.get("metrics")) and len(side.get("order") or []) >= 1,
                    f"{name}: {case.get('name')} has no baseline side measured in this run")
            pairs += len(side["order"])
    taken = phases(profile)
    taken["rest"] = seconds - sum(taken.values())
    taken["pairs"] = float(pairs or POINTS)
    print(f"{name:18s} {seconds:6.1f} s  " + ", ".join(f"{k} {v:.1f}" for k, v in taken.items()), flush=True)
    return seconds, taken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (at least 2)")
    parser.add_argument("--other", type=Path, help="a second source tree of the plugin, run in the same rounds")
    args = parser.parse_args()
    codes = {"this": ROOT, **({"other": args.other.resolve()} if args.other else {})}
    runs: dict[str, dict[str, list[tuple[float, dict[str, float]]]]] = {c: {"plain": [], "ab": []} for c in codes}
    with workspace("ab_cost") as workdir:
        for name in ("models", "baseline"):
            shutil.copytree(MODELS / "sleep", workdir / name / "sleep")
        (workdir / "sweep.yaml").write_text(SWEEP.replace(str(MODELS), str(workdir / "models"))
                                            + "skip_summary_reports: true\n")
        gate = [f"--ma-baseline-repository={workdir / 'baseline'}", "--ma-compare-fail=perf_throughput:5%"]
        for index in range(max(args.rounds, 2)):
            order = [(code, kind) for code in codes for kind in ("plain", "ab")]
            for code, kind in order if index % 2 == 0 else list(reversed(order)):
                runs[code][kind].append(run(workdir, codes[code], f"r{index + 1}-{code}-{kind}",
                                            *(gate if kind == "ab" else ())))
    lines, figures = [], {}
    for code, kinds in runs.items():
        ratios = [ab[0] / plain[0] for ab, plain in zip(kinds["ab"], kinds["plain"], strict=True)]
        label = f"{code} ({codes[code]})" if args.other else "A/B"
        lines.append((f"{label}: plain run", f"{median_range([s for s, _ in kinds['plain']])} s"))
        lines.append((f"{label}: gated A/B run", f"{median_range([s for s, _ in kinds['ab']])} s"))
        lines.append((f"{label}: A/B / plain", median_range(ratios, ".2f")))
        # Without the extra pairs the gate took where the noise kept a point undecided: perf_analyzer's time
        # scaled to one pair a point.
        fixed = [(ab - taken["perf_analyzer"] * (1 - POINTS / taken["pairs"])) / plain
                 for (ab, taken), (plain, _) in zip(kinds["ab"], kinds["plain"], strict=True)]
        lines.append((f"{label}: A/B / plain at one pair a point", median_range(fixed, ".2f")))
        for kind in ("plain", "ab"):
            split = {phase: statistics.median(taken[phase] for _, taken in kinds[kind])
                     for phase in kinds[kind][0][1]}
            lines.append((f"{label}: {kind} run's time", ", ".join(
                f"{k} {v:.0f}" if k == "pairs" else f"{k} {v:.1f} s" for k, v in split.items())))
            figures.setdefault(code, {})[kind] = {"seconds": [round(s, 2) for s, _ in kinds[kind]],
                                                  "phases_median_s": {k: round(v, 2) for k, v in split.items()}}
        figures[code]["ratio"] = [round(r, 3) for r in ratios]
        figures[code]["ratio_one_pair_a_point"] = [round(r, 3) for r in fixed]
    emit(lines, figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
