"""What the plugin costs over a bare driver, for the same 12-point sweep on the real server.

The sweep: the `sleep` model, 3 variants (default, 2 instances, 2 instances + dynamic batching) x
concurrency 1, 2, 4, 8, fast windows (200 ms, 20% stability). Two ways, alternating, in one run:
* plugin: `pytest --ma-config sweep.yaml` in a subprocess (pytest start-up, server, collection, reporting),
  without the hypothesis plugin that the project's own venv carries for its tests;
* bare: this script starts the server, loads each variant with `load_model(config=...)`, runs one
  perf_analyzer process per point, stops the server. Nothing else.
Both sides are checked to have measured all 12 points in every round (the plugin's junit XML shows no item
reused from a checkpoint; the bare driver got a CSV row for each point), or the script fails loudly.
Prints both wall times (median over rounds) and their ratio; `--json PATH` writes
{"plugin_s": ..., "bare_s": ..., "ratio": ..., "rounds": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from harness import alternate, emit, require, require_measured, run_logged, workspace

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "example_suites" / "models"
CONCURRENCY = [1, 2, 4, 8]
FLAGS = ["--measurement-mode=time_windows", "--measurement-interval=200", "--stability-percentage=20"]
VARIANTS = [
    {},
    {"instance_group": [{"kind": "KIND_CPU", "count": 2}]},
    {"instance_group": [{"kind": "KIND_CPU", "count": 2}], "dynamic_batching": {}},
]
POINTS = 12  # 3 variants x 4 concurrencies, on both sides
PROFILE = f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models:
  sleep:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
      dynamic_batching: [null, {{}}]
concurrency: {CONCURRENCY}
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}}
"""


def run_plugin(directory: Path) -> float:
    profile = directory / "sweep.yaml"
    profile.write_text(PROFILE)
    junit = directory / "plugin.xml"
    junit.unlink(missing_ok=True)
    started = time.perf_counter()
    # --ma-fresh: every round measures all 12 points (without it, round 2 on would reuse round 1's checkpoint).
    # `-p no:hypothesispytest`: the project's venv has hypothesis for its own tests, and its pytest plugin
    # imports hypothesis at start-up (about 1.2 s here), a cost of that venv, not of this plugin.
    result = run_logged([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                         "-q", "--ma-config", str(profile), "--ma-fresh", f"--junitxml={junit}"], directory, "plugin",
                        log=junit.with_suffix(".log"))
    seconds = time.perf_counter() - started
    require(result.returncode == 0, f"plugin run failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    require_measured(junit, POINTS, "plugin")
    return seconds


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_bare(directory: Path) -> float:
    """The minimal driver: what any tool has to do for these 12 points."""
    import tritonclient.http as httpclient

    from pytest_model_analyzer.infra import runtime

    rt = runtime.prepare()
    env = rt.child_env()
    http, grpc, metrics = _port(), _port(), _port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [str(runtime.resolve_server("tritonserver")), f"--model-repository={MODELS}",
         f"--backend-directory={rt.backend_dir}", "--model-control-mode=explicit", f"--http-port={http}",
         f"--grpc-port={grpc}", f"--metrics-port={metrics}", "--http-address=127.0.0.1",
         "--grpc-address=127.0.0.1", "--metrics-address=127.0.0.1", "--exit-timeout-secs=0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http}/v2/health/ready", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        client = httpclient.InferenceServerClient(f"127.0.0.1:{http}")
        client.load_model("sleep")
        base = client.get_model_config("sleep")
        perf_analyzer = str(runtime.resolve_perf_analyzer("perf_analyzer"))
        measured = 0
        for index, variant in enumerate(VARIANTS):
            client.load_model("sleep", config=json.dumps({**base, **variant}))
            for concurrency in CONCURRENCY:
                csv = directory / f"bare-{index}-{concurrency}.csv"
                csv.unlink(missing_ok=True)
                subprocess.run([perf_analyzer, "-m", "sleep", "-u", f"127.0.0.1:{grpc}", "-i", "grpc", "-b", "1",
                                f"--concurrency-range={concurrency}", "-f", str(csv), *FLAGS],
                               env=env, check=True, capture_output=True)
                rows = csv.read_text().splitlines() if csv.exists() else []
                require(len(rows) >= 2, f"bare: perf_analyzer wrote no result for {index}/c{concurrency}")
                measured += 1
        client.close()
        require(measured == POINTS, f"bare: measured {measured} of {POINTS} points")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    args = parser.parse_args()
    with workspace("overhead") as tmp:
        seconds = alternate(args.rounds, {"plugin": lambda: run_plugin(Path(tmp)), "bare": lambda: run_bare(Path(tmp))})
    plugin, bare = seconds["plugin"], seconds["bare"]
    ratios = [p / b for p, b in zip(plugin, bare, strict=True)]  # per round: both ran back to back
    figures = {"plugin_s": round(statistics.median(plugin), 2), "bare_s": round(statistics.median(bare), 2),
               "plugin_range_s": [round(min(plugin), 2), round(max(plugin), 2)],
               "bare_range_s": [round(min(bare), 2), round(max(bare), 2)],
               "round_ratios": [round(r, 3) for r in ratios], "points_per_round": POINTS, "rounds": args.rounds}
    figures["ratio"] = round(figures["plugin_s"] / figures["bare_s"], 3)
    emit([("plugin (pytest --ma-config)", f"{figures['plugin_s']:.2f} s (range {min(plugin):.2f}-{max(plugin):.2f})"),
          ("bare driver", f"{figures['bare_s']:.2f} s (range {min(bare):.2f}-{max(bare):.2f})"),
          ("points measured per round", f"{POINTS} by each, every round"),
          ("ratio plugin / bare (medians)", f"{figures['ratio']:.3f} (per round {min(ratios):.3f}-{max(ratios):.3f})")],
         figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
