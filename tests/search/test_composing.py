"""Ensembles and BLS models: the combined space of their composing models, its names, and the N-D hill climb."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.points import variant_points
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.config.search_settings import SearchMode
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.search.plan import plan_profile
from pytest_model_analyzer.search.quick import HillClimb
from pytest_model_analyzer.search.space import climb_coordinate
from tests.search.test_search import driver_with_points, scaling_measurer
from tests.support import MODELS

NARROW = ("run_config_search_max_instance_count: 2\nrun_config_search_max_model_batch_size: 4\n"
          "run_config_search_max_concurrency: 16\n")


def planned(extra: str, repository: Path = MODELS) -> ProfileConfig:
    return plan_profile(build_profile(yaml.safe_load(f"model_repository: {repository}\n{extra}"), cwd=Path.cwd()))


def test_an_ensemble_is_searched_over_its_composing_models_in_model_analyzers_names() -> None:
    model = planned("profile_models: add_sleep\n" + NARROW).models[0]
    assert model.search is SearchMode.QUICK  # brute is the default mode; Model Analyzer searches ensembles quick
    assert model.is_ensemble and [c.name for c in model.composing] == ["add", "sleep"]
    # 2 instance counts x 3 max_batch_sizes per composing model, both at once, and the default.
    assert len(model.variants) == 1 + 6 * 6
    default, first, last = model.variants[0], model.variants[1], model.variants[-1]
    assert default.name == "add_sleep_config_default"
    assert [(name, v.name) for name, v in default.composing] == [("add", "add_config_default"),
                                                                 ("sleep", "sleep_config_default")]
    assert first.name == "add_sleep_config_0" and last.name == "add_sleep_config_35"
    assert [v.name for _, v in first.composing] == ["add_config_0", "sleep_config_0"]
    assert [v.name for _, v in last.composing] == ["add_config_5", "sleep_config_5"]
    # The ensemble's own max_batch_size is its smallest composing model's; it has no other field to search.
    for variant in model.variants[1:]:
        sizes = [v.parameters["max_batch_size"] for _, v in variant.composing]
        assert variant.parameters == {"max_batch_size": min(sizes)}
    # The formula load comes from the first composing model: 2 x max_batch_size x instances (clamped to 16).
    add = dict(first.composing)["add"].parameters
    assert model.extra_loads[first.name] == (2 * add["max_batch_size"] * add["instance_group"][0]["count"],)
    assert climb_coordinate(model, first) == (0, 1, 0, 1)  # (log2 size, instances) of add, then of sleep
    assert {climb_coordinate(model, v) for v in model.variants[1:]} == set(
        itertools.product(range(3), (1, 2), range(3), (1, 2)))


def test_a_bls_model_searches_itself_first_then_the_models_it_names() -> None:
    profile = planned("profile_models: bls_add_sleep\nbls_composing_models: sleep, add\n"
                      "cpu_only_composing_models: add\n" + NARROW)
    model = profile.models[0]
    assert not model.is_ensemble and [c.name for c in model.composing] == ["sleep", "add"]
    assert dict((c.name, c.cpu_only) for c in model.composing)["add"]
    assert len(model.variants) == 1 + 6 ** 3
    variant = model.variants[1]
    assert variant.parameters["instance_group"] == [{"count": 1, "kind": "KIND_CPU"}]  # the BLS model's own
    assert len(climb_coordinate(model, variant)) == 6


def test_a_point_records_its_composing_configs_and_a_changed_one_makes_its_setup_new(tmp_path: Path) -> None:
    """Identity stays (a baseline still matches by name), the setup changes (nothing stored is reused for it)."""
    repository = tmp_path / "models"
    shutil.copytree(MODELS, repository)
    before = next(variant_points(*_first(planned("profile_models: add_sleep\n" + NARROW, repository))))
    assert [c["model"] for c in before.composing] == ["add", "sleep"]
    assert before.composing[1]["variant"] == "sleep_config_0"
    assert before.composing[1]["config"]["instance_group"][0]["count"] == 1
    config = repository / "sleep" / "config.pbtxt"
    config.write_text(config.read_text().replace('"20"', '"40"'))  # sleep_ms: a composing model's own change
    after = next(variant_points(*_first(planned("profile_models: add_sleep\n" + NARROW, repository))))
    assert after.id == before.id
    assert after.config == before.config  # the ensemble's own config did not change...
    assert after.setup != before.setup  # ...but what is measured did
    renamed = dataclasses.replace(before.variant, composing=tuple(
        (name, dataclasses.replace(variant, name=variant.name + "_renamed"))
        for name, variant in before.variant.composing))
    assert next(variant_points(before.model, renamed)).setup == before.setup  # names are not what is measured


def _first(profile: ProfileConfig) -> tuple[Any, Any]:
    model = profile.models[0]
    return model, model.variants[1]


def test_listed_variants_of_an_ensemble_load_its_composing_models_as_the_repository_has_them() -> None:
    model = planned("profile_models: {add_sleep: {model_config_parameters: {max_batch_size: [4]}}}\n"
                    "run_config_search_disable: true\n").models[0]
    assert model.search is SearchMode.DISABLED
    assert [v.name for v in model.variants] == ["add_sleep_config_default", "add_sleep_config_0"]
    assert all([c.name for _, c in v.composing] == ["add_config_default", "sleep_config_default"]
               for v in model.variants)


@pytest.mark.parametrize(("extra", "key", "words"), [
    ("profile_models: add_sleep, add\nbls_composing_models: add", "bls_composing_models", "profiles one model"),
    ("profile_models: bls_add_sleep\nbls_composing_models: add, nothing", "bls_composing_models",
     "composing model `nothing` not found"),
    ("profile_models: bls_add_sleep\nbls_composing_models: add_sleep", "bls_composing_models", "is an ensemble"),
    ("profile_models: bls_add_sleep\nbls_composing_models: bls_add_sleep", "bls_composing_models", "of itself"),
    ("profile_models: bls_add_sleep\nbls_composing_models: add\ncpu_only_composing_models: sleep",
     "cpu_only_composing_models", "`sleep` is not a composing model"),
    ("profile_models: add_sleep\nrun_config_search_mode: optuna", "run_config_search_mode", "not supported yet"),
    ("profile_models: bls_add_sleep\nbls_composing_models: add\nrun_config_search_mode: brute",
     "run_config_search_mode", "quick search only"),
    ("profile_models: add_sleep\ntriton_launch_mode: c_api", "triton_launch_mode", "c_api mode does not load"),
])
def test_composing_model_mistakes_are_one_error_naming_the_key(extra: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as error:
        planned(extra)
    assert error.value.key == key


def test_an_ensemble_step_that_names_a_missing_model_is_an_error_naming_the_ensemble(tmp_path: Path) -> None:
    repository = tmp_path / "models"
    shutil.copytree(MODELS, repository)
    shutil.rmtree(repository / "sleep")
    with pytest.raises(ConfigError, match="composing model `sleep` not found") as error:
        planned("profile_models: add_sleep\n", repository)
    assert error.value.key == "profile_models.add_sleep"


def test_quick_search_of_an_ensemble_climbs_all_its_dimensions_then_sweeps_the_top() -> None:
    model = planned("profile_models: add_sleep\nnum_configs_per_model: 2\n" + NARROW).models[0]
    driver = driver_with_points(model)
    # Throughput grows with sleep's instances and batch size only: add is never the bottleneck.
    fake = scaling_measurer(driver, lambda point: dict(point.variant.composing)["sleep"].parameters)
    outcome = driver.run_ahead("add_sleep", fake, top_count=2)
    best = {v.name for v in model.variants[1:] if climb_coordinate(model, v)[2:] == (2, 2)}
    assert outcome.top & best and "add_sleep_config_default" in outcome.top
    assert len(outcome.visited) < len(model.variants) / 2


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 4), st.data())
def test_the_climb_in_any_dimension_ends_at_a_home_no_neighbour_beats(dimensions: int, data: st.DataObject) -> None:
    """Steepest ascent over a random score table: it ends where no axis neighbour scores higher (a local
    maximum), it measures each coordinate at most once, and only coordinates of the space."""
    grid = set(itertools.product(*([range(3)] * dimensions)))
    scores = {c: data.draw(st.floats(0, 100), label=str(c)) for c in sorted(grid)}
    measured: list[tuple[int, ...]] = []

    def measure(c: tuple[int, ...]) -> float:
        measured.append(c)
        return scores[c]

    climb = HillClimb(grid, measure)
    climb.run()
    assert len(measured) == len(set(measured)) and set(measured) <= grid
    home = climb.visited_homes[-1]
    neighbours = [c for c in grid if sum(abs(a - b) for a, b in zip(c, home, strict=True)) == 1]
    assert all(scores[c] <= scores[home] for c in neighbours) or home in climb.visited_homes[:-1]
