"""Side by side with Triton Model Analyzer 1.58: the same sweep, the same server, the same perf_analyzer.

One server (the bundled tritonserver, explicit model control, loopback), then the same 15-point sweep through
`model-analyzer profile` (remote launch mode) and through `pytest --ma-config` (remote launch mode too),
alternating the tools, for two sets of perf_analyzer flags given identically to both:
* count: measurement-mode count_windows, measurement-request-count 200;
* fast: measurement-interval 200, stability-percentage 20 (Model Analyzer still runs count windows with these);
* fast-time: the same with measurement-mode time_windows, so that both tools run identical commands.
The sweep: the `add` model, max_batch_size [4, 8] x instance count [1, 2] plus the default config,
concurrency [1, 2, 4], batch size 1. Model Analyzer is installed into a virtual environment of its own
(`benchmarks/.model-analyzer-venv`, kept between runs), never into the project's.

Prints, per tool and flag set: wall time, measurements, each point's throughput and p99; then the wall-time
ratio (plugin / Model Analyzer) and the largest relative throughput difference on the same point.
`--json PATH` writes {"count": {"wall_ratio": ..., "max_throughput_diff": ...}, "fast": {...}, "fast-time": {...}}.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import alternate, emit, require, run_logged, workspace

from pytest_model_analyzer.infra import runtime
from pytest_model_analyzer.infra.server import LocalServer

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "example_suites" / "models"
MA_VENV = Path(__file__).resolve().parent / ".model-analyzer-venv"
MA_VERSION = "1.58.0"
POINTS = 15  # (default + max_batch_size [4, 8] x instance count [1, 2]) x concurrency [1, 2, 4]
FLAG_SETS = {
    "count": "{measurement-mode: count_windows, measurement-request-count: 200}",
    # As the issue gives them. Model Analyzer lays its default count_windows under these, so it does not
    # run the 200 ms time windows the plugin runs: compare with fast-time for identical commands.
    "fast": "{measurement-interval: 200, stability-percentage: 20}",
    "fast-time": "{measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}",
}


def model_analyzer() -> Path:
    """`model-analyzer` from its own venv, installed on first use (pip alone; about a minute)."""
    executable = MA_VENV / "bin" / "model-analyzer"
    if executable.exists():
        return executable
    subprocess.run([sys.executable, "-m", "venv", str(MA_VENV)], check=True)
    subprocess.run([str(MA_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    f"triton-model-analyzer=={MA_VERSION}"], check=True)
    return executable


def profile_yaml(server: LocalServer, flags: str, workdir: Path) -> str:
    endpoints = server.endpoints
    assert endpoints is not None
    return f"""
model_repository: {MODELS}
checkpoint_directory: {workdir / "checkpoints"}
export_path: {workdir / "export"}
output_model_repository_path: {workdir / "output_model_repository"}
override_output_model_repository: true
triton_launch_mode: remote
triton_http_endpoint: {endpoints.http}
triton_grpc_endpoint: {endpoints.grpc}
triton_metrics_url: {endpoints.metrics_url}
client_protocol: grpc
dcgm_disable: true
profile_models:
  add:
    cpu_only: true
    model_config_parameters:
      max_batch_size: [4, 8]
      instance_group: [{{kind: KIND_CPU, count: [1, 2]}}]
concurrency: [1, 2, 4]
batch_sizes: 1
perf_analyzer_flags: {flags}
"""


def read_points(csv_path: Path) -> dict[tuple[str, int], tuple[float, float]]:
    """(variant, concurrency) -> (throughput, p99 ms) from a metrics-model-inference.csv."""
    points = {}
    with csv_path.open() as handle:
        for row in csv.DictReader(line for line in handle if line.strip()):
            points[(row["Model Config Path"], int(row["Concurrency"]))] = (
                float(row["Throughput (infer/sec)"]), float(row["p99 Latency (ms)"]))
    return points


class Contender:
    def __init__(self, name: str, command: list[str], server: LocalServer, flags: str, base: Path) -> None:
        self.name, self.command, self.server, self.flags, self.base = name, command, server, FLAG_SETS[flags], base
        self.flags_name = flags
        self.runs = 0
        self.points: list[dict[tuple[str, int], tuple[float, float]]] = []

    def __call__(self) -> float:
        self.runs += 1
        workdir = self.base / f"{self.name}-{self.flags_name}-{self.runs}"
        workdir.mkdir(parents=True)
        (workdir / "profile.yaml").write_text(profile_yaml(self.server, self.flags, workdir))
        env = runtime.prepare().child_env()  # perf_analyzer and its libraries, for both tools
        started = time.perf_counter()
        result = run_logged([*self.command, str(workdir / "profile.yaml")], workdir, f"{self.name} run "
                            f"{self.runs} ({self.flags_name})", env=env)
        seconds = time.perf_counter() - started
        require(result.returncode == 0, f"{self.name} failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
                                        f"{result.stderr[-3000:]}")
        table = workdir / "export" / "results" / "metrics-model-inference.csv"
        require(table.exists(), f"{self.name} wrote no {table.name}")
        # A fresh working directory per run: neither tool has a checkpoint to reuse, so every row was measured.
        self.points.append(read_points(table))
        require(len(self.points[-1]) == POINTS,
                f"{self.name} reported {len(self.points[-1])} of the sweep's {POINTS} points")
        return seconds


def run_to_run(runs: list[dict[tuple[str, int], tuple[float, float]]]) -> float:
    """The largest relative spread of one point's throughput across one tool's runs."""
    spreads = []
    for key in runs[0]:
        values = [run[key][0] for run in runs if key in run]
        if len(values) > 1:
            spreads.append((max(values) - min(values)) / min(values))
    return max(spreads, default=0.0)


def compare(flag_set: str, rounds: int, base: Path, executable: Path) -> tuple[dict[str, float], list[tuple]]:
    log = base / f"server-{flag_set}.log"
    server = LocalServer(runtime.resolve_server("tritonserver"), MODELS, runtime.prepare(), log)
    server.start()
    try:
        ma = Contender("model-analyzer", [str(executable), "profile", "-f"], server, flag_set, base)
        plugin = Contender("plugin", [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                                      "--ma-config"], server, flag_set, base)
        seconds = alternate(rounds, {"model-analyzer": ma, "plugin": plugin})
    finally:
        server.stop()
    for ma_run, plugin_run in zip(ma.points, plugin.points, strict=True):
        require(set(ma_run) == set(plugin_run), "the two tools did not measure the same points")
    ma_s, plugin_s = statistics.median(seconds["model-analyzer"]), statistics.median(seconds["plugin"])
    lines = [(f"{flag_set}: model-analyzer", f"{ma_s:.1f} s, {len(ma.points[-1])} measurements"),
             (f"{flag_set}: plugin", f"{plugin_s:.1f} s, {len(plugin.points[-1])} measurements")]
    differences = []
    for key in sorted(ma.points[-1]):
        ours = plugin.points[-1].get(key)
        theirs = ma.points[-1][key]
        if ours is None:
            lines.append((f"{flag_set}: {key[0]} c{key[1]}", "missing from the plugin's results"))
            differences.append(1.0)
            continue
        # Every run of each tool, median per point: one noisy run should not decide the comparison.
        ma_tput = statistics.median(run[key][0] for run in ma.points if key in run)
        our_tput = statistics.median(run[key][0] for run in plugin.points if key in run)
        differences.append(abs(our_tput - ma_tput) / ma_tput)
        lines.append((f"{flag_set}: {key[0]} c{key[1]}",
                      f"MA {ma_tput:8.1f} infer/s p99 {theirs[1]:5.1f} ms | plugin {our_tput:8.1f} infer/s "
                      f"p99 {ours[1]:5.1f} ms | diff {100 * differences[-1]:4.1f}%"))
    figures = {"wall_ratio": round(plugin_s / ma_s, 3), "max_throughput_diff": round(max(differences), 3),
               "model_analyzer_s": round(ma_s, 1), "plugin_s": round(plugin_s, 1),
               "measurements": len(ma.points[-1]),
               # The noise floor: how far each tool's own runs of the same point differ from each other.
               "ma_run_to_run_diff": round(run_to_run(ma.points), 3),
               "plugin_run_to_run_diff": round(run_to_run(plugin.points), 3)}
    lines.append((f"{flag_set}: wall ratio plugin / MA", f"{figures['wall_ratio']:.3f}"))
    lines.append((f"{flag_set}: largest throughput diff", f"{100 * figures['max_throughput_diff']:.1f}%"))
    lines.append((f"{flag_set}: run-to-run, MA / plugin", f"{100 * figures['ma_run_to_run_diff']:.1f}% / "
                                                         f"{100 * figures['plugin_run_to_run_diff']:.1f}%"))
    return figures, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per flag set (at least 2)")
    parser.add_argument("--flags", choices=sorted(FLAG_SETS), nargs="*", default=list(FLAG_SETS))
    args = parser.parse_args()
    executable = model_analyzer()
    figures, lines = {}, []
    with workspace("vs_model_analyzer") as base:
        for flag_set in args.flags:
            figures[flag_set], flag_lines = compare(flag_set, max(args.rounds, 2), base, executable)
            lines += flag_lines
    emit(lines, figures, args.json)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
