"""Units of work for xdist: families of variants that switch without a reload, twins together, prices."""

from __future__ import annotations

import yaml

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.points import profile_points
from pytest_model_analyzer.plugin.xdist.workload import LOAD_S, plan_workload, point_seconds
from pytest_model_analyzer.search.plan import plan_profile
from tests.support import MODELS

SWEEP = """
run_config_search_disable: true
profile_models:
  sleep:
    model_config_parameters:
      instance_group: [[{kind: KIND_CPU, count: 1}], [{kind: KIND_CPU, count: 2}]]
      dynamic_batching: [null, {}]
concurrency: [1, 4]
perf_analyzer_flags: {measurement-mode: time_windows, measurement-interval: 500}
"""


def points(extra: str) -> list:
    profile = plan_profile(build_profile(yaml.safe_load(f"model_repository: {MODELS}\n{extra}"),
                                         config_dir=MODELS.parent))
    return list(profile_points(profile))


def test_a_family_is_the_variants_that_differ_in_instance_groups_only() -> None:
    workload = plan_workload(points(SWEEP), stored=lambda setup: False)
    keys = {tail.split("::")[1]: unit.key for tail, unit in workload.units.items()}
    # The default (1 instance, no batching) and its twin config_0, with config_2 (2 instances): one family.
    assert keys["sleep_config_default"] == keys["sleep_config_0"] == keys["sleep_config_2"]
    assert keys["sleep_config_1"] == keys["sleep_config_3"] != keys["sleep_config_0"]
    assert all(unit.splittable for unit in workload.units.values())


def test_a_twin_and_a_stored_setup_cost_nothing() -> None:
    all_points = points(SWEEP)
    stored = {point.setup for point in all_points if point.variant.name == "sleep_config_3"}
    workload = plan_workload(all_points, stored=stored.__contains__)
    each = point_seconds({"measurement-mode": "time_windows", "measurement-interval": 500})
    cost = {tail: workload.point_cost[tail] for tail in workload.point_cost}
    assert cost["sleep::sleep_config_default::b1-c1"] == each
    assert cost["sleep::sleep_config_0::b1-c1"] == 0  # the default's twin: its measurement is reused
    assert cost["sleep::sleep_config_3::b1-c4"] == 0  # in the checkpoint already
    family = workload.units["sleep::sleep_config_0::b1-c1"]
    assert family.cost == LOAD_S + 4 * each  # default and config_2, two loads each; config_0 free
    assert workload.units["sleep::sleep_config_3::b1-c1"].cost == LOAD_S + 2 * each  # config_1 only


def test_a_search_that_decides_online_keeps_one_unsplittable_unit_per_variant() -> None:
    workload = plan_workload(points("run_config_search_max_instance_count: 2\n"
                                    "run_config_search_max_concurrency: 4\nprofile_models: sleep\n"),
                             stored=lambda setup: False)
    by_variant: dict[str, set[str]] = {}
    for tail, unit in workload.units.items():
        by_variant.setdefault(tail.split("::")[1], set()).add(unit.key)
        assert not unit.splittable
    assert all(len(keys) == 1 for keys in by_variant.values())
    assert len({key for keys in by_variant.values() for key in keys}) == len(by_variant)


def test_a_quick_or_optuna_search_is_one_unsplittable_unit_for_the_whole_model() -> None:
    """Both measure points of every variant when the model's first item runs: on a second worker, another of
    its variants would run the whole search again."""
    for mode in ("quick", "optuna"):
        workload = plan_workload(points(f"run_config_search_mode: {mode}\nrun_config_search_max_instance_count: 2\n"
                                        "run_config_search_max_model_batch_size: 4\nprofile_models: sleep\n"),
                                 stored=lambda setup: False)
        units = set(workload.units.values())
        assert len(units) == 1 and not next(iter(units)).splittable
        assert len({tail.split("::")[1] for tail in workload.units}) > 1  # every variant of the model
