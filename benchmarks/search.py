"""How many measurements each search needs to find the best configuration, on the real server.

The space: the `sleep` model, instance count 1..4 x max_batch_size 1, 2, 4, 8 (with dynamic batching) plus the
default config = 17 variants, concurrency 1..64 doubling = 119 points, fast windows. The runs:
* exhaustive: the same 16 variants written out as model_config_parameters with explicit concurrency values,
  which turns every early exit off: all 119 points;
* brute: the automatic space with Model Analyzer's early exits;
* quick: the hill climb, then a load sweep of the top 3 configurations and of the default (Model Analyzer's
  ConcurrencySweeper); quick-top1: the same with num_configs_per_model: 1;
* optuna: Model Analyzer's defaults (5-10% of the 112-point space as trials, then a load sweep of the top 3
  and the default); optuna-20: 10-20% of the space; optuna-formula: trials choose only the config, each
  measured at 2 x max_batch_size x instances; optuna-top1: the sweep of the best config and the default only.

Each search is judged twice against the exhaustive run of the same round: its own best throughput over
exhaustive's best (this includes the run-to-run noise of the best point, a few percent here), and the
configuration it ranks best, looked up in the exhaustive run's figures (that configuration's best throughput
there over exhaustive's best: did it find the right configuration, free of noise between runs).
Rounds alternate the order of the runs. The script fails without a figure unless every measurement of a run
was taken in that run and every configuration a search measured is one of the exhaustive run's.
`--json PATH` writes {run: [{"measurements", "seconds", "best_throughput", "own_reach", "config_reach"}, ...]}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import emit, median_range, require, run_profile, workspace

from pytest_model_analyzer.domain.measurement import Measurement

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
OPTUNA = COMMON + BOUNDS + "run_config_search_mode: optuna\nnum_configs_per_model: 3\n"
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
    "quick-top1": COMMON + BOUNDS + "run_config_search_mode: quick\nnum_configs_per_model: 1\n",
    "optuna": OPTUNA,
    "optuna-20": OPTUNA + "min_percentage_of_search_space: 10\nmax_percentage_of_search_space: 20\n",
    "optuna-formula": OPTUNA + "use_concurrency_formula: true\n",
    "optuna-top1": OPTUNA.replace("num_configs_per_model: 3", "num_configs_per_model: 1"),
}


def run(name: str, directory: Path) -> tuple[dict[str, float], list[Measurement]]:
    workdir = directory / name
    workdir.mkdir()
    measurements, _, seconds = run_profile(workdir, RUNS[name], name)
    figures = {"measurements": len(measurements), "seconds": round(seconds, 1),
               "best_throughput": round(max(m.metrics["perf_throughput"] for m in measurements), 1)}
    print(f"{name}: {figures}", flush=True)
    return figures, measurements


def best_by_config(measurements: list[Measurement]) -> dict[str, float]:
    """Each configuration's best throughput over its loads, by config digest."""
    best: dict[str, float] = {}
    for m in measurements:
        best[m.config_digest] = max(best.get(m.config_digest, 0.0), m.metrics["perf_throughput"])
    return best


def judge(name: str, figures: dict[str, float], measured: list[Measurement],
          exhaustive: list[Measurement]) -> dict[str, float]:
    reference = best_by_config(exhaustive)
    own = best_by_config(measured)
    require(set(own) <= set(reference), f"{name} measured configurations the exhaustive run has not: "
                                        f"{sorted(set(own) - set(reference))}")
    chosen = max(own, key=own.__getitem__)
    best = max(reference.values())
    return {**figures, "own_reach": round(figures["best_throughput"] / best, 4),
            "config_reach": round(reference[chosen] / best, 4),
            "share": round(figures["measurements"] / len(exhaustive), 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of every run, in alternating order")
    parser.add_argument("--runs", default=",".join(RUNS), help="which searches, besides exhaustive (comma list)")
    args = parser.parse_args()
    names = ["exhaustive", *(n for n in args.runs.split(",") if n and n != "exhaustive")]
    require(all(n in RUNS for n in names), f"unknown run in {args.runs}; known: {', '.join(RUNS)}")
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for index in range(args.rounds):
        order = names if index % 2 == 0 else list(reversed(names))
        with workspace("search") as tmp:
            outcomes = {name: run(name, Path(tmp)) for name in order}
        exhaustive = outcomes["exhaustive"][1]
        for name in names:
            results[name].append(judge(name, *outcomes[name], exhaustive))
    lines = []
    for name, rounds in results.items():
        def spread(key: str, scale: float = 1.0, form: str = ".1f", rounds: list = rounds) -> str:
            return median_range([r[key] * scale for r in rounds], form)
        lines.append((name, f"{spread('measurements', form='.0f')} measurements ({spread('share', 100)}%), "
                            f"{spread('seconds')} s, own best {spread('own_reach', 100)}% of exhaustive's, "
                            f"its best config {spread('config_reach', 100)}% in exhaustive's figures"))
    emit(lines, results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
