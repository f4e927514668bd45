"""How many measurements each search needs to find the best configuration, on the real server.

The space: the `sleep` model, instance count 1..4 x max_batch_size 1, 2, 4, 8 (with dynamic batching) plus the
default config = 17 variants, concurrency 1..64 doubling = 119 points, fast windows. Three runs:
* exhaustive: the same 16 variants written out as model_config_parameters with explicit concurrency values,
  which turns every early exit off: all 119 points;
* brute: the automatic space with Model Analyzer's early exits;
* quick: the hill climb, then a load sweep of the top 3 configurations.
Prints measurements, wall time and best throughput of each, and each one's share of the exhaustive run's
measurements and best. `--json PATH` writes {"exhaustive": {"measurements", "seconds", "best_throughput"},
"brute": {...}, "quick": {...}}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import count_items, emit, require

ROOT = Path(__file__).resolve().parent.parent
COMMON = f"""
model_repository: {ROOT / "example_suites" / "models"}
skip_summary_reports: true
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}}
"""
BOUNDS = """
profile_models: sleep
run_config_search_max_instance_count: 4
run_config_search_max_model_batch_size: 8
run_config_search_max_concurrency: 64
"""
RUNS = {
    "exhaustive": COMMON + """
profile_models:
  sleep:
    model_config_parameters:
      instance_group: [[{kind: KIND_CPU, count: 1}], [{kind: KIND_CPU, count: 2}], [{kind: KIND_CPU, count: 3}],
                       [{kind: KIND_CPU, count: 4}]]
      max_batch_size: [1, 2, 4, 8]
      dynamic_batching: {}
concurrency: [1, 2, 4, 8, 16, 32, 64]
""",
    "brute": COMMON + BOUNDS,
    "quick": COMMON + BOUNDS + "run_config_search_mode: quick\nnum_configs_per_model: 3\n",
}


def run(name: str, directory: Path) -> dict[str, float]:
    workdir = directory / name
    workdir.mkdir()
    (workdir / "profile.yaml").write_text(RUNS[name])
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--ma-config",
                             "profile.yaml", "--junitxml=run.xml"], cwd=workdir, capture_output=True, text=True,
                            check=False)
    seconds = time.perf_counter() - started
    require(result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    data = json.loads((workdir / "checkpoints" / "0.ckpt").read_text())
    throughputs = [m["metrics"]["perf_throughput"] for m in data["measurements"]]
    items = count_items(workdir / "run.xml")
    # Each run starts in an empty directory: every measurement in its checkpoint was taken by this run.
    require(items.from_checkpoint == 0 and items.measured == len(throughputs) > 0,
            f"{name}: {items} does not match the {len(throughputs)} measurements of its checkpoint")
    figures = {"measurements": len(throughputs), "seconds": round(seconds, 1),
               "best_throughput": round(max(throughputs), 1)}
    print(f"{name}: {figures}", flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = {name: run(name, Path(tmp)) for name in RUNS}
    full = figures["exhaustive"]
    lines = []
    for name, values in figures.items():
        share = values["measurements"] / full["measurements"]
        reach = values["best_throughput"] / full["best_throughput"]
        lines.append((name, f"{values['measurements']:4d} measurements ({100 * share:5.1f}%), "
                            f"{values['seconds']:6.1f} s, best {values['best_throughput']:.1f} infer/sec "
                            f"({100 * reach:.1f}% of exhaustive)"))
    emit(lines, figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
