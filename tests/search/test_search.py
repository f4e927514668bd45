"""Automatic search: Model Analyzer's space, its early exits, and the quick hill climb."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.points import variant_points
from pytest_model_analyzer.config.search_settings import SearchMode, SearchRanges
from pytest_model_analyzer.config.values import doubled
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.search import early_exit
from pytest_model_analyzer.search.driver import SearchDriver
from pytest_model_analyzer.search.plan import plan_profile
from pytest_model_analyzer.search.quick import HillClimb
from pytest_model_analyzer.search.space import automatic_parameters
from tests.support import MODELS

RANGES = SearchRanges(instance_counts=(1, 5), model_batch_sizes=(1, 128))


def test_doubled_lists_as_model_analyzer() -> None:
    assert len(doubled(1, 1024)) == 11 and len(doubled(16, 8192)) == 10
    assert doubled(0, 4) == [1, 2, 4]


def test_automatic_space_instance_count_outer_batch_size_inner() -> None:
    space = automatic_parameters({"max_batch_size": 8}, RANGES, cpu_only=True)
    assert len(space) == 5 * 8
    assert space[0] == {"instance_group": [{"count": 1, "kind": "KIND_CPU"}], "max_batch_size": 1,
                        "dynamic_batching": {}}
    assert space[8]["instance_group"][0]["count"] == 2 and space[8]["max_batch_size"] == 1
    unbatched = automatic_parameters({"max_batch_size": 0}, RANGES, cpu_only=False)
    assert unbatched == [{"instance_group": [{"count": n, "kind": "KIND_GPU"}]} for n in range(1, 6)]


def test_load_plateau_rule() -> None:
    assert early_exit.load_sweep_plateau([100, 200, 300]) is None  # fewer than 4
    assert early_exit.load_sweep_plateau([100, 200, 400, 800]) is None
    assert early_exit.load_sweep_plateau([100, 103, 104, 105]) == (
        "early exit: the last 4 loads gained 5.0% in throughput (<= 5%)")
    assert early_exit.load_sweep_plateau([10, 100, 103, 104, 104.5]) is not None  # only the last 4 count


@given(st.lists(st.floats(1, 1e4), min_size=4, max_size=12))
def test_plateau_only_when_the_last_four_gain_at_most_five_percent(values: list[float]) -> None:
    last = values[-4:]
    stops = early_exit.load_sweep_plateau(values) is not None
    assert stops == ((max(last) - last[0]) / last[0] <= 0.05)


def test_batch_size_sweep_stops_when_throughput_stops_rising() -> None:
    assert early_exit.batch_size_sweep_stopped([100.0], ["a"]) is None
    assert early_exit.batch_size_sweep_stopped([100.0, 150.0], ["a", "b"]) is None
    assert "did not raise" in early_exit.batch_size_sweep_stopped([100.0, 150.0, 150.0], ["a", "b", "c"])
    assert "failed to measure" in early_exit.batch_size_sweep_stopped([100.0, None], ["a", "b"])


def test_hill_climb_finds_the_peak_of_a_concave_surface_with_few_measurements() -> None:
    grid = {(i, j) for i in range(8) for j in range(1, 6)}
    peak = (5, 3)
    measured = []

    def measure(c: tuple[int, int]) -> float:
        measured.append(c)
        return -((c[0] - peak[0]) ** 2) - (c[1] - peak[1]) ** 2

    climb = HillClimb(grid, measure)
    climb.run()
    best = max(climb.scores, key=lambda c: climb.scores[c])
    assert best == peak
    assert len(measured) < len(grid) / 2


def profile(extra: str) -> object:
    import yaml

    return plan_profile(build_profile(yaml.safe_load(f"model_repository: {MODELS}\nprofile_models: sleep\n{extra}"),
                                      cwd=Path.cwd()))


class Evidence:
    """What the ledger tells the search, kept in plain collections."""

    def __init__(self) -> None:
        self.measured: dict = {}
        self.failed: set = set()

    def setup_measurement(self, point):
        return self.measured.get(point.setup)

    def has_failed(self, point) -> bool:
        return point.setup in self.failed


def driver_with_points(model) -> SearchDriver:
    driver = SearchDriver(evidence=Evidence())
    for variant in model.variants:
        for point in variant_points(model, variant):
            driver.register(point)
    return driver


def measure(driver: SearchDriver, point, throughput: float) -> None:
    driver.evidence.measured[point.setup] = Measurement(point.model.name, point.variant.name, point.batch_size,
                                               point.load_kind, point.load, {"perf_throughput": throughput},
                                               config_digest=point.config_digest,
                                               perf_analyzer_flags=point.perf_analyzer_flags)


def scaling_measurer(driver: SearchDriver, parameters_of):
    """A fake measurer: throughput 50 x max_batch_size x instances of the config `parameters_of(point)` picks
    (the repository's 8 and 1 where the config leaves them), stored as the ledger would store it."""
    def fake(point) -> Measurement:
        parameters = parameters_of(point)
        size = parameters.get("max_batch_size", 8)
        count = parameters.get("instance_group", [{"count": 1}])[0]["count"]
        m = Measurement(point.model.name, point.variant.name, point.batch_size, point.load_kind, point.load,
                        {"perf_throughput": 50.0 * size * count}, config_digest=point.config_digest,
                        perf_analyzer_flags=point.perf_analyzer_flags)
        driver.evidence.measured[point.setup] = m
        return m
    return fake


def test_brute_decides_each_point_from_the_measurements_before_it() -> None:
    model = profile("run_config_search_max_instance_count: 1\nrun_config_search_max_model_batch_size: 4\n"
                    "run_config_search_max_concurrency: 64\n").models[0]
    assert model.search is SearchMode.AUTOMATIC and model.early_exit_loads and model.early_exit_batch
    driver = driver_with_points(model)
    sweep = [p for key, p in driver.points.items() if key.variant == "sleep_config_0"]
    for point, throughput in zip(sweep[:4], [100, 102, 103, 104], strict=True):
        assert driver.skip_reason(point) is None
        measure(driver, point, throughput)
    assert "gained 4.0%" in driver.skip_reason(sweep[4])
    # A failure stops the rest of its sweep.
    other = [p for key, p in driver.points.items() if key.variant == "sleep_config_1"]
    driver.evidence.failed.add(other[0].setup)
    assert "failed, which stops this sweep" in driver.skip_reason(other[1])
    # config_2 (max_batch_size 4) after config_0 (best 104) and config_1 (failed): the sweep stopped.
    third = next(p for key, p in driver.points.items() if key.variant == "sleep_config_2")
    assert "failed to measure, which stops its max_batch_size sweep" in driver.skip_reason(third)


def test_explicit_loads_disable_the_load_early_exit_unless_asked() -> None:
    explicit = profile("concurrency: [1, 2, 4, 8, 16]\n").models[0]
    assert explicit.search is SearchMode.AUTOMATIC and not explicit.early_exit_loads
    enabled = profile("concurrency: [1, 2, 4, 8, 16]\nearly_exit_enable: true\n").models[0]
    assert enabled.early_exit_loads


def test_quick_climbs_then_sweeps_only_its_top_configurations() -> None:
    model = profile("run_config_search_mode: quick\nrun_config_search_max_instance_count: 3\n"
                    "run_config_search_max_model_batch_size: 8\nrun_config_search_max_concurrency: 64\n"
                    "num_configs_per_model: 2\n").models[0]
    assert model.search is SearchMode.QUICK
    driver = driver_with_points(model)
    outcome = driver.run_ahead("sleep", scaling_measurer(driver, lambda point: point.variant.parameters), top_count=2)
    best = next(v for v in model.variants if v.parameters.get("max_batch_size") == 8
                and v.parameters["instance_group"][0]["count"] == 3)
    # The top 2 and the default, as Model Analyzer's ConcurrencySweeper takes them.
    assert best.name in outcome.visited and best.name in outcome.top and "sleep_config_default" in outcome.top
    assert len(outcome.top) == 3  # the default (8 x 1 instance) is not among the two best
    assert len(outcome.visited) < len(model.variants)
    unvisited = next(v for v in model.variants if v.name not in outcome.visited)
    point = next(p for key, p in driver.points.items() if key.variant == unvisited.name)
    assert driver.skip_reason(point) == "quick search: the hill climb did not visit this configuration"
    visited_not_top = next(v for v in model.variants if v.name in outcome.visited and v.name not in outcome.top)
    sweep_point = next(p for key, p in driver.points.items()
                       if key.variant == visited_not_top.name and p.load not in model.extra_loads[visited_not_top.name])
    assert "not among the top 2" in driver.skip_reason(sweep_point)
