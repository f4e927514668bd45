"""Wall-time speed-up of `pytest -n 2` over `-n 0` for a sweep of the `sleep` model.

The `sleep` model's time per batch is a fixed sleep, so two servers on two cores do not fight over the CPU
while they measure: this measures what the plugin's scale-out costs and gains (worker start-up, one server
per worker, the scheduler's balance and reloads). 10 variants in 3 families (dynamic batching off, on, with
a delay; 1-3 instances each), one of them the repository's default twice over. Every instance is KIND_CPU
and the model says `cpu_only`, so on a GPU host the two workers do not each need a GPU of their own. Both
sides must measure the same 27 setups (the default's twin reuses them) and every point must be measured in
the run. The runs alternate; medians and ranges are reported. `--interval MS` sets perf_analyzer's window
(300 ms: fixed start-up costs weigh most); `--no-auto-complete` starts the servers with strict-model-config,
which makes each load of the Python model 16 times faster.

Where the time goes is printed too, for each side's last run (benchmarks/timeline.py): each process's
seconds before its first item, in items, between items, stopping its server, and after.
`--json PATH` writes {"serial_s": ..., "n2_s": ..., "speedup": ..., "serial_range": ..., "n2_range": ...,
"points": ..., "timeline": {"-n 0": [...], "-n 2": [...]}, ...}.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from harness import alternate, emit, require, require_measured, run_logged, workspace
from timeline import Share, as_json, breakdown

ROOT = Path(__file__).resolve().parent.parent

CONCURRENCY = [1, 2, 4]
PROFILE = """
model_repository: {repository}
run_config_search_disable: true
skip_summary_reports: true
profile_models:
  sleep:
    cpu_only: true
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 1}}], [{{kind: KIND_CPU, count: 2}}], [{{kind: KIND_CPU, count: 3}}]]
      dynamic_batching: [null, {{}}, {{max_queue_delay_microseconds: 2000}}]
concurrency: [1, 2, 4]
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: {interval}, stability-percentage: 30}}
{server_flags}"""

POINTS = 10 * len(CONCURRENCY)  # default + 3 instance counts x 3 batching settings
SETUPS = 9 * len(CONCURRENCY)  # the default's twin (1 instance, no batching) reuses its measurements


def run(directory: Path, workers: int, interval: int, timelines: dict[int, list[Share]],
        auto_complete: bool = True) -> float:
    profile = directory / "scale.yaml"
    profile.write_text(PROFILE.format(
        repository=ROOT / "example_suites" / "models", interval=interval,
        server_flags="" if auto_complete else "triton_server_flags: {strict-model-config: true}\n"))
    junit = directory / f"n{workers}.xml"
    junit.unlink(missing_ok=True)
    # Hypothesis is this project's test dependency, not a user's: its pytest plugin adds 1 s of imports to
    # every process (the controller and each worker), which no user of the plugin pays.
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p",
            "timeline", "-q", "--ma-config", str(profile), "--ma-fresh", f"--junitxml={junit}"]
    if workers:
        args += ["-n", str(workers)]
    trace = directory / f"timeline-n{workers}"
    shutil.rmtree(trace, ignore_errors=True)
    trace.mkdir()
    env = {**os.environ, "MA_TIMELINE_DIR": str(trace),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))}
    started, wall = time.perf_counter(), time.time()
    result = run_logged(args, directory, f"-n {workers}", env=env, log=trace / "run.log")
    seconds = time.perf_counter() - started
    require(result.returncode == 0, f"-n {workers} failed (exit status {result.returncode}):\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    count = require_measured(junit, POINTS, f"-n {workers}")
    require(count.measured == SETUPS, f"-n {workers} measured {count.measured} setups, not {SETUPS}: "
                                      "the two sides did not do the same work")
    timelines[workers] = breakdown(trace, wall, wall + seconds)
    traced = sum(share.items for share in timelines[workers])
    require(traced == POINTS, f"-n {workers}: the timeline holds {traced} items, not {POINTS}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--interval", type=int, default=300, help="perf_analyzer's measurement window, ms")
    parser.add_argument("--no-auto-complete", action="store_true",
                        help="start the servers with strict-model-config: a Python model then loads in 0.08 s, not "
                             "1.33 s (Triton's default runs an auto-complete stub first)")
    args = parser.parse_args()
    timelines: dict[int, list[Share]] = {}
    auto = not args.no_auto_complete
    with workspace("scale") as tmp:
        seconds = alternate(args.rounds, {"-n 0": lambda: run(Path(tmp), 0, args.interval, timelines, auto),
                                          "-n 2": lambda: run(Path(tmp), 2, args.interval, timelines, auto)})
    serial, parallel = seconds["-n 0"], seconds["-n 2"]
    figures = {"serial_s": round(statistics.median(serial), 2), "n2_s": round(statistics.median(parallel), 2),
               "serial_range": [round(min(serial), 2), round(max(serial), 2)],
               "n2_range": [round(min(parallel), 2), round(max(parallel), 2)],
               "points": POINTS, "setups": SETUPS, "interval_ms": args.interval, "rounds": args.rounds,
               "auto_complete": auto,
               "timeline": {f"-n {n}": as_json(shares) for n, shares in sorted(timelines.items())}}
    figures["speedup"] = round(figures["serial_s"] / figures["n2_s"], 3)
    speedups = sorted(s / p for s, p in zip(serial, parallel, strict=True))
    figures["speedup_range"] = [round(speedups[0], 3), round(speedups[-1], 3)]
    emit([("points (setups)", f"{POINTS} ({SETUPS})"), ("window", f"{args.interval} ms"),
          ("config auto-complete", "on (Triton's default)" if auto else "off (strict-model-config)"),
          ("-n 0 (one server)", f"{figures['serial_s']:.2f} s ({min(serial):.2f}-{max(serial):.2f})"),
          ("-n 2 (two servers)", f"{figures['n2_s']:.2f} s ({min(parallel):.2f}-{max(parallel):.2f})"),
          ("speed-up", f"{figures['speedup']:.2f}x (per round {speedups[0]:.2f}-{speedups[-1]:.2f})")],
         figures, args.json)
    print("where the time goes (each side's last run):")
    for workers, shares in sorted(timelines.items()):
        for share in shares:
            print(f"  -n {workers} {share.line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
