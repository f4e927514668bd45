"""How often each search finds the best configuration, over many seeds, on one real exhaustive sweep.

`search.py` runs each search once on the live server: one run of a randomised search (optuna) says little.
Here the exhaustive sweep of the same 17-variant `sleep` space (119 points) is measured once, for real, and
then every search is replayed many times through the plugin's own ledger and search code, each point it asks
for answered with the exhaustive run's measurement of the same setup (config digest, batch size, load, flags).
Optuna is replayed with `--seeds` different sampler seeds per budget (the plugin derives its seed from the
model's name; here it is varied on purpose), also with Model Analyzer's sampler settings (optuna's 10 random
trials before TPE steers, where the plugin takes half the budget), side by side. Brute, deterministic, checks
that the replay decides as the live run did. Searches that measure at the concurrency formula (quick,
use_concurrency_formula) ask for loads off the exhaustive run's doubling grid (2 x 1 x 3 = 6), which no
recorded figure answers: `search.py` measures them live.

For each search: the measurements it takes (median and range over seeds, and their share of the 119) and the
configuration it ranks best, looked up in the exhaustive figures (that config's best throughput over the best
of all): the share of seeds within 2% of the best, and the median. The script fails without a figure unless
the live sweep measured all 119 points in this run and every point a replay asked for has a measurement.
`--json PATH` writes {search: {"measurements": [...], "reach": [...]}}.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path

from harness import emit, median_range, replay_profile, require, run_profile, workspace
from search import BOUNDS, COMMON, RUNS

from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.search import driver, optuna_search

OPTUNA = COMMON + BOUNDS + "run_config_search_mode: optuna\nnum_configs_per_model: 3\n"
MODEL_ANALYZERS_SAMPLER = "Model Analyzer's sampler"  # optuna's 10 random trials before TPE steers
SEARCHES = {
    # Deterministic: a check that the replay decides as the live run (search.py measured 109-110 points).
    "brute": (RUNS["brute"], False),
    f"optuna (5-10%), {MODEL_ANALYZERS_SAMPLER}": (OPTUNA, True),
    "optuna (5-10%)": (OPTUNA, True),
    "optuna (10-20%)": (OPTUNA + "min_percentage_of_search_space: 10\nmax_percentage_of_search_space: 20\n", True),
    "optuna (20-40%)": (OPTUNA + "min_percentage_of_search_space: 20\nmax_percentage_of_search_space: 40\n", True),
    "optuna-top1 (10-20%)": (OPTUNA.replace("num_configs_per_model: 3", "num_configs_per_model: 1")
                             + "min_percentage_of_search_space: 10\nmax_percentage_of_search_space: 20\n", True),
}


def exhaustive(directory: Path) -> list[Measurement]:
    measurements, items, _ = run_profile(directory, RUNS["exhaustive"], "the exhaustive sweep")
    require(items.measured == len(measurements) == 119,
            f"the exhaustive sweep measured {items}, not 119 points in this run")
    return measurements


def replay(body: str, figures: dict[tuple[str, int, int], Measurement], seed: int | None,
           model_analyzers_sampler: bool = False) -> tuple[int, str]:
    """(measurements the search takes, the digest of the config it ranks best) on the recorded figures."""
    asked: list[str] = []

    def measure(point) -> Measurement:
        recorded = figures.get((point.config_digest, point.batch_size, point.load))
        require(recorded is not None, f"no recorded figure for {point.label}")
        asked.append(point.config_digest)
        return dataclasses.replace(recorded, variant=point.variant.name, perf_analyzer_flags=point.perf_analyzer_flags)

    original = driver.seed_for, optuna_search.startup_trials
    if seed is not None:
        driver.seed_for = lambda model: seed  # type: ignore[assignment]
    if model_analyzers_sampler:
        optuna_search.startup_trials = lambda budget: 10  # type: ignore[assignment]
    try:
        rows = replay_profile(body, measure)
    finally:
        driver.seed_for, optuna_search.startup_trials = original
    measured = [m for m in rows if m is not None]
    best = max(measured, key=lambda m: m.metrics["perf_throughput"])
    return len(asked), best.config_digest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--seeds", type=int, default=50, help="sampler seeds per optuna search")
    args = parser.parse_args()
    with workspace("search_replay") as tmp:
        recorded = exhaustive(Path(tmp))
    figures = {(m.config_digest, m.batch_size, m.load): m for m in recorded}
    by_config: dict[str, float] = {}
    for m in recorded:
        by_config[m.config_digest] = max(by_config.get(m.config_digest, 0.0), m.metrics["perf_throughput"])
    best = max(by_config.values())
    results: dict[str, dict[str, list[float]]] = {}
    lines = [("exhaustive", f"{len(recorded)} measurements, best {best:.1f} infer/sec")]
    for name, (body, seeded) in SEARCHES.items():
        runs = [replay(body, figures, seed, MODEL_ANALYZERS_SAMPLER in name)
                for seed in (range(args.seeds) if seeded else [None])]
        counts = [float(count) for count, _ in runs]
        reach = [by_config[digest] / best for _, digest in runs]
        results[name] = {"measurements": counts, "reach": reach}
        within = sum(value >= 0.98 for value in reach) / len(reach)
        lines.append((name, f"{median_range(counts, '.0f')} measurements "
                            f"({100 * statistics.median(counts) / len(recorded):.1f}%), best config within 2%: "
                            f"{100 * within:.0f}% of {len(runs)} run(s), median reach "
                            f"{100 * statistics.median(reach):.1f}%"))
    emit(lines, results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
