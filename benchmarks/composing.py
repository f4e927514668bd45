"""How close quick search of an ensemble, and of two models profiled together, comes to the best combination,
and how much of the combined space it measures.

The spaces: the `add_sleep` ensemble (its composing models `add` and `sleep`, instance count 1-3 x max_batch_size
1, 2, 4 each: 81 combinations) and `add` with `sleep` profiled together (the same 81 combinations, weighting 1
and 3).
Each round, for each space:
* exhaustive: every combination and the default config measured at its formula load (the load the climb
  measures it at), on the real server, through the plugin's own Measurer (the path every item takes);
* quick (live): the plugin's quick search, run by pytest with `concurrency_sweep_disable` (the climb alone: its
  points are the formula points), measuring what it asks for;
* quick (replayed): the same climb replayed through the plugin's ledger on this round's exhaustive figures, which
  separates what the climb decides from the noise between two live runs.

A search is judged by the configuration it ranks best, looked up in the same round's exhaustive figures with the
model's own ranking (its objectives and weighting): `reach` is that configuration's score against the exhaustive
best (0% = it found the best; -3% = 3% worse on the weighted objectives). Rounds alternate the order of the runs.
The script fails without a figure unless each exhaustive sweep measured all 81 combinations and the default in
this run, and the live quick run measured every point it reports (none from a checkpoint), all in that space.
`--json PATH` writes {space: {"exhaustive": [...], "live_measurements": [...], "live_reach": [...],
"replay_measurements": [...], "replay_reach": [...]}}.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path

from harness import emit, median_range, planned_profile, replay_profile, require, run_profile, workspace

from pytest_model_analyzer.analysis.ranking import rank, score
from pytest_model_analyzer.config.points import Point, profile_points
from pytest_model_analyzer.config.profile import ModelSpec, ProfileConfig
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra import runtime
from pytest_model_analyzer.infra.stack import make_measurer, open_monitor, open_server

ROOT = Path(__file__).resolve().parent.parent
COMMON = f"""
model_repository: {ROOT / "example_suites" / "models"}
skip_summary_reports: true
skip_detailed_reports: true
concurrency_sweep_disable: true
run_config_search_max_instance_count: 3
run_config_search_max_model_batch_size: 4
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}}
"""
SPACES = {
    "ensemble add_sleep": COMMON + "profile_models: add_sleep\n",
    "add + sleep together": COMMON + """run_config_profile_models_concurrently_enable: true
profile_models:
  add: {weighting: 1}
  sleep: {weighting: 3}
""",
}
COMBINATIONS = 81  # (3 instance counts x 3 max_batch_sizes) per model, two models


def planned(body: str) -> ModelSpec:
    (model,) = planned_profile(body).models
    return model


def formula_points(profile: ProfileConfig) -> list[Point]:
    return [point for point in profile_points(profile)
            if point.load in point.model.extra_loads.get(point.variant.name, ())]


def exhaustive(body: str, workdir: Path) -> list[Measurement]:
    """Every combination at its formula load, measured now through the plugin's Measurer on a fresh server."""
    profile = planned_profile(body)
    prepared = runtime.prepare()
    server, control = open_server(profile, prepared, workdir)
    try:
        monitor = open_monitor(profile, server)
        measurer = make_measurer(profile, prepared, server, control, monitor, workdir / "perf", lambda tail: None)
        points = formula_points(profile)
        require(len(points) == COMBINATIONS + 1, f"expected {COMBINATIONS} combinations and the default, "
                                                 f"planned {len(points)}")
        measured = [measurer.measure(point) for point in points]
    finally:
        control.close()
        server.stop()
    require(len({m.config_digest for m in measured}) == COMBINATIONS + 1,
            "the exhaustive sweep repeated a combination")
    return measured


def live_quick(body: str, workdir: Path) -> list[Measurement]:
    measurements, _, _ = run_profile(workdir, body, "the quick search")
    return measurements


def replay_quick(body: str, figures: dict[str, Measurement]) -> list[Measurement]:
    """The climb through the plugin's ledger, each point answered by the exhaustive figure of its combination."""
    asked: list[Measurement] = []

    def measure(point: Point) -> Measurement:
        recorded = figures.get(point.config_digest)
        require(recorded is not None, f"no recorded figure for {point.label}")
        asked.append(dataclasses.replace(recorded, variant=point.variant.name))
        return asked[-1]

    replay_profile(body, measure)
    return asked


def reach(model: ModelSpec, chosen: list[Measurement], truth: dict[str, Measurement]) -> float:
    """The score, on the exhaustive figures, of the configuration the search ranks best, against the best there
    (0 when it is the best; negative when worse)."""
    ranked = rank(model.name, [m for m in chosen if m.config_digest in truth], model.objectives, model.constraints)
    require(bool(ranked.variants), "the search measured no combination of the exhaustive space")
    picked = truth[ranked.variants[0].representative.config_digest]
    best = rank(model.name, list(truth.values()), model.objectives, model.constraints).variants[0].representative
    return score(picked.metrics, best.metrics, model.objectives)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures: dict[str, dict[str, list[float]]] = {
        space: {key: [] for key in ("exhaustive", "live_measurements", "live_reach", "replay_measurements",
                                    "replay_reach")} for space in SPACES}
    for index in range(args.rounds):
        for space, body in (SPACES.items() if index % 2 == 0 else reversed(SPACES.items())):
            model = planned(body)
            with workspace("composing") as tmp:
                runs = {"exhaustive": exhaustive, "quick": live_quick}
                order = list(runs) if index % 2 == 0 else list(reversed(runs))
                results = {}
                for name in order:
                    (Path(tmp) / name).mkdir()
                    results[name] = runs[name](body, Path(tmp) / name)
            truth = {m.config_digest: m for m in results["exhaustive"]}
            live = results["quick"]
            require(all(m.config_digest in truth for m in live), "the live search measured outside the space")
            replayed = replay_quick(body, truth)
            row = figures[space]
            row["exhaustive"].append(float(len(truth)))
            row["live_measurements"].append(float(len(live)))
            row["live_reach"].append(reach(model, live, truth))
            row["replay_measurements"].append(float(len(replayed)))
            row["replay_reach"].append(reach(model, replayed, truth))
            print(f"round {index + 1}: {space}: live {len(live)} measured, reach {100 * row['live_reach'][-1]:+.1f}%;"
                  f" replay {len(replayed)}, reach {100 * row['replay_reach'][-1]:+.1f}%", flush=True)
    lines = []
    for space, row in figures.items():
        share = 100 * statistics.median(row["live_measurements"]) / (COMBINATIONS + 1)
        lines.append((f"{space}, quick (live)", f"{median_range(row['live_measurements'], '.0f')} measurements "
                      f"({share:.0f}% of the {COMBINATIONS} combinations + default), reach "
                      f"{median_range([100 * v for v in row['live_reach']], '+.1f')}%"))
        lines.append((f"{space}, quick (replayed)", f"{median_range(row['replay_measurements'], '.0f')} "
                      f"measurements, reach {median_range([100 * v for v in row['replay_reach']], '+.1f')}%"))
    emit(lines, figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
