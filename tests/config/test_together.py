"""Models profiled together (run_config_profile_models_concurrently_enable): one combination, Model Analyzer's
names, each model's constraints on its own figures, and its weighted ranking."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pytest_model_analyzer.analysis.gates import violations
from pytest_model_analyzer.analysis.ranking import score
from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.config.search_settings import SearchMode
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.metrics import combined_metrics
from pytest_model_analyzer.infra import measurer as measurer_module
from pytest_model_analyzer.infra.measurer import Measurer
from pytest_model_analyzer.search.plan import plan_profile
from pytest_model_analyzer.search.space import climb_coordinate
from tests.support import MODELS

TOGETHER = """profile_models:
  add: {weighting: 1, objectives: {perf_throughput: 10}}
  sleep: {weighting: 3, objectives: {perf_latency_p99: 5, perf_throughput: 5}}
run_config_profile_models_concurrently_enable: true
run_config_search_max_instance_count: 2
run_config_search_max_model_batch_size: 2
run_config_search_max_concurrency: 8
constraints: {perf_latency_p99: {max: 100}}
"""


def planned(text: str) -> ProfileConfig:
    return plan_profile(build_profile(yaml.safe_load(f"model_repository: {MODELS}\n{text}"), cwd=Path.cwd()))


def test_models_profiled_together_are_one_combination_named_as_model_analyzer_names_it() -> None:
    (combination,) = planned(TOGETHER).models
    assert combination.name == "add,sleep" and [m.name for m in combination.members] == ["add", "sleep"]
    assert combination.search is SearchMode.QUICK  # brute is the default; Model Analyzer profiles together quick
    names = [variant.name for variant in combination.variants]
    assert names[0] == "add_config_default,sleep_config_default" and combination.variants[0].is_default
    assert len(names) == 1 + 4 * 4 and "add_config_3,sleep_config_0" in names
    # Both models' (log2 max_batch_size, instances) are climbed at once; the load is the first model's formula.
    variant = combination.variants[1]
    assert climb_coordinate(combination, variant) == (0, 1, 0, 1)
    add = dict(variant.composing)["add"].parameters
    assert combination.extra_loads[variant.name] == (2 * add["max_batch_size"] * add["instance_group"][0]["count"],)
    # Each model's constraints apply to its own figures.
    assert set(combination.constraints) == {"add/perf_latency_p99", "sleep/perf_latency_p99"}


def test_the_ranking_score_is_model_analyzers_weighted_sum_of_each_models_score() -> None:
    (combination,) = planned(TOGETHER).models
    assert combination.objectives == pytest.approx({"add/perf_throughput": 0.25, "sleep/perf_latency_p99": 0.375,
                                                    "sleep/perf_throughput": 0.375})
    members = {m.name: m for m in combination.members}

    @given(st.lists(st.floats(1, 1e4), min_size=8, max_size=8))
    def weighted(values: list[float]) -> None:
        a = {"add": {"perf_throughput": values[0], "perf_latency_p99": values[1]},
             "sleep": {"perf_throughput": values[2], "perf_latency_p99": values[3]}}
        b = {"add": {"perf_throughput": values[4], "perf_latency_p99": values[5]},
             "sleep": {"perf_throughput": values[6], "perf_latency_p99": values[7]}}
        expected = sum(members[name].weighting * score(a[name], b[name], members[name].objectives)
                       for name in a) / sum(m.weighting for m in members.values())
        assert score(combined_metrics(a), combined_metrics(b), combination.objectives) == pytest.approx(expected)

    weighted()


def test_combined_figures_sum_throughput_and_take_the_worst_latency() -> None:
    metrics = combined_metrics({"add": {"perf_throughput": 100.0, "perf_latency_p99": 2.0, "cpu_utilization": 5},
                                "sleep": {"perf_throughput": 40.0, "perf_latency_p99": 25.0}})
    assert metrics["perf_throughput"] == 140.0 and metrics["perf_latency_p99"] == 25.0
    assert metrics["add/perf_throughput"] == 100.0 and metrics["sleep/perf_latency_p99"] == 25.0
    assert "cpu_utilization" not in metrics  # only one model had it: no combined figure is made up
    assert violations(metrics, {"sleep/perf_latency_p99": planned(TOGETHER).models[0].constraints[
        "sleep/perf_latency_p99"]}) == []
    (combination,) = planned(TOGETHER.replace("max: 100", "max: 10")).models
    assert violations(metrics, combination.constraints) == ["sleep/perf_latency_p99 = 25 ms > max 10 ms"]


@pytest.mark.parametrize(("extra", "key", "words"), [
    ("run_config_search_mode: brute\n", "run_config_search_mode", "searched with quick search"),
    ("run_config_search_mode: optuna\n", "run_config_search_mode", "not supported yet"),
    ("triton_launch_mode: c_api\n", "triton_launch_mode", "one server"),
])
def test_profiling_together_refuses_what_it_cannot_do(extra: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as error:
        planned(TOGETHER + extra)
    assert error.value.key == key


@pytest.mark.parametrize(("models", "key", "words"), [
    ("add: {}\n  sleep: {parameters: {batch_sizes: [2]}}", "profile_models.sleep", "client batch sizes"),
    ("add: {}\n  sleep: {perf_analyzer_flags: {measurement-interval: 300}}", "profile_models.sleep",
     "perf_analyzer_flags"),
    ("add: {}\n  add_sleep: {}", "run_config_profile_models_concurrently_enable", "has composing models"),
    ("add: {weighting: 0}\n  sleep: {}", "profile_models.add.weighting", "positive"),
])
def test_models_that_cannot_share_a_measurement_are_named(models: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as error:
        planned(f"profile_models:\n  {models}\nrun_config_profile_models_concurrently_enable: true\n")
    assert error.value.key == key


def test_a_single_model_is_profiled_alone_even_when_asked_to_profile_together() -> None:
    (model,) = planned("profile_models: add\nrun_config_profile_models_concurrently_enable: true\n").models
    assert model.name == "add" and not model.members


def test_the_models_perf_analyzers_run_at_the_same_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run waits at a barrier for the other: run one after another, the first would wait in vain."""
    barrier = threading.Barrier(2, timeout=30)

    def fake_run(call: Any, *args: Any, **kwargs: Any) -> tuple[dict[str, float], float, int]:
        barrier.wait()
        return {"perf_throughput": float(len(call))}, 1.0, 0

    monkeypatch.setattr(measurer_module.perf_analyzer, "run", fake_run)
    measurer = Measurer(server=SimpleNamespace(), control=SimpleNamespace(), runtime=SimpleNamespace(),  # type: ignore[arg-type]
                        perf_analyzer=Path("perf_analyzer"), monitor=SimpleNamespace(),  # type: ignore[arg-type]
                        workdir=Path("."))
    results = measurer._run_together({"add": ("aa", {}), "sleep": ("sleep", {})},  # type: ignore[dict-item]
                                      time.monotonic() + 60)
    assert {name: result[0]["perf_throughput"] for name, result in results.items()} == {"add": 2.0, "sleep": 5.0}


def test_listed_variants_profiled_together_are_their_product() -> None:
    (combination,) = planned("profile_models:\n  add: {model_config_parameters: {max_batch_size: [2, 4]}}\n"
                             "  sleep: {}\nrun_config_profile_models_concurrently_enable: true\n"
                             "run_config_search_disable: true\n").models
    assert combination.search is SearchMode.DISABLED
    assert [v.name for v in combination.variants] == [
        ",".join(names) for names in itertools.product(["add_config_default", "add_config_0", "add_config_1"],
                                                       ["sleep_config_default"])]
