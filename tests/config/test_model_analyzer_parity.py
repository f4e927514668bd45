"""The same YAML measures the same configurations as Model Analyzer, under the same names.

Each test pins one behaviour of Model Analyzer's own code (named in the test), checked here on the profile the
plugin builds: the variants, their order and names, the configs they ask the server for, and the loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.model_config import requested_config
from pytest_model_analyzer.config.profile import ModelSpec
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.search.plan import plan_profile
from tests.support import MODELS


def repository(tmp_path: Path, **configs: str) -> Path:
    for name, text in configs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.pbtxt").write_text(f'name: "{name}"\nbackend: "python"\n{text}')
    return tmp_path


def model(raw: dict[str, Any], cli: dict[str, Any] | None = None, gpus: bool = False) -> ModelSpec:
    profile = plan_profile(build_profile(raw, cli=cli, gpus_available=gpus))
    assert len(profile.models) == 1
    return profile.models[0]


def configs(spec: ModelSpec) -> dict[str, dict[str, Any]]:
    return {variant.name: requested_config(dict(spec.base_config), variant) for variant in spec.variants}


def test_profile_models_on_the_command_line_alone() -> None:
    """`model-analyzer profile --model-repository repo --profile-models vgg11`: its most basic invocation."""
    spec = model({"model_repository": str(MODELS)}, cli={"profile_models": "add"})
    assert spec.name == "add"


def test_variant_fields_merge_into_the_repository_config(tmp_path: Path) -> None:
    """BaseModelConfigGenerator._apply_value_to_dict: mappings merge recursively, the rest replaces."""
    repo = repository(tmp_path, m="max_batch_size: 8\ndynamic_batching { preferred_batch_size: [4, 8] }\n")
    spec = model({"model_repository": str(repo), "run_config_search_mode": "brute", "profile_models": {"m": {
        "model_config_parameters": {"dynamic_batching": {"max_queue_delay_microseconds": [100, 200]}}}}})
    batching = [config["dynamic_batching"] for config in configs(spec).values()]
    assert batching == [{"preferred_batch_size": [4, 8]},
                        {"preferred_batch_size": [4, 8], "max_queue_delay_microseconds": "100"},
                        {"preferred_batch_size": [4, 8], "max_queue_delay_microseconds": "200"}]


def test_automatic_search_keeps_an_existing_dynamic_batching(tmp_path: Path) -> None:
    repo = repository(tmp_path, m="max_batch_size: 8\ndynamic_batching { preferred_batch_size: [2] }\n")
    spec = model({"model_repository": str(repo), "profile_models": "m", "run_config_search_max_instance_count": 1,
                  "run_config_search_max_model_batch_size": 2})
    assert [config["dynamic_batching"] for config in configs(spec).values()] == [{"preferred_batch_size": [2]}] * 3


def test_a_sweep_inside_a_map_field(tmp_path: Path) -> None:
    """ConfigCommandProfile resolves a map's values (`"*"`) as sweepable fields of the value's type."""
    repo = repository(tmp_path, m='parameters { key: "param0" value { string_value: "keep" } }\n'
                                  'parameters { key: "param1" value { string_value: "x" } }\n')
    spec = model({"model_repository": str(repo), "run_config_search_mode": "brute", "profile_models": {"m": {
        "model_config_parameters": {"parameters": {"param1": {"string_value": ["foo", "bar"]}}}}}})
    assert {name: config["parameters"] for name, config in configs(spec).items()} == {
        "m_config_default": {"param0": {"string_value": "keep"}, "param1": {"string_value": "x"}},
        "m_config_0": {"param0": {"string_value": "keep"}, "param1": {"string_value": "foo"}},
        "m_config_1": {"param0": {"string_value": "keep"}, "param1": {"string_value": "bar"}},
    }


def test_a_sequence_model_sweeps_max_batch_size_without_dynamic_batching(tmp_path: Path) -> None:
    """ModelProfileSpec: supports_batching is max_batch_size > 0; supports_dynamic_batching excludes sequence
    models."""
    repo = repository(tmp_path, seq="max_batch_size: 4\nsequence_batching {}\n")
    spec = model({"model_repository": str(repo), "profile_models": {"seq": {"cpu_only": True}},
                  "run_config_search_min_model_batch_size": 8, "run_config_search_max_model_batch_size": 16,
                  "run_config_search_max_instance_count": 4})
    searched = list(configs(spec).values())[1:]
    assert [(c["instance_group"][0]["count"], c["max_batch_size"]) for c in searched] == [
        (count, size) for count in range(1, 5) for size in (8, 16)]
    assert not any("dynamic_batching" in config for config in searched)


def test_manual_variants_are_named_with_max_batch_size_as_the_inner_loop() -> None:
    """ManualModelConfigGenerator pops max_batch_size and walks it inside each other combination."""
    spec = model({"model_repository": str(MODELS), "run_config_search_mode": "brute", "profile_models": {"add": {
        "model_config_parameters": {"max_batch_size": [1, 4, 16],
                                    "instance_group": [{"kind": "KIND_GPU", "count": [1, 2]}]}}}})
    named = {v.name: (v.parameters["instance_group"][0]["count"], v.parameters["max_batch_size"])
             for v in spec.variants[1:]}
    assert named == {f"add_config_{i}": (count, size)
                     for i, (count, size) in enumerate((c, s) for c in (1, 2) for s in (1, 4, 16))}


def test_configs_that_come_out_the_same_share_a_name(tmp_path: Path) -> None:
    """ModelVariantNameManager compares the resulting configs, not the parameters written."""
    repo = repository(tmp_path, m="max_batch_size: 8\n")
    spec = model({"model_repository": str(repo), "run_config_search_mode": "brute", "profile_models": {"m": {
        "model_config_parameters": {"max_batch_size": [8, 4, 8], "dynamic_batching": [None]}}}})
    assert [(v.name, v.parameters) for v in spec.variants] == [
        ("m_config_default", {}), ("m_config_0", {"max_batch_size": 8}), ("m_config_1", {"max_batch_size": 4})]


@pytest.mark.parametrize("key", ["run_config_search_max_request_rate", "run_config_search_min_request_rate"])
def test_a_request_rate_bound_alone_switches_the_load_sweep_to_request_rates(key: str) -> None:
    """ConfigCommandProfile._using_request_rate / is_request_rate_specified."""
    spec = model({"model_repository": str(MODELS), "profile_models": "add"}, cli={key: 64})
    low = 64 if key.endswith("min_request_rate") else 16
    high = 8192 if key.endswith("min_request_rate") else 64
    assert spec.concurrency == () and spec.request_rate[0] == low and spec.request_rate[-1] <= high


@pytest.mark.parametrize(("written", "gpus", "expected"),
                         [(False, False, True), (None, False, True), (False, True, False), (True, True, True)])
def test_cpu_only_is_forced_on_a_machine_without_gpus(written: bool | None, gpus: bool, expected: bool) -> None:
    """ConfigCommandProfile._autofill_values: cpu_only = model's cpu_only or (no GPU and not remote)."""
    options = {} if written is None else {"cpu_only": written}
    spec = model({"model_repository": str(MODELS), "profile_models": {"add": options}}, gpus=gpus)
    assert spec.cpu_only is expected


@pytest.mark.parametrize("key", ["checkpoint_directory", "export_path"])
def test_an_output_directory_is_made_only_inside_one_that_exists(key: str, tmp_path: Path) -> None:
    """ConfigCommandProfile: `checkpoint_directory` and `export_path` take parent_path_validator."""
    raw = {"model_repository": str(MODELS), "profile_models": "add"}
    with pytest.raises(ConfigError) as refused:
        build_profile({**raw, key: str(tmp_path / "missing" / "out")})
    assert str(refused.value) == (f"{key}: the parent directory of {tmp_path / 'missing' / 'out'} does not exist "
                                  f"({tmp_path / 'missing'})")
    model({**raw, key: str(tmp_path / "out")})  # made by the run


@pytest.mark.parametrize(("loads", "early_exit"), [
    ({"concurrency": [1, 2, 4, 8]}, False),
    ({"request_rate": [1, 2, 4, 8]}, True),
    ({"concurrency": [1, 2, 4, 8], "early_exit_enable": True}, True),
    ({}, True),
    ({"run_config_search_disable": True, "request_rate": [1, 2, 4, 8]}, True),
    ({"run_config_search_disable": True}, False),  # one load: nothing to stop
])
def test_only_listed_concurrencies_keep_the_load_sweep_from_stopping_on_its_plateau(loads: dict[str, Any],
                                                                                    early_exit: bool) -> None:
    """ModelRunConfigGenerator._determine_early_exit_enables: `early_exit_enable or not concurrency_specified`,
    so a listed request rate sweep stops on its plateau too."""
    spec = model({"model_repository": str(MODELS), "profile_models": "add", **loads})
    assert spec.early_exit_loads is early_exit


def test_a_null_only_parameter_set_is_a_variant_of_its_own_as_in_model_analyzer() -> None:
    """ModelVariantNameManager names only an empty parameter set `_config_default`; GeneratorUtils keeps `None`
    values, so `{dynamic_batching: None}` is not empty there and takes the next number, as here."""
    spec = model({"model_repository": str(MODELS), "run_config_search_mode": "brute", "profile_models": {"add": {
        "model_config_parameters": {"dynamic_batching": [None]}}}})
    assert [variant.name for variant in spec.variants] == ["add_config_default", "add_config_0"]
