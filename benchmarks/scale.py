"""Wall-time speed-up of `pytest -n 2` over `-n 0` for a sweep of the `sleep` model.

The `sleep` model's time per batch is a fixed sleep, so two servers on two cores do not fight over the CPU:
this measures what the plugin's scale-out costs and gains (worker start-up, one server per worker, one
variant per worker). With one variant per worker the variants must split evenly: 10 variants, 5 each.
The two runs alternate; medians are reported. `--json PATH` writes
{"serial_s": ..., "n2_s": ..., "speedup": ..., "points": ..., "rounds": ...}.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import alternate, emit, require, require_measured

ROOT = Path(__file__).resolve().parent.parent

CONCURRENCY = [1, 2, 4]
PROFILE = f"""
model_repository: {ROOT / "example_suites" / "models"}
run_config_search_disable: true
skip_summary_reports: true
profile_models:
  sleep:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 1}}], [{{kind: KIND_CPU, count: 2}}], [{{kind: KIND_CPU, count: 3}}]]
      dynamic_batching: [null, {{}}, {{max_queue_delay_microseconds: 2000}}]
concurrency: {CONCURRENCY}
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 300, stability-percentage: 30}}
"""

POINTS = 10 * len(CONCURRENCY)  # default + 3 instance counts x 3 batching settings: 10 variants split 5/5


def run(directory: Path, workers: int) -> float:
    profile = directory / "scale.yaml"
    profile.write_text(PROFILE)
    junit = directory / f"n{workers}.xml"
    junit.unlink(missing_ok=True)
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--ma-config", str(profile), "--ma-fresh",
            f"--junitxml={junit}"]
    if workers:
        args += ["-n", str(workers)]
    started = time.perf_counter()
    result = subprocess.run(args, cwd=directory, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    require(result.returncode == 0, f"-n {workers} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    require_measured(junit, POINTS, f"-n {workers}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; medians are reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seconds = alternate(args.rounds, {"-n 0": lambda: run(Path(tmp), 0), "-n 2": lambda: run(Path(tmp), 2)})
    serial, parallel = seconds["-n 0"], seconds["-n 2"]
    points = POINTS
    figures = {"serial_s": round(statistics.median(serial), 2), "n2_s": round(statistics.median(parallel), 2),
               "points": points, "rounds": args.rounds}
    figures["speedup"] = round(figures["serial_s"] / figures["n2_s"], 3)
    emit([("points", str(points)), ("-n 0 (one server)", f"{figures['serial_s']:.2f} s"),
          ("-n 2 (two servers)", f"{figures['n2_s']:.2f} s"), ("speed-up", f"{figures['speedup']:.2f}x")],
         figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
